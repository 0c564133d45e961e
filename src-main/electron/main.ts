import { app, BrowserWindow, dialog, Menu, session } from 'electron';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError, loadLab } from '../labs/load-lab';
import { startApiServer, type ApiServer } from '../server/api-server';
import { applicationMenuTemplate } from './application-menu';
import { contentSecurityPolicy, withContentSecurityPolicy } from './content-security-policy';
import { chooseLabFile, openRunsFolder } from './desktop-actions';
import { registerDesktopIpc } from './ipc-handlers';
import { isAllowedNavigation } from './navigation-guard';
import { createMainWindowOptions } from './window-options';

/**
 * Electron main: embeds the orchestrator (the same server as `faultlab serve`) on an
 * ephemeral 127.0.0.1 port and shows its tokened URL in a locked-down window. The page talks
 * to the api over the WebSocket exactly as in web mode; the preload adds only the two
 * desktop-only functions. The navigation guard allows exactly the server's origin.
 */

app.enableSandbox();

const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererRoot = fileURLToPath(new URL('../renderer/', import.meta.url));
const runsRoot = resolveRunsRoot();
const labsRoot = app.isPackaged ? join(process.resourcesPath, 'labs') : resolve('labs');
let server: ApiServer | null = null;

function resolveRunsRoot(): string {
  const configured = process.env['FAULTLAB_RUNS_DIR'];
  if (configured !== undefined && configured !== '') {
    return resolve(configured);
  }
  // From a checkout (npm start) runs sit next to the sources, like the CLI's; an installed app
  // has no project folder, so it keeps them with its user data.
  return app.isPackaged ? join(app.getPath('userData'), 'runs') : resolve('runs');
}

function lockDownWebContents(appOrigin: string): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => {
      if (!isAllowedNavigation(event.url, appOrigin)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => {
      if (!isAllowedNavigation(event.url, appOrigin)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function hardenSession(policy: string): void {
  const defaultSession = session.defaultSession;
  // The server sends the same policy; this also covers anything else the window might load.
  defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders, policy) });
  });
  // The dashboard needs no camera, notifications, geolocation, ...: refuse every request.
  defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  defaultSession.setPermissionCheckHandler(() => false);
}

function installMenu(api: ApiServer): void {
  const template = applicationMenuTemplate(
    {
      openLab: () => void openLabFromMenu(api).catch(showError),
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

/**
 * File → Open Lab: validate the chosen file here (its errors name file, line and field), then
 * open the dashboard's run setup with it: the page reads `?lab=<absolute path>` and passes it
 * to run.start, which accepts absolute paths the user chose. Nothing starts until they click.
 */
async function openLabFromMenu(api: ApiServer): Promise<void> {
  const window = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0] ?? null;
  const labPath = await chooseLabFile(window);
  if (labPath === null || window === null) return;
  try {
    loadLab(labPath);
  } catch (err) {
    await dialog.showMessageBox(window, {
      type: 'error',
      title: 'Open lab',
      message: `${labPath} is not a usable lab.`,
      detail: err instanceof LabError ? err.message : String(err),
    });
    return;
  }
  await window.loadURL(`${api.origin}/?lab=${encodeURIComponent(labPath)}`);
}

function showError(error: unknown): void {
  dialog.showErrorBox('FaultLab', error instanceof Error ? error.message : String(error));
}

function createMainWindow(api: ApiServer): BrowserWindow {
  const window = new BrowserWindow(createMainWindowOptions({ preloadPath }));
  window.once('ready-to-show', () => window.show());
  // The tokened URL: the server trades the token for an HttpOnly cookie on this first load.
  void window.loadURL(api.url);
  return window;
}

async function startApp(): Promise<void> {
  const api = await startApiServer({
    port: 0,
    runsDir: runsRoot,
    labsDir: labsRoot,
    rendererRoot,
    version: app.getVersion(),
    desktop: true,
  });
  server = api;
  const policy = contentSecurityPolicy('production', 'header', [
    api.origin.replace('http:', 'ws:'),
  ]);
  lockDownWebContents(api.origin);
  hardenSession(policy);
  registerDesktopIpc({ appOrigin: api.origin, runsRoot });
  installMenu(api);
  createMainWindow(api);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow(api);
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Runs must stop (faults healed, agents stopped) before the process exits.
  let stopped = false;
  app.on('will-quit', (event) => {
    if (stopped || server === null) return;
    event.preventDefault();
    void server.close('the desktop app is quitting').finally(() => {
      stopped = true;
      app.quit();
    });
  });
  void app
    .whenReady()
    .then(startApp)
    .catch((err: unknown) => {
      showError(
        new Error(
          `FaultLab could not start its orchestrator: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
      app.quit();
    });
}
