import type { MenuItemConstructorOptions } from 'electron';

export interface ApplicationMenuActions {
  readonly openLab: () => void;
  readonly revealRunsFolder: () => void;
  readonly showAbout: () => void;
}

/**
 * The native menu as a plain template, so its shape can be tested without Electron.
 * On macOS the first menu is the application menu (About, Hide, Quit live there by convention).
 */
export function applicationMenuTemplate(
  actions: ApplicationMenuActions,
  platform: NodeJS.Platform,
): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const fileMenu: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'Open Lab…', accelerator: 'CmdOrCtrl+O', click: () => actions.openLab() },
      { label: 'Reveal Runs Folder', click: () => actions.revealRunsFolder() },
      { type: 'separator' },
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const viewMenu: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      { role: 'reload' },
      { role: 'forceReload' },
      { role: 'toggleDevTools' },
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  const helpMenu: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [{ label: 'About FaultLab', click: () => actions.showAbout() }],
  };
  return [
    ...(isMac ? [{ role: 'appMenu' } satisfies MenuItemConstructorOptions] : []),
    fileMenu,
    { role: 'editMenu' },
    viewMenu,
    { role: 'windowMenu' },
    helpMenu,
  ];
}
