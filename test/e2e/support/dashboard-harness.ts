/// <reference lib="dom" />
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * What the dashboard end-to-end tests share: a real `faultlab serve` (its own runs folder, the
 * repo's labs) and Debian's Chromium driven by playwright-core. Screenshots go to
 * test-artifacts/screenshots/ (ignored by git), for people to look at.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const REPO = resolve(import.meta.dirname, '../../..');
export const SHOTS = join(REPO, 'test-artifacts', 'screenshots');
export const VIEWPORT = { width: 1280, height: 800 } as const;

/** Why the e2e tests cannot run here, or null when they can. */
export function e2eUnavailable(): string | null {
  if (!existsSync(CHROMIUM)) {
    return `${CHROMIUM} is missing: apt-get install -y chromium (the e2e tests drive Debian's Chromium)`;
  }
  return null;
}

/** The built renderer, built now when missing (a fresh clone running only the tests). */
export function ensureRendererBuilt(): void {
  if (existsSync(join(REPO, 'out', 'renderer', 'index.html'))) return;
  const built = spawnSync('npx', ['electron-vite', 'build'], {
    cwd: REPO,
    stdio: 'inherit',
    timeout: 180_000,
  });
  if (built.status !== 0) {
    throw new Error(
      `building the dashboard failed (npx electron-vite build exited ${built.status})`,
    );
  }
}

export interface Served {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly runsDir: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/**
 * Start `faultlab serve` on a free port; resolves once it prints its URL. `env` is added to
 * the server's environment (e.g. XDG_CONFIG_HOME, so a test's accepted host keys land in a
 * temporary FaultLab known-hosts file instead of the user's).
 */
export async function startServe(env: Record<string, string> = {}): Promise<Served> {
  const runsDir = await mkdtemp(join(tmpdir(), 'faultlab-e2e-runs-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO, 'src-main/cli/faultlab.ts'),
      'serve',
      '--port',
      '0',
      '--runs-dir',
      runsDir,
      '--labs-dir',
      join(REPO, 'labs'),
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`faultlab serve printed no URL within 30 s:\n${output}`)),
      30_000,
    );
    const look = (): void => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(output);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        done(m[1]);
      }
    };
    child.stdout?.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`faultlab serve exited ${code} before printing its URL:\n${output}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token') ?? '',
    runsDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(runsDir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Poll `probe` until it returns a value that is not undefined, or fail naming `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeout_ms: number,
  every_ms = 100,
): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeout_ms} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, every_ms));
  }
}

/**
 * Visible text boxes on the page that overlap one another (leaf elements with their own text,
 * ignoring ones nested in each other). A finished view has none. `within`: only the text
 * inside this element counts (a modal dialog lies over the page on purpose).
 */
export async function overlappingText(page: Page, within = 'body'): Promise<string[]> {
  return page.evaluate((rootSelector) => {
    const boxes: { el: Element; r: DOMRect; text: string }[] = [];
    const root = document.querySelector(rootSelector) ?? document.body;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      const el = node as HTMLElement;
      const own = Array.from(el.childNodes)
        .filter((c) => c.nodeType === Node.TEXT_NODE)
        .map((c) => c.textContent?.trim() ?? '')
        .join(' ')
        .trim();
      if (own === '' || el.closest('svg') !== null) continue;
      const style = getComputedStyle(el);
      if (
        style.visibility === 'hidden' ||
        style.display === 'none' ||
        Number(style.opacity) === 0
      ) {
        continue;
      }
      const range = document.createRange();
      range.selectNodeContents(el);
      // What of the text is on screen: clipped by the element itself (line clamps, ellipses)
      // and by every scrolling or clipping ancestor.
      let r = range.getBoundingClientRect();
      const clip = (c: DOMRect): void => {
        const left = Math.max(r.left, c.left);
        const top = Math.max(r.top, c.top);
        const right = Math.min(r.right, c.right);
        const bottom = Math.min(r.bottom, c.bottom);
        r = new DOMRect(left, top, Math.max(0, right - left), Math.max(0, bottom - top));
      };
      for (let p: HTMLElement | null = el; p !== null; p = p.parentElement) {
        const ps = getComputedStyle(p);
        if (ps.overflowX !== 'visible' || ps.overflowY !== 'visible')
          clip(p.getBoundingClientRect());
      }
      clip(new DOMRect(0, 0, innerWidth, innerHeight));
      if (r.width < 1 || r.height < 1) continue;
      boxes.push({ el, r, text: own.slice(0, 40) });
    }
    const out: string[] = [];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
        const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
        const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
        // A pixel or two of touching line boxes is not an overlap a person sees.
        if (w > 2 && h > 2) out.push(`"${a.text}" overlaps "${b.text}"`);
      }
    }
    return out;
  }, within);
}

/** A served dashboard with one Chromium page on it, collecting the page's errors. */
export interface OpenDashboard {
  readonly served: Served;
  readonly browser: Browser;
  readonly page: Page;
  /** Uncaught exceptions and console errors of the page, for `expect(...).toEqual([])`. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/** Build the renderer if needed, start `faultlab serve` (with `env`) and open a page on it. */
export async function openDashboard(env: Record<string, string> = {}): Promise<OpenDashboard> {
  ensureRendererBuilt();
  const served = await startServe(env);
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    await served.stop();
    throw err;
  }
  const page = await browser.newPage({ viewport: VIEWPORT });
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  return {
    served,
    browser,
    page,
    pageErrors,
    async close() {
      await browser.close();
      // Stopping the server stops its runs, which tears their testbeds down.
      await served.stop();
    },
  };
}
