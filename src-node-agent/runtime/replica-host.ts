import type { AgentEvent } from '../control/frames';
import type { NodeId, TimerName } from '../core/ids';
import { guardInput } from '../core/input-guard';
import type {
  AnyStack,
  ClientReply,
  ClientRequest,
  Context,
  Persisted,
  Protocol,
  ReplicaStatus,
} from '../core/protocol';
import { monotonic_ms } from './clock';
import { RejectionReporter } from './rejection-reporter';

/** What the replica host needs from the network. */
export interface ReplicaNetwork {
  sendMessage(to: NodeId, msg: unknown): void;
  /** Optional: the same message to several peers, serialized once. */
  broadcastMessage?(to: readonly NodeId[], msg: unknown): void;
  sendReply(reply: ClientReply<unknown>): void;
}

/** What the replica host needs from stable storage (DurableStore). */
export interface ReplicaStorage {
  set(key: string, value: unknown): void;
  flush(): Promise<void>;
  /** False when `flush` never waits for a disk (memory mode): effects then go out at once. */
  readonly writes?: boolean;
}

export interface ReplicaHostOptions {
  readonly stack: AnyStack;
  /** Stack parameters, already parsed with the stack's schema. */
  readonly config: unknown;
  readonly self: NodeId;
  readonly servers: readonly NodeId[];
  readonly network: ReplicaNetwork;
  readonly storage: ReplicaStorage;
  readonly emit: (event: AgentEvent) => void;
  /**
   * The replica can no longer be trusted (a stack exception, a failed disk write): report
   * and stop the process. The agent exits 70; tests observe it.
   */
  readonly onFatal: (err: Error) => void;
}

/**
 * Steps whose effects may wait for one flush at most. A disk that stalls this long behind
 * the replica's inputs is a failed disk: better to stop than to buffer without bound.
 */
export const MAX_HELD_STEPS = 100_000;

type Effect =
  | { readonly kind: 'send'; readonly to: NodeId; readonly msg: unknown }
  | { readonly kind: 'broadcast'; readonly msg: unknown }
  | { readonly kind: 'reply'; readonly reply: ClientReply<unknown> };

/**
 * The real driver of one replica: the same stack code the simulator runs, with real timers,
 * TCP and disk. Each input is one step; the effects of a step apply in the fixed order the
 * Context promises — persist first, then sends and replies. A step that persisted (or that
 * follows an unflushed one) holds its sends and replies until the store's group commit has
 * made the state durable, so no message ever claims state a crash could lose.
 */
export class ReplicaHost {
  private protocol: Protocol<unknown, unknown> | null = null;
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private readonly others: NodeId[];
  private readonly serverSet: ReadonlySet<NodeId>;
  /** Effects of the step being run; null outside a step. */
  private effects: Effect[] | null = null;
  private persistedInStep = false;
  /** Flush barriers not yet passed; later steps queue behind the last one to keep order. */
  private pendingBarriers = 0;
  private lastBarrier: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly rejections: RejectionReporter;

  constructor(private readonly options: ReplicaHostOptions) {
    this.others = options.servers.filter((id) => id !== options.self);
    this.serverSet = new Set(options.servers);
    this.rejections = new RejectionReporter(options.emit);
    if (!this.serverSet.has(options.self)) {
      throw new Error(
        `replica ${options.self} is not in the server list (${options.servers.join(', ')})`,
      );
    }
  }

  /** First start (`persisted` null or empty) runs `init`, otherwise `recover`. */
  start(persisted: Persisted | null): void {
    if (this.protocol !== null) throw new Error(`replica ${this.options.self} already started`);
    const protocol = this.options.stack.createReplica(this.context(), this.options.config);
    this.protocol = protocol;
    this.step(() => {
      if (persisted === null || persisted.size === 0) protocol.init();
      else protocol.recover(persisted);
    });
  }

  /** The operator switches the replica's behaviour (core/faults.ts 'byzantine'). */
  setBehaviour(behaviour: string | null): void {
    const protocol = this.protocol;
    if (protocol === null || this.stopped) {
      throw new Error(`replica ${this.options.self} is not running`);
    }
    const set = protocol.setBehaviour?.bind(protocol);
    if (set === undefined) {
      throw new Error(`stack ${this.options.stack.name} has no Byzantine behaviours`);
    }
    this.step(() => set(behaviour));
  }

  /** A protocol message from peer `from`, straight off the wire. */
  deliverMessage(from: NodeId, raw: unknown): void {
    const protocol = this.protocol;
    if (protocol === null || this.stopped) return;
    if (!this.serverSet.has(from)) {
      this.rejections.reject(from, `sender ${from} is not a server of this cluster`);
      return;
    }
    const guarded = guardInput(this.options.stack, 'message', raw);
    if (!guarded.ok) {
      this.rejections.reject(from, guarded.reason);
      return;
    }
    this.step(() => protocol.onMessage(from, guarded.value));
  }

  /** A client request, straight off the wire. */
  deliverRequest(raw: unknown): void {
    const protocol = this.protocol;
    if (protocol === null || this.stopped) return;
    const guarded = guardInput(this.options.stack, 'request', raw);
    if (!guarded.ok) {
      const client = (raw as { client?: unknown } | null)?.client;
      this.rejections.reject(
        typeof client === 'string' ? client.slice(0, 64) : '?',
        guarded.reason,
      );
      return;
    }
    this.step(() => protocol.onClientRequest(guarded.value as ClientRequest<unknown>));
  }

  /** Rejected inputs since the previous call (telemetry). */
  takeRejected(): number {
    return this.rejections.take();
  }

  inspect(): ReplicaStatus | null {
    return this.protocol?.inspect() ?? null;
  }

  /** Stop acting: timers cancelled, later inputs and held effects ignored. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Resolves once every held send has left (or been discarded after stop). */
  async settled(): Promise<void> {
    while (this.pendingBarriers > 0) await this.lastBarrier.catch(() => undefined);
  }

  private step(run: () => void): void {
    if (this.stopped) return;
    const effects: Effect[] = [];
    this.effects = effects;
    this.persistedInStep = false;
    try {
      run();
    } catch (err) {
      this.effects = null;
      this.fatal(err, 'the stack threw while handling an input');
      return;
    }
    this.effects = null;
    if (this.persistedInStep && this.options.storage.writes !== false) {
      this.hold(effects, this.options.storage.flush());
    } else if (this.pendingBarriers > 0) {
      this.hold(effects, this.lastBarrier);
    } else {
      this.dispatch(effects);
    }
  }

  private hold(effects: Effect[], barrier: Promise<void>): void {
    if (this.pendingBarriers >= MAX_HELD_STEPS) {
      this.fatal(
        new Error(`${MAX_HELD_STEPS} steps are waiting for stable storage to flush`),
        'stable storage stalled (check the disk of the work dir)',
      );
      return;
    }
    this.pendingBarriers++;
    this.lastBarrier = barrier;
    barrier.then(
      () => {
        this.pendingBarriers--;
        this.dispatch(effects);
      },
      (err: unknown) => {
        this.pendingBarriers--;
        this.fatal(err, 'stable storage failed');
      },
    );
  }

  private dispatch(effects: readonly Effect[]): void {
    if (this.stopped) return;
    const network = this.options.network;
    for (const e of effects) {
      if (e.kind === 'send') {
        network.sendMessage(e.to, e.msg);
      } else if (e.kind === 'broadcast') {
        if (network.broadcastMessage !== undefined) network.broadcastMessage(this.others, e.msg);
        else for (const to of this.others) network.sendMessage(to, e.msg);
      } else {
        network.sendReply(e.reply);
      }
    }
  }

  private fatal(err: unknown, what: string): void {
    if (this.stopped) return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.stop();
    this.options.emit({
      kind: 'log',
      level: 'error',
      text:
        `replica ${this.options.self} (${this.options.stack.name}): ${what}; stopping, since ` +
        `its state can no longer be trusted: ${error.stack ?? error.message}`,
    });
    this.options.onFatal(error);
  }

  private effect(e: Effect): void {
    if (this.stopped) return;
    if (this.effects !== null) {
      this.effects.push(e);
    } else {
      // Outside a step (cannot happen with a well-behaved stack): keep the order anyway.
      this.hold([e], this.lastBarrier);
    }
  }

  private context(): Context<unknown, unknown> {
    const { self, servers } = this.options;
    return {
      self,
      servers,
      send: (to, msg) => this.effect({ kind: 'send', to, msg }),
      broadcast: (msg) => this.effect({ kind: 'broadcast', msg }),
      setTimer: (name, after_ms) => {
        if (this.stopped) return;
        const old = this.timers.get(name);
        if (old !== undefined) clearTimeout(old);
        const timer = setTimeout(
          () => {
            if (this.timers.get(name) !== timer) return;
            this.timers.delete(name);
            const protocol = this.protocol;
            if (protocol !== null) this.step(() => protocol.onTimer(name));
          },
          Math.max(0, after_ms),
        );
        this.timers.set(name, timer);
      },
      cancelTimer: (name) => {
        const old = this.timers.get(name);
        if (old !== undefined) clearTimeout(old);
        this.timers.delete(name);
      },
      reply: (reply) => this.effect({ kind: 'reply', reply }),
      persist: (key, value) => {
        if (this.stopped) return;
        this.options.storage.set(key, value);
        this.persistedInStep = true;
      },
      emit: (event) => {
        if (!this.stopped) this.options.emit({ kind: 'protocol', event: { ...event } });
      },
      now: monotonic_ms,
      randomInt: (bound) => (bound <= 1 ? 0 : Math.floor(Math.random() * bound)),
      random: () => Math.floor(Math.random() * 4294967296) / 4294967296,
    };
  }
}
