import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunInfo } from '../../../src-main/api/api-schema';
import { ApiClient } from '../../../src-renderer/api/client';
import { useConnectionStore } from '../../../src-renderer/stores/connection';
import { useLiveRunStore } from '../../../src-renderer/stores/live-run';
import { usePlaybackStore } from '../../../src-renderer/stores/playback';
import { routePushes } from '../../../src-renderer/stores/push-router';
import { socketFactory, type FakeSocket } from './fake-socket';
import { crash, emptySnapshot, leaderElected, metrics } from './records';

const info: RunInfo = {
  runId: 'r1',
  name: 'paxos-leader-crash',
  stack: 'paxos',
  testbed: 'local',
  phase: 'running',
  startedAt: '2026-11-22T03:00:00Z',
  duration_ms: 30_000,
  nodes: [
    { id: 'n1', role: 'replica' },
    { id: 'n2', role: 'replica' },
    { id: 'n3', role: 'replica' },
    { id: 'w1', role: 'workload' },
  ],
  recordingId: null,
  notices: [],
  problems: [],
  byzantineBehaviours: [],
  setupLog: [],
  preflight: null,
};

/** Lets pending promise continuations run (the client resolves calls in microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('stores over a real ApiClient and a fake server socket', () => {
  let socket: FakeSocket;
  let client: ApiClient;

  beforeEach(() => {
    setActivePinia(createPinia());
    // Frames are flushed by the test through the mocked requestAnimationFrame.
    vi.stubGlobal(
      'requestAnimationFrame',
      (cb: () => void) => setTimeout(cb, 0) as unknown as number,
    );
    vi.stubGlobal('cancelAnimationFrame', (h: number) => clearTimeout(h));
    const factory = socketFactory();
    client = new ApiClient({ url: 'ws://x/api', createSocket: factory.create });
    useConnectionStore().attach(client);
    routePushes(client);
    client.connect();
    socket = factory.sockets[0]!;
    socket.serverOpens();
  });

  afterEach(() => {
    client.dispose();
    vi.unstubAllGlobals();
  });

  it('starts a run, follows it from the snapshot and folds pushed records', async () => {
    const live = useLiveRunStore();
    // hello is the first request after open; answer it.
    socket.answer({
      apiVersion: 1,
      faultlabVersion: 'x',
      runsDir: '/r',
      desktop: false,
      notices: [],
      testbeds: [],
    });
    const started = live.start({ labPath: 'labs/paxos-leader-crash/lab.yaml' });
    expect(socket.lastRequest()).toMatchObject({
      method: 'run.start',
      params: { labPath: 'labs/paxos-leader-crash/lab.yaml' },
    });
    socket.answer(info);
    await settle();
    expect(socket.lastRequest()).toMatchObject({
      method: 'run.subscribe',
      params: { runId: 'r1' },
    });
    // A batch that arrives before the subscribe answer is held, not lost.
    const stream = { kind: 'run', runId: 'r1' } as const;
    socket.serverSends({ push: 'records', stream, records: [leaderElected('n1', 1, 50)] });
    socket.answer({ info, snapshot: emptySnapshot() });
    await expect(started).resolves.toBe(true);
    socket.serverSends({
      push: 'records',
      stream,
      records: [metrics('w1', 250, 10), crash('n1', 300)],
    });
    // Records for another run are not folded into this one.
    socket.serverSends({
      push: 'records',
      stream: { kind: 'run', runId: 'other' },
      records: [crash('n2', 310)],
    });
    await new Promise((r) => setTimeout(r, 5));
    const view = live.view!;
    expect(view.currentLeader()).toEqual({ node: 'n1', view: 1 });
    expect(view.nodeList().find((n) => n.id === 'n1')?.status).toBe('crashed');
    expect(view.nodeList().find((n) => n.id === 'n2')?.status).toBe('starting');
    expect(view.seriesData().throughput.v).toEqual([40]);
    expect(live.version).toBeGreaterThan(0);
  });

  it('follows a run started elsewhere, once, when none of its own is active', async () => {
    const live = useLiveRunStore();
    socket.answer({
      apiVersion: 1,
      faultlabVersion: 'x',
      runsDir: '/r',
      desktop: false,
      notices: [],
      testbeds: [],
    });
    await settle();
    const before = socket.sent.length;
    socket.serverSends({ push: 'run-info', info: { ...info, runId: 'r2', phase: 'starting' } });
    socket.serverSends({ push: 'run-info', info: { ...info, runId: 'r2', phase: 'running' } });
    const subscribes = socket
      .requests()
      .slice(before)
      .filter((r) => r.method === 'run.subscribe');
    expect(subscribes).toEqual([expect.objectContaining({ params: { runId: 'r2' } })]);
    expect(live.info?.phase).toBe('running');
    socket.answer({ info: { ...info, runId: 'r2' }, snapshot: emptySnapshot() });
    await settle();
    // A third run starting while r2 is active does not take the page away from r2.
    socket.serverSends({ push: 'run-info', info: { ...info, runId: 'r3', phase: 'starting' } });
    expect(live.info?.runId).toBe('r2');
  });

  it('reports a fault the server refused with what was attempted', async () => {
    const live = useLiveRunStore();
    live.info = info;
    const done = live.fault({ type: 'crash', node: 'n9' }, 'Crash n9');
    socket.serverSends({
      id: socket.lastRequest().id,
      ok: false,
      error: { code: 'bad-request', message: 'no node n9 in this run' },
    });
    await done;
    expect(live.actionError).toBe('Crash n9 failed: run.fault: no node n9 in this run');
  });

  it('debounces drags into one playback.seek and drops records streamed before it lands', async () => {
    vi.useFakeTimers();
    try {
      const playback = usePlaybackStore();
      const opened = playback.open('paxos/2026');
      await vi.advanceTimersByTimeAsync(0);
      expect(socket.lastRequest().method).toBe('playback.open');
      socket.answer({
        info: {
          playbackId: 'p1',
          recording: {
            recordingId: 'paxos/2026',
            runId: 'r1',
            name: 'paxos',
            startedAt: '2026-11-22T03:00:00Z',
            duration_ms: 30_000,
            stack: 'paxos',
            nodes: 3,
            faults: 1,
            verdict: 'pass',
            runDir: '/runs/paxos/2026',
          },
          nodes: info.nodes,
          faultTimes_ms: [10_000],
          records: 100,
          checks: [],
        },
        snapshot: emptySnapshot(),
      });
      await vi.runAllTimersAsync();
      await expect(opened).resolves.toBe(true);
      const before = socket.sent.length;
      playback.seek(5_000);
      playback.seek(9_000);
      playback.seek(12_000);
      expect(playback.playhead_ms).toBe(12_000);
      // Records from the old position are ignored while the seek is pending.
      socket.serverSends({
        push: 'records',
        stream: { kind: 'playback', playbackId: 'p1' },
        records: [crash('n3', 1)],
      });
      expect(playback.view!.nodeList().find((n) => n.id === 'n3')?.status).toBe('starting');
      await vi.advanceTimersByTimeAsync(200);
      const seeks = socket
        .requests()
        .slice(before)
        .filter((r) => r.method === 'playback.seek');
      expect(seeks).toHaveLength(1);
      expect(seeks[0]!.params).toEqual({ playbackId: 'p1', t_ms: 12_000 });
      const snapshot = emptySnapshot();
      snapshot.nodes = snapshot.nodes.map((n) => (n.id === 'n1' ? { ...n, status: 'crashed' } : n));
      socket.answer({ snapshot });
      await vi.runAllTimersAsync();
      expect(playback.seeking).toBe(false);
      expect(playback.view!.nodeList().find((n) => n.id === 'n1')?.status).toBe('crashed');
    } finally {
      vi.useRealTimers();
    }
  });
});
