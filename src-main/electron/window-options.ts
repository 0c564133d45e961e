import type { BrowserWindowConstructorOptions } from 'electron';
import { isAbsolute } from 'node:path';

export interface MainWindowInput {
  /** Absolute path of the built preload script (Electron rejects relative preload paths). */
  readonly preloadPath: string;
}

/**
 * Options for the app window, kept pure so a unit test can check them without Electron.
 * Follows Electron's security checklist: isolated, sandboxed renderer without Node, web
 * security on, no `<webview>`, no navigating by dropping a file on the window.
 */
export function createMainWindowOptions(input: MainWindowInput): BrowserWindowConstructorOptions {
  if (!isAbsolute(input.preloadPath)) {
    throw new Error(`preload path must be absolute, got "${input.preloadPath}"`);
  }
  return {
    title: 'FaultLab',
    width: 1280,
    height: 820,
    minWidth: 880,
    minHeight: 560,
    // Shown on 'ready-to-show', so the window never flashes white before the page paints.
    show: false,
    backgroundColor: '#0e1116',
    webPreferences: {
      preload: input.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}
