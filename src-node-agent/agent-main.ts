import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ControlServer, type ControlHandlers } from './control/control-server';
import { EventBuffer } from './control/event-buffer';
import type { AgentEvent } from './control/frames';
import type { LoadedAgentConfig } from './control/load-agent-config';
import { AgentLog } from './runtime/agent-log';
import { wallClock_ms } from './runtime/clock';
import { DurableStore } from './runtime/durable-store';
import { nextIncarnation } from './runtime/incarnation';
import { LinkFilter } from './runtime/link-filter';
import { MessageTracer } from './runtime/message-trace';
import { PeerTransport } from './runtime/peer-transport';
import { RateLimit } from './runtime/rate-limit';
import { ReplicaHost } from './runtime/replica-host';
import { Telemetry } from './runtime/telemetry';
import { WorkloadRunner } from './runtime/workload-runner';

export interface AgentProcessHooks {
  readonly version: string;
  /** End the process: graceful shutdowns pass 0, a replica that cannot be trusted 70. */
  readonly exit: (code: number) => void;
}

export interface RunningAgent {
  readonly incarnation: number;
  readonly log: AgentLog;
  /** Stop everything in order and exit with `code`. Idempotent. */
  shutdown(reason: string, code?: number): Promise<void>;
  /** Log and exit 70 at once: nothing of this process can be trusted any more. */
  fatal(what: string, err: unknown): void;
}

/** Graceful shutdown gets this long before the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * The composition root of one agent process: incarnation, event buffer, control server,
 * link filter, transport, and then a replica (with its stable storage) or a workload runner,
 * plus telemetry. Everything created is disposed by `shutdown`, in reverse order.
 */
export async function startAgent(
  loaded: LoadedAgentConfig,
  hooks: AgentProcessHooks,
): Promise<RunningAgent> {
  const { config, stack, params } = loaded;
  mkdirSync(config.workDir, { recursive: true, mode: 0o700 });
  const log = new AgentLog(join(config.workDir, 'agent.log'));
  const incarnation = nextIncarnation(config.workDir);
  log.line(
    `starting ${config.role} ${config.node} of run ${config.runId} (stack ${stack.name}), ` +
      `incarnation ${incarnation}, pid ${process.pid}, agent ${hooks.version}, node ${process.version}`,
  );

  const cleanups: (() => void | Promise<void>)[] = [];
  let stopping = false;
  const fatal = (what: string, err: unknown): void => {
    const e = err instanceof Error ? err : new Error(String(err));
    log.line(`FATAL ${what}: ${e.stack ?? e.message}; exiting 70`);
    hooks.exit(70);
  };
  const shutdown = async (reason: string, code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.line(`shutting down: ${reason}`);
    const force = setTimeout(() => {
      log.line(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms; exiting anyway`);
      hooks.exit(code);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        log.line(`shutdown step failed: ${String(err)}`);
      }
    }
    clearTimeout(force);
    log.line(`stopped (exit ${code})`);
    hooks.exit(code);
  };

  try {
    const events = new EventBuffer({
      dir: config.workDir,
      limit: config.eventBufferLimit,
      now_ms: wallClock_ms,
    });
    cleanups.push(() => events.close());
    const filter = new LinkFilter();
    // Buffered from the first event on; the control server streams them once it is up.
    const emit = (e: AgentEvent): void => {
      events.push(e);
    };
    const warnLimit = new RateLimit(20);
    const warn = (text: string): void => {
      if (warnLimit.allow()) emit({ kind: 'log', level: 'warn', text });
    };
    const onFatal = (err: Error): void => fatal(`${config.node} cannot continue`, err);

    const secret = Buffer.from(config.secretHex, 'hex');
    const serverIds = config.servers.map((s) => s.id);
    const self = config.servers.find((s) => s.id === config.node);
    const listen = config.role === 'replica' && self !== undefined ? self : null;
    let host: ReplicaHost | null = null;
    let runner: WorkloadRunner | null = null;
    const authLimit = new RateLimit(20);
    // Disposed after the transport closes (cleanups run in reverse) so its last gap is told.
    const traceConfig = config.traceMessages;
    const trace =
      traceConfig === null
        ? null
        : new MessageTracer({
            self: config.node,
            incarnation,
            maxPerSecond: traceConfig.maxPerSecond,
            emit,
          });
    if (trace !== null) {
      cleanups.push(() => trace.dispose());
      log.line(`tracing messages, at most ${traceConfig?.maxPerSecond} events a second`);
    }

    const transport = new PeerTransport({
      self: config.node,
      runId: config.runId,
      secret,
      listen: listen === null ? null : { host: listen.host, port: listen.port },
      servers: config.servers,
      filter,
      trace,
      onMessage: (from, raw) => host?.deliverMessage(from, raw),
      onRequest: (raw) => host?.deliverRequest(raw),
      onReply: (from, raw) => runner?.deliverReply(from, raw),
      onUnauthenticated: (remote, reason) => {
        if (authLimit.allow()) emit({ kind: 'unauthenticated', remote, reason });
      },
      onWarning: warn,
    });
    cleanups.push(() => transport.close());

    let recovered = false;
    let telemetry: Telemetry;
    if (config.role === 'replica') {
      const store = await DurableStore.open(config.workDir, config.durability);
      cleanups.push(() => store.close());
      for (const w of store.warnings) {
        log.line(w);
        warn(w);
      }
      const replica = new ReplicaHost({
        stack,
        config: params,
        self: config.node,
        servers: serverIds,
        network: transport,
        storage: store,
        emit,
        onFatal,
      });
      host = replica;
      cleanups.push(() => replica.stop());
      telemetry = new Telemetry({
        interval_ms: config.telemetryInterval_ms,
        emit,
        takeLinkStats: () => transport.takeLinkStats(),
        takeRejected: () => replica.takeRejected(),
      });
      await transport.start();
      recovered = store.loaded.size > 0;
      replica.start(recovered ? store.loaded : null);
    } else {
      let latency: (us: number) => void = () => undefined;
      const workload = new WorkloadRunner({
        stack,
        config: params,
        node: config.node,
        incarnation,
        servers: serverIds,
        network: transport,
        emit,
        onLatency: (us) => latency(us),
        onFatal,
      });
      runner = workload;
      cleanups.push(() => workload.dispose());
      telemetry = new Telemetry({
        interval_ms: config.telemetryInterval_ms,
        emit,
        takeLinkStats: () => transport.takeLinkStats(),
        takeRejected: () => workload.takeRejected(),
      });
      latency = (us) => telemetry.recordLatency(us);
      await transport.start();
    }
    telemetry.start();
    cleanups.push(() => telemetry.dispose());

    const handlers: ControlHandlers = {
      shutdown: () => void shutdown('the orchestrator asked', 0),
      ...(host !== null
        ? {
            setBehaviour: (behaviour: string | null) => {
              (host as ReplicaHost).setBehaviour(behaviour);
              log.line(`behaviour: ${behaviour ?? 'honest'} (operator)`);
            },
          }
        : {}),
      ...(runner !== null
        ? {
            startWorkload: (spec) => {
              (runner as WorkloadRunner).start(spec);
              log.line(`workload started: ${spec.clients} ${spec.mode}-loop clients`);
            },
            leaseExpired: () => {
              const workload = runner as WorkloadRunner;
              if (!workload.running) return;
              // Load that nobody records is only noise for the next run on these nodes.
              log.line('stopping the workload: no orchestrator is recording it');
              void workload.stop(0);
            },
            stopWorkload: (drain_ms) => {
              const workload = runner as WorkloadRunner;
              void workload.stop(drain_ms).then((unknown) => {
                log.line(
                  `workload stopped: ${workload.completed} operations completed in total, ` +
                    `${unknown} unknown, ${workload.skipped} open-loop turns skipped (client busy)`,
                );
              });
            },
          }
        : {}),
    };
    const server = new ControlServer({
      socketPath: config.controlSocket,
      node: config.node,
      version: hooks.version,
      incarnation,
      lease_ms: config.lease_ms,
      orphanExit_ms: config.orphanExit_ms,
      events,
      filter,
      log,
      handlers,
    });
    await server.start();
    cleanups.push(() => server.close());

    const address = transport.address();
    const listening = address === null ? null : `${address.host}:${address.port}`;
    emit({ kind: 'started', role: config.role, recovered, listen: listening });
    log.line(
      `started: control socket ${config.controlSocket}` +
        (listening === null ? '' : `, peers on ${listening}`) +
        (config.role === 'replica'
          ? `, ${recovered ? 'recovered from' : 'fresh'} stable storage`
          : ''),
    );
  } catch (err) {
    // Half-started: release what exists (ports, sockets, files), then report.
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // the original error is the one worth reporting
      }
    }
    log.line(`could not start: ${(err as Error).message}`);
    throw err;
  }
  return { incarnation, log, shutdown, fatal };
}
