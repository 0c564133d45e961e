import { describe, expect, it } from 'vitest';
import type { ApiPush } from '../../../src-main/api/api-schema';
import type { PushTarget } from '../../../src-main/server/push-target';
import {
  MAX_TERMINAL_CHUNK_CHARS,
  MAX_UNACKED_CHARS,
  TerminalFlow,
} from '../../../src-main/server/terminal/terminal-flow';
import { TerminalSession } from '../../../src-main/server/terminal/terminal-session';
import { PtyBackend } from '../../../src-main/server/terminal/pty-backend';

describe('terminal flow control (ack-based, Tabby-style)', () => {
  it('splits output into chunks of at most 100 KB', () => {
    const chunks: string[] = [];
    const flow = new TerminalFlow(
      (c) => chunks.push(c),
      () => undefined,
      () => undefined,
    );
    flow.output('x'.repeat(MAX_TERMINAL_CHUNK_CHARS * 2 + 5));
    expect(chunks.map((c) => c.length)).toEqual([
      MAX_TERMINAL_CHUNK_CHARS,
      MAX_TERMINAL_CHUNK_CHARS,
      5,
    ]);
  });

  it('pauses above 5 × 100 KB unacknowledged and resumes when acks bring it under', () => {
    const events: string[] = [];
    const flow = new TerminalFlow(
      () => undefined,
      () => events.push('pause'),
      () => events.push('resume'),
    );
    flow.output('x'.repeat(MAX_UNACKED_CHARS));
    expect(events).toEqual([]);
    flow.output('y');
    expect(events).toEqual(['pause']);
    expect(flow.isPaused).toBe(true);
    flow.output('z'.repeat(1000)); // already paused: no second pause
    expect(events).toEqual(['pause']);
    flow.ack(500);
    expect(events).toEqual(['pause']);
    flow.ack(600);
    expect(events).toEqual(['pause', 'resume']);
    expect(flow.unacknowledged).toBe(MAX_UNACKED_CHARS + 1001 - 1100);
    flow.ack(10 * MAX_UNACKED_CHARS);
    expect(flow.unacknowledged).toBe(0);
  });
});

describe('terminal session (a real pty)', () => {
  it('runs a shell, echoes input, resizes, and is killed on close', async () => {
    const pushes: ApiPush[] = [];
    const target: PushTarget = { id: 't', push: (p) => pushes.push(p), congested: () => false };
    let exited = false;
    const term = new TerminalSession(
      'T1',
      'local',
      new PtyBackend({ cwd: process.cwd(), env: { FAULTLAB_NODE: 'n3' }, cols: 80, rows: 24 }),
      target,
      () => (exited = true),
    );
    const output = (): string =>
      pushes.map((p) => (p.push === 'terminal-data' ? p.data : '')).join('');
    try {
      term.input('echo "node=$FAULTLAB_NODE"\r');
      const deadline = Date.now() + 10_000;
      while (!output().includes('node=n3')) {
        if (Date.now() > deadline) throw new Error(`no echo from the shell; got: ${output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      term.resize(100, 30);
      term.ack(output().length);
    } finally {
      term.close();
    }
    const deadline = Date.now() + 5_000;
    while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(exited).toBe(true);
    expect(pushes.some((p) => p.push === 'terminal-exit' && p.terminalId === 'T1')).toBe(true);
  });
});
