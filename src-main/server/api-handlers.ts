import { randomUUID } from 'node:crypto';
import { join, resolve, sep } from 'node:path';
import { API_VERSION, type TestbedAvailability } from '../api/api-schema';
import { readManifest } from '../record/recording-reader';
import { ApiCallError } from './api-error';
import type { ApiConnection } from './api-connection';
import type { ApiHandlers } from './api-router';
import { describeRecording, listLabs, listRecordingSummaries } from './catalogs';
import { PlaybackSession } from './playback/playback-session';
import type { RunRegistry } from './run/run-registry';
import { openTerminalBackend } from './terminal/open-terminal';
import { TerminalSession } from './terminal/terminal-session';
import { readFile } from 'node:fs/promises';
import { checkReportSchema, RUN_FILES, type CheckResult } from '../record/schema';
import { runStandalonePreflight } from '../preflight/standalone-preflight';
import type { PassphraseRequests } from './passphrase-requests';

export interface HandlerContext {
  readonly runs: RunRegistry;
  readonly runsDir: string;
  readonly labsDir: string;
  readonly version: string;
  readonly desktop: boolean;
  readonly notices: readonly string[];
  readonly testbeds: readonly TestbedAvailability[];
  /** Passphrase questions of runs' SSH connects: asked of every page, as runs are shared. */
  readonly runPassphrases: PassphraseRequests;
}

/** The api's methods, each on the calling connection. */
export function apiHandlers(ctx: HandlerContext): ApiHandlers<ApiConnection> {
  return {
    hello: ({ apiVersion }, conn) => {
      if (apiVersion !== API_VERSION) {
        throw new ApiCallError(
          'bad-request',
          `the page speaks api version ${apiVersion}, this server ${API_VERSION}; reload the page (or rebuild with npm run build)`,
        );
      }
      // A run may be waiting for a passphrase that the page which started it never answered
      // (it was reloaded or closed): this page can.
      ctx.runPassphrases.replayTo(conn);
      return {
        apiVersion: API_VERSION,
        faultlabVersion: ctx.version,
        runsDir: resolve(ctx.runsDir),
        desktop: ctx.desktop,
        notices: [...ctx.notices],
        testbeds: ctx.testbeds.map((t) => ({ ...t })),
      };
    },
    'labs.list': () => listLabs(ctx.labsDir),
    'preflight.run': async (p, conn) => {
      const release = conn.claimPreflight();
      try {
        return await runStandalonePreflight(
          p.testbed === 'ssh'
            ? {
                testbed: 'ssh',
                inventory: p.inventory,
                knownHostsFile: p.knownHosts,
                acceptHostKeys: p.acceptHostKeys,
                askPassphrase: (keyPath, attempt) => conn.passphrases.ask(keyPath, attempt),
              }
            : { testbed: 'netns', nodes: p.nodes },
        );
      } catch (err) {
        throw new ApiCallError('failed', `preflight: ${(err as Error).message}`);
      } finally {
        release();
      }
    },
    'recordings.list': () => listRecordingSummaries(ctx.runsDir),
    'runs.list': () => ({ runs: ctx.runs.list() }),
    'run.start': (setup) =>
      ctx.runs.startFromSetup(setup, (keyPath, attempt) =>
        ctx.runPassphrases.ask(keyPath, attempt),
      ),
    'run.stop': ({ runId }) => {
      ctx.runs.get(runId).stop('stopped from the dashboard');
      return {};
    },
    'run.fault': ({ runId, fault }) => ctx.runs.get(runId).fault(fault),
    'run.subscribe': ({ runId }, conn) => {
      const session = ctx.runs.get(runId);
      const result = session.subscribe(conn);
      conn.subscriptions.set(runId, () => session.unsubscribe(conn.id));
      return result;
    },
    'run.unsubscribe': ({ runId }, conn) => {
      conn.subscriptions.get(runId)?.();
      conn.subscriptions.delete(runId);
      return {};
    },
    'playback.open': async ({ recordingId }, conn) => {
      conn.checkRoom('playbacks');
      const runDir = recordingDir(ctx.runsDir, recordingId);
      const manifest = await readManifest(runDir).catch((err: Error) => {
        throw new ApiCallError('not-found', err.message);
      });
      const checks = await readChecks(runDir);
      const summary = await describeRecording(
        ctx.runsDir,
        runDir,
        checks === null
          ? manifest.endedAt === undefined
            ? 'unknown'
            : 'unchecked'
          : checks.verdict,
      );
      const playbackId = randomUUID();
      const session = new PlaybackSession(
        playbackId,
        runDir,
        manifest,
        summary,
        checks?.checks ?? [],
        conn,
      );
      conn.playbacks.set(playbackId, session);
      try {
        return await session.open();
      } catch (err) {
        session.close();
        conn.playbacks.delete(playbackId);
        throw err;
      }
    },
    'playback.seek': ({ playbackId, t_ms }, conn) => conn.playback(playbackId).seek(t_ms),
    'playback.play': ({ playbackId, speed }, conn) => {
      conn.playback(playbackId).play(speed);
      return {};
    },
    'playback.pause': ({ playbackId }, conn) => ({
      playhead_ms: conn.playback(playbackId).pause(),
    }),
    'playback.close': ({ playbackId }, conn) => {
      conn.playback(playbackId).close();
      conn.playbacks.delete(playbackId);
      return {};
    },
    'messages.window': async ({ source, from_ms, to_ms, limit }, conn) => {
      if (to_ms < from_ms) {
        throw new ApiCallError('bad-request', `to_ms ${to_ms} is before from_ms ${from_ms}`);
      }
      if (source.kind === 'run') {
        return ctx.runs.get(source.runId).messageWindow(from_ms, to_ms, limit);
      }
      return conn.playback(source.playbackId).messageWindow(from_ms, to_ms, limit);
    },
    'terminal.open': async ({ target, cols, rows }, conn) => {
      conn.checkRoom('terminals');
      const terminalId = randomUUID();
      const { backend, title } = await openTerminalBackend(target, { cols, rows }, ctx.runs);
      if (conn.store.isDisposed) {
        // The page went away while the shell was opening: nobody would ever close it.
        backend.close();
        throw new ApiCallError('conflict', 'the page disconnected while the terminal opened');
      }
      const terminal = new TerminalSession(terminalId, title, backend, conn, () =>
        conn.terminals.delete(terminalId),
      );
      conn.terminals.set(terminalId, terminal);
      return { terminalId, title };
    },
    'terminal.input': ({ terminalId, data }, conn) => {
      conn.terminal(terminalId).input(data);
      return {};
    },
    'terminal.resize': ({ terminalId, cols, rows }, conn) => {
      conn.terminal(terminalId).resize(cols, rows);
      return {};
    },
    'terminal.ack': ({ terminalId, bytes }, conn) => {
      conn.terminal(terminalId).ack(bytes);
      return {};
    },
    'ssh.passphrase': ({ requestId, passphrase }, conn) => {
      if (conn.passphrases.has(requestId)) conn.passphrases.answer(requestId, passphrase);
      else ctx.runPassphrases.answer(requestId, passphrase);
      return {};
    },
    'terminal.close': ({ terminalId }, conn) => {
      conn.terminal(terminalId).close();
      conn.terminals.delete(terminalId);
      return {};
    },
  };
}

/** A recording id is a run directory relative to the runs folder; nothing outside it. */
export function recordingDir(runsDir: string, recordingId: string): string {
  const root = resolve(runsDir);
  const dir = resolve(root, recordingId);
  if (recordingId.includes('\0') || !dir.startsWith(root + sep)) {
    throw new ApiCallError(
      'bad-request',
      `recording id "${recordingId}" is not a run directory inside ${root}; take ids from recordings.list`,
    );
  }
  return dir;
}

async function readChecks(
  runDir: string,
): Promise<{ verdict: 'pass' | 'fail' | 'unknown'; checks: CheckResult[] } | null> {
  try {
    const parsed = checkReportSchema.safeParse(
      JSON.parse(await readFile(join(runDir, RUN_FILES.checks), 'utf8')),
    );
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
