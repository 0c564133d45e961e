import { app, BrowserWindow, dialog, Menu, protocol, session } from 'electron';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_ENTRY_URL, APP_ORIGIN, APP_SCHEME, resolveAppAsset } from './app-protocol';
import { applicationMenuTemplate } from './application-menu';
import { contentSecurityPolicy, withContentSecurityPolicy } from './content-security-policy';
import { chooseLabFile, openRunsFolder } from './desktop-actions';
import { registerDesktopIpc } from './ipc-handlers';
import { isAllowedNavigation } from './navigation-guard';
import { createMainWindowOptions } from './window-options';

/**
 * Electron main: thin by design. It locks the window down, serves the built dashboard and
 * wires the two desktop-only bridge functions. (Embedding the orchestrator and serving the api
 * on 127.0.0.1 arrives with the orchestrator; see ARCHITECTURE.md.)
 */

// Must happen before 'ready': a standard, secure scheme gets a real origin, so the navigation
// guard and the sender checks can compare against it.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();

const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererRoot = fileURLToPath(new URL('../renderer/', import.meta.url));
// `electron-vite dev` serves the renderer from Vite and passes its URL; never in a packaged app.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const appOrigin = devServerUrl === undefined ? APP_ORIGIN : new URL(devServerUrl).origin;
const policy = contentSecurityPolicy(devServerUrl === undefined ? 'production' : 'dev-server');
const runsRoot = resolveRunsRoot();

function resolveRunsRoot(): string {
  const configured = process.env['FAULTLAB_RUNS_DIR'];
  if (configured !== undefined && configured !== '') {
    return resolve(configured);
  }
  // From a checkout (npm start) runs sit next to the sources, like the CLI's; an installed app
  // has no project folder, so it keeps them with its user data.
  return app.isPackaged ? join(app.getPath('userData'), 'runs') : resolve('runs');
}

function lockDownWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => {
      if (!isAllowedNavigation(event.url, appOrigin)) {
        event.preventDefault();
      }
    });
    contents.on('will-redirect', (event) => {
      if (!isAllowedNavigation(event.url, appOrigin)) {
        event.preventDefault();
      }
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const asset = resolveAppAsset(request.url, rendererRoot);
    if (!asset.ok) {
      return new Response(asset.reason, { status: asset.status });
    }
    let body: Buffer;
    try {
      body = await readFile(asset.filePath);
    } catch {
      return new Response(`not found: ${new URL(request.url).pathname}`, { status: 404 });
    }
    return new Response(new Uint8Array(body), {
      headers: {
        'Content-Type': asset.contentType,
        'Content-Security-Policy': policy,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });
}

function hardenSession(): void {
  const defaultSession = session.defaultSession;
  // Covers http(s) responses: the Vite dev server now, the embedded orchestrator later.
  defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders, policy) });
  });
  // The dashboard needs no camera, notifications, geolocation, ...: refuse every request.
  defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  defaultSession.setPermissionCheckHandler(() => false);
}

function installMenu(): void {
  const template = applicationMenuTemplate(
    {
      openLab: () => void openLabFromMenu(),
      revealRunsFolder: () => void openRunsFolder(runsRoot).catch(showError),
      showAbout: () =>
        void dialog.showMessageBox({
          type: 'info',
          title: 'About FaultLab',
          message: `FaultLab ${app.getVersion()}`,
          detail:
            'A desktop lab for fault-tolerance experiments.\n' +
            `Electron ${process.versions.electron}, Chromium ${process.versions.chrome}, ` +
            `Node ${process.versions.node}.`,
        }),
    },
    process.platform,
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

async function openLabFromMenu(): Promise<void> {
  const labPath = await chooseLabFile(BrowserWindow.getFocusedWindow());
  if (labPath === null) {
    return;
  }
  // Loading a lab needs the lab loader and orchestrator, which are not built yet. Say so
  // rather than pretend the file was opened.
  await dialog.showMessageBox({
    type: 'info',
    title: 'Open lab',
    message: 'Opening labs is not available yet.',
    detail: `You chose ${labPath}. The desktop app will load it once the lab loader lands.`,
  });
}

function showError(error: unknown): void {
  dialog.showErrorBox('FaultLab', error instanceof Error ? error.message : String(error));
}

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow(createMainWindowOptions({ preloadPath }));
  window.once('ready-to-show', () => window.show());
  void window.loadURL(devServerUrl ?? APP_ENTRY_URL);
  return window;
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  lockDownWebContents();
  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') {
      app.quit();
    }
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) {
      createMainWindow();
    }
  });
  void app.whenReady().then(() => {
    serveRenderer();
    hardenSession();
    registerDesktopIpc({ appOrigin, runsRoot });
    installMenu();
    createMainWindow();
  });
}
