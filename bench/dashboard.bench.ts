/**
 * Dashboard performance (issue 4), in Debian's Chromium driven by playwright-core:
 *
 * 1. Ingest: a synthetic run streams 10,000 protocol events/s plus 50 metric series through the
 *    real server to the live view for 60 s (FAULTLAB_BENCH_INGEST_MS to change). Frame times
 *    are measured in the page with requestAnimationFrame (Performance API timestamps); goal:
 *    frames under 33 ms; the JS heap must stay bounded (start and end printed).
 * 2. A 1-hour recording (generated: 5 replicas, 1,000 events/s, a fault every 2 minutes) is
 *    opened and scrubbed: time to first paint of the playback view, each seek's time, and the
 *    longest frame while scrubbing (a freeze would show there).
 *
 * Needs a built renderer (`npm run build`) and /usr/bin/chromium.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startApiServer, type ApiServer } from '../src-main/server/api-server';
import { SyntheticRunSource } from '../src-main/server/run/synthetic-run-source';
import { writeSyntheticRecording } from './support/synthetic-run';

const REPO = resolve(import.meta.dirname, '..');
const RENDERER = join(REPO, 'out', 'renderer');
const INGEST_MS = Number(process.env['FAULTLAB_BENCH_INGEST_MS'] ?? 60_000);
const RECORDING_MS = Number(process.env['FAULTLAB_BENCH_RECORDING_MS'] ?? 3_600_000);

interface FrameStats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  over33: number;
}

/** Frame intervals in the page for `ms`, from requestAnimationFrame timestamps. */
function measureFrames(page: Page, ms: number): Promise<FrameStats> {
  // A string, not a function: tsx's name-keeping helper (__name) does not exist in the page.
  return page.evaluate(`(async () => {
    const deltas = [];
    let last = performance.now();
    const end = last + ${ms};
    await new Promise((done) => {
      const tick = (now) => {
        deltas.push(now - last);
        last = now;
        if (now < end) requestAnimationFrame(tick);
        else done();
      };
      requestAnimationFrame(tick);
    });
    deltas.sort((a, b) => a - b);
    const at = (q) => deltas[Math.min(deltas.length - 1, Math.floor(deltas.length * q))] ?? 0;
    return {
      count: deltas.length,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: deltas[deltas.length - 1] ?? 0,
      over33: deltas.filter((d) => d > 33).length,
    };
  })()`) as Promise<FrameStats>;
}

async function heapMB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  return usedSize / 1e6;
}

function formatFrames(f: FrameStats): string {
  return (
    `${f.count} frames: p50 ${f.p50.toFixed(1)} ms, p95 ${f.p95.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, ` +
    `max ${f.max.toFixed(0)} ms, ${f.over33} over 33 ms (${((f.over33 / Math.max(1, f.count)) * 100).toFixed(1)}%)`
  );
}

async function ingest(server: ApiServer, browser: Browser): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));
  await page.goto(server.url);
  await page.waitForSelector('[data-testid=nav-live]');
  server.runs.start(
    new SyntheticRunSource({
      eventsPerSecond: 10_000,
      metricNodes: 50,
      duration_ms: INGEST_MS + 10_000,
      name: 'ingest-bench',
    }),
  );
  await page.click('[data-testid=nav-live]');
  await page.waitForSelector('[data-testid=run-phase][data-phase=running]', { timeout: 10_000 });
  await page.waitForTimeout(2_000);
  const heapStart = await heapMB(page);
  const frames = await measureFrames(page, INGEST_MS);
  const heapEnd = await heapMB(page);
  console.log(
    `ingest: 10,000 events/s + 50 metric series for ${(INGEST_MS / 1000).toFixed(0)} s into the live view`,
  );
  console.log(`  ${formatFrames(frames)}  (goal: frames under 33 ms)`);
  console.log(
    `  JS heap after GC: ${heapStart.toFixed(1)} MB at the start, ${heapEnd.toFixed(1)} MB at the end`,
  );
  await page.close();
}

async function longRecording(server: ApiServer, browser: Browser, runsDir: string): Promise<void> {
  const runDir = join(runsDir, 'synthetic', 'one-hour');
  const generated_ms = performance.now();
  const { records, bytes } = await writeSyntheticRecording(runDir, RECORDING_MS, {
    replicas: 5,
    eventsPerSecond: 1_000,
    faultEvery_ms: 120_000,
    seed: 1,
  });
  console.log(
    `recording: ${(RECORDING_MS / 60_000).toFixed(0)} min, ${records.toLocaleString('en')} records, ` +
      `${(bytes / 1e6).toFixed(0)} MB, generated in ${((performance.now() - generated_ms) / 1000).toFixed(1)} s`,
  );
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.url);
  await page.click('[data-testid=nav-recordings]');
  await page.waitForSelector('[data-testid^=open-recording-]', { timeout: 30_000 });
  const opened = performance.now();
  await page.click('[data-testid^=open-recording-]');
  await page.waitForSelector('[data-testid=scrubber]', { timeout: 60_000 });
  await page.waitForSelector('[data-testid^=topology-node-n1]', { timeout: 60_000 });
  // First paint of the playback view: the frame after the topology is in the DOM.
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => r(null)))');
  const firstPaint_ms = performance.now() - opened;
  console.log(`  time to first paint of the playback view: ${firstPaint_ms.toFixed(0)} ms`);

  const framesWhileScrubbing = measureFrames(page, 20_000);
  const targets = [0.5, 0.9, 0.33, 0.75, 0.1].map((f) => Math.round(RECORDING_MS * f));
  for (const t of targets) {
    const started = performance.now();
    await page.fill('[data-testid=scrubber-time-input]', (t / 1000).toFixed(1));
    await page.click('[data-testid=scrubber-go]');
    await page.waitForFunction(
      `(() => { const el = document.querySelector('[data-testid=playhead]'); ` +
        `return el !== null && Math.abs(Number(el.getAttribute('data-t')) - ${t}) < 1000; })()`,
      undefined,
      { timeout: 120_000 },
    );
    console.log(
      `  seek to ${(t / 60_000).toFixed(1)} min: ${(performance.now() - started).toFixed(0)} ms`,
    );
  }
  const started = performance.now();
  await page.click('[data-testid=next-fault]');
  console.log(
    `  jump to the next fault: clicked in ${(performance.now() - started).toFixed(0)} ms`,
  );
  const frames = await framesWhileScrubbing;
  console.log(`  while scrubbing: ${formatFrames(frames)} (longest frame = worst freeze)`);
  await page.close();
}

export default async function run(): Promise<void> {
  if (!existsSync(join(RENDERER, 'index.html'))) {
    throw new Error(`${RENDERER}/index.html is missing: run \`npm run build\` first`);
  }
  if (!existsSync('/usr/bin/chromium')) {
    throw new Error('/usr/bin/chromium is missing: apt-get install -y chromium');
  }
  const runsDir = await mkdtemp(join(tmpdir(), 'faultlab-dashboard-bench-'));
  const server = await startApiServer({
    port: 0,
    runsDir,
    labsDir: join(REPO, 'labs'),
    rendererRoot: RENDERER,
    version: 'bench',
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    await ingest(server, browser);
    await longRecording(server, browser, runsDir);
  } finally {
    await browser.close();
    await server.close('benchmark done');
    await rm(runsDir, { recursive: true, force: true });
  }
}
