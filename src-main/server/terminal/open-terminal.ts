import type { TerminalTarget } from '../../api/api-schema';
import { ApiCallError } from '../api-error';
import type { RunRegistry } from '../run/run-registry';
import { PtyBackend } from './pty-backend';
import { SshShellBackend } from './ssh-shell-backend';
import type { TerminalBackend } from './terminal-backend';

/** A POSIX shell single-quoted word. */
function quoteForShell(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shell a terminal.open asks for: the user's shell here; for a node of a local run, a
 * shell here in the node's work dir; for a node on a netns or SSH host, a login shell on that
 * host over the testbed's own SSH link, started in the node's work dir.
 */
export async function openTerminalBackend(
  target: TerminalTarget,
  size: { cols: number; rows: number },
  runs: RunRegistry,
): Promise<{ backend: TerminalBackend; title: string }> {
  if (target.kind === 'local') {
    const cwd = process.env['HOME'] ?? process.cwd();
    return { backend: new PtyBackend({ cwd, env: {}, ...size }), title: 'local shell' };
  }
  const session = runs.get(target.runId);
  const place = session.source.nodeTerminal(target.node);
  if (place === null) {
    throw new ApiCallError(
      'not-found',
      `node ${target.node} of run ${target.runId} is not provisioned (yet); wait until the run is running`,
    );
  }
  const env = { FAULTLAB_NODE: target.node, FAULTLAB_RUN: target.runId };
  if (place.kind === 'local') {
    return {
      backend: new PtyBackend({ cwd: place.workDir, env, ...size }),
      title: `${target.node} (local testbed: shell in its work dir, same machine)`,
    };
  }
  // The user's login shell on the host, started in the node's work dir with the node's
  // identity in its environment (as the agent has it). The account's shell runs the command
  // and may be csh or fish: one `exec /bin/sh -c '…'` is what every shell reads alike.
  const script =
    `cd ${quoteForShell(place.workDir)} || echo ${quoteForShell(`faultlab: the node's work dir ${place.workDir} is gone; starting in the home directory`)}; ` +
    `export FAULTLAB_NODE=${quoteForShell(target.node)} FAULTLAB_RUN=${quoteForShell(target.runId)}; ` +
    'exec "${SHELL:-/bin/sh}" -l';
  const command = `exec /bin/sh -c ${quoteForShell(script)}`;
  const release = place.claimSession();
  let shell;
  try {
    shell = await place.connection.shell({ cols: size.cols, rows: size.rows, command });
    shell.stream.once('close', release);
  } catch (err) {
    release();
    throw new ApiCallError(
      'failed',
      `cannot open a shell on ${target.node} (host ${place.host}, ${place.address}): ${(err as Error).message}; check that the run's SSH link to the host is up`,
    );
  }
  return {
    backend: new SshShellBackend(shell),
    title: `${target.node} on ${place.host} (${place.address}, over SSH)`,
  };
}
