#!/usr/bin/env node
// `npm start`: launch the desktop app if the Electron binary is installed; otherwise explain
// what is missing and start web mode instead (`faultlab serve` on an ephemeral port, which
// prints the URL with its token).
//
// The binary is deliberately located by hand instead of `require('electron')`: when the binary
// is missing, electron's index.js tries to download it on the spot, which on our build
// machines hangs or fails with an unhelpful stack trace.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** Build outputs the app needs, and the sources they are built from. */
const OUTPUTS = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
const SOURCES = ['src-main', 'src-renderer', 'src-node-agent', 'electron.vite.config.ts'];

/**
 * @returns {{ found: true, path: string } | { found: false, looked: string, reason: string }}
 */
function locateElectronBinary() {
  const fromEnv = process.env.ELECTRON_EXEC_PATH;
  if (fromEnv) {
    return existsSync(fromEnv)
      ? { found: true, path: fromEnv }
      : { found: false, looked: fromEnv, reason: 'ELECTRON_EXEC_PATH points at a missing file' };
  }
  let packageDir;
  try {
    packageDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return {
      found: false,
      looked: 'node_modules/electron',
      reason: 'the electron package is not installed (run `npm ci`)',
    };
  }
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) {
    return {
      found: false,
      looked: relative(root, join(packageDir, 'dist')),
      reason: `${relative(root, pathFile)} is missing: the binary was never downloaded`,
    };
  }
  const executable = readFileSync(pathFile, 'utf8').trim();
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || join(packageDir, 'dist');
  const binary = join(distDir, executable);
  return existsSync(binary)
    ? { found: true, path: binary }
    : { found: false, looked: binary, reason: 'the file named by path.txt does not exist' };
}

/**
 * Newest modification time under `path`; 0 if it does not exist.
 * @param {string} path
 * @returns {number}
 */
function newestMtimeMs(path) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) {
    return stats.mtimeMs;
  }
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) {
    newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

function buildIsStale() {
  const outputTimes = OUTPUTS.map((output) => newestMtimeMs(join(root, output)));
  if (outputTimes.some((time) => time === 0)) {
    return true;
  }
  const newestSource = Math.max(...SOURCES.map((source) => newestMtimeMs(join(root, source))));
  return newestSource > Math.min(...outputTimes);
}

function explainMissingElectron(/** @type {{ looked: string, reason: string }} */ missing) {
  console.error(
    [
      'faultlab: cannot start the desktop app: the Electron binary is missing.',
      `  looked for: ${missing.looked}`,
      `  why:        ${missing.reason}`,
      '',
      'The Electron binary is not part of the npm package; it is downloaded from GitHub',
      'releases, outside the npm registry, so `npm ci` alone does not provide it.',
      'Where the network allows, install it with:',
      '    npx install-electron          (or: node node_modules/electron/install.js)',
      'Behind a mirror, set ELECTRON_MIRROR first; or point ELECTRON_OVERRIDE_DIST_PATH',
      '(or ELECTRON_EXEC_PATH) at an existing Electron build of the same version.',
      '',
      'Meanwhile: web mode, the same dashboard in your browser (`faultlab serve`).',
    ].join('\n'),
  );
}

/** Run a child to completion with inherited stdio; resolves with its exit code. */
function run(/** @type {string[]} */ args) {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
  });
}

/** Web mode: build the dashboard if needed, then `faultlab serve --port 0` until Ctrl-C. */
async function startWebMode() {
  const rendererStale =
    newestMtimeMs(join(root, 'out/renderer/index.html')) === 0 ||
    newestMtimeMs(join(root, 'src-renderer')) > newestMtimeMs(join(root, 'out/renderer'));
  if (rendererStale) {
    console.log('faultlab: building the dashboard (electron-vite build)…');
    const built = await run([electronViteCli(), 'build']);
    if (built !== 0) {
      console.error(
        'faultlab: the dashboard build failed (see above); starting the server anyway: the page ' +
          'will say it is not built, the api works',
      );
    }
  }
  console.log('faultlab: starting web mode…');
  const tsxCli = join(dirname(require.resolve('tsx/package.json')), 'dist', 'cli.mjs');
  const child = spawn(
    process.execPath,
    [tsxCli, 'src-main/cli/faultlab.ts', 'serve', '--port', process.env.FAULTLAB_PORT ?? '0'],
    { cwd: root, stdio: 'inherit' },
  );
  // Ctrl-C reaches the child through the terminal; SIGTERM to us must be passed on so the
  // server stops its runs (healing faults) before exiting.
  const forward = (/** @type {NodeJS.Signals} */ signal) => child.kill(signal);
  process.on('SIGTERM', forward);
  process.on('SIGINT', () => undefined);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function electronViteCli() {
  return join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
}

const electron = locateElectronBinary();
if (!electron.found) {
  explainMissingElectron(electron);
  console.error('');
  await startWebMode();
} else {
  startDesktop(electron.path);
}

function startDesktop(/** @type {string} */ electronPath) {
  const stale = buildIsStale();
  // `preview` builds first unless told not to; skip that when the build is current.
  const args = [electronViteCli(), 'preview', ...(stale ? [] : ['--skipBuild'])];
  console.log(stale ? 'faultlab: building, then starting the app…' : 'faultlab: starting the app…');
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ELECTRON_EXEC_PATH: electronPath },
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal ? 1 : 0));
  });
}
