import { dialog, shell, type BrowserWindow, type OpenDialogOptions } from 'electron';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { isInside } from './ipc-validation';

/**
 * The desktop-only actions, shared by the application menu and the preload bridge so both
 * behave the same.
 */

/** Native open dialog for a lab file; the absolute path, or null if the user cancelled. */
export async function chooseLabFile(parent: BrowserWindow | null): Promise<string | null> {
  const options: OpenDialogOptions = {
    title: 'Open lab',
    buttonLabel: 'Open lab',
    properties: ['openFile'],
    filters: [{ name: 'FaultLab lab (YAML)', extensions: ['yaml', 'yml'] }],
  };
  const result = parent
    ? await dialog.showOpenDialog(parent, options)
    : await dialog.showOpenDialog(options);
  if (result.canceled) {
    return null;
  }
  return result.filePaths[0] ?? null;
}

/**
 * Shows `folder` in the system file manager. `folder` has already passed `checkRunFolderPath`;
 * here we check what needs the disk: it exists, is a directory, and still lies inside the
 * runs folder once symlinks are resolved.
 */
export async function revealRunFolder(folder: string, runsRoot: string): Promise<void> {
  const [realFolder, realRoot] = await Promise.all([
    realpath(folder).catch(() => null),
    realpath(runsRoot).catch(() => null),
  ]);
  if (realFolder === null || realRoot === null) {
    throw new Error(`run folder ${folder} does not exist`);
  }
  if (!isInside(realFolder, realRoot)) {
    throw new Error(`run folder ${folder} resolves outside the runs folder ${runsRoot}`);
  }
  if (!(await stat(realFolder)).isDirectory()) {
    throw new Error(`run folder ${folder} is not a directory`);
  }
  shell.showItemInFolder(realFolder);
}

/** Opens the runs folder itself, creating it first so a fresh install has somewhere to look. */
export async function openRunsFolder(runsRoot: string): Promise<void> {
  await mkdir(runsRoot, { recursive: true });
  const failure = await shell.openPath(runsRoot);
  if (failure !== '') {
    throw new Error(`could not open the runs folder ${runsRoot}: ${failure}`);
  }
}
