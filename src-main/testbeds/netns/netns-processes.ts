import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Processes of a testbed are identified by PID plus the kernel's start time of that PID, so a
 * PID recorded by a crashed run and since reused by an unrelated process is never signalled.
 */
export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  readonly startTime: string;
}

interface ProcStat {
  readonly state: string;
  readonly startTime: string;
}

function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces or ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  return state === undefined || startTime === undefined ? null : { state, startTime };
}

export function identityOf(pid: number): ProcessIdentity | null {
  const stat = readStat(pid);
  return stat === null ? null : { pid, startTime: stat.startTime };
}

/** Alive = the PID exists, is not a zombie, and is still the process we recorded. */
export function isAlive(who: ProcessIdentity): boolean {
  const stat = readStat(who.pid);
  return (
    stat !== null && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === who.startTime
  );
}

export function commandLineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}

/**
 * SIGTERM, then SIGKILL after `grace_ms`; resolves once the process is gone. Returns false
 * when it was already gone (nothing signalled).
 */
export async function terminate(who: ProcessIdentity, grace_ms = 2_000): Promise<boolean> {
  if (!isAlive(who)) return false;
  const send = (signal: NodeJS.Signals): void => {
    try {
      process.kill(who.pid, signal);
    } catch {
      // ESRCH: it exited between the check and the signal.
    }
  };
  send('SIGTERM');
  const deadline = Date.now() + grace_ms;
  while (isAlive(who) && Date.now() < deadline) await sleep(20);
  if (isAlive(who)) {
    send('SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (isAlive(who) && Date.now() < killDeadline) await sleep(20);
    if (isAlive(who)) {
      throw new Error(
        `netns testbed: process ${who.pid} survived SIGKILL for 5 s (stuck in the kernel?); ` +
          `check it with: ps -o pid,stat,cmd -p ${who.pid}`,
      );
    }
  }
  return true;
}
