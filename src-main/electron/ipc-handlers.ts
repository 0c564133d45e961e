import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { chooseLabFile, revealRunFolder } from './desktop-actions';
import { IPC_CHANNELS } from './ipc-channels';
import { checkArgumentCount, checkRunFolderPath, isTrustedSender } from './ipc-validation';

export interface DesktopIpcOptions {
  /** Origin of the app page; calls from any other frame are refused. */
  readonly appOrigin: string;
  /** Run directories live under this folder; nothing outside it can be revealed. */
  readonly runsRoot: string;
}

/**
 * Registers one handler per bridge function. Each checks who is calling and what it passed
 * before doing anything. Returns a disposer that removes the handlers again.
 */
export function registerDesktopIpc(options: DesktopIpcOptions): () => void {
  ipcMain.handle(IPC_CHANNELS.openLabFile, async (event, ...args: unknown[]) => {
    assertTrustedSender(event, options.appOrigin, IPC_CHANNELS.openLabFile);
    assertChecked(checkArgumentCount(args, 0), IPC_CHANNELS.openLabFile);
    return chooseLabFile(BrowserWindow.fromWebContents(event.sender));
  });

  ipcMain.handle(IPC_CHANNELS.revealRunFolder, async (event, ...args: unknown[]) => {
    assertTrustedSender(event, options.appOrigin, IPC_CHANNELS.revealRunFolder);
    assertChecked(checkArgumentCount(args, 1), IPC_CHANNELS.revealRunFolder);
    const folder = assertChecked(
      checkRunFolderPath(args[0], options.runsRoot),
      IPC_CHANNELS.revealRunFolder,
    );
    await revealRunFolder(folder, options.runsRoot);
  });

  return () => {
    ipcMain.removeHandler(IPC_CHANNELS.openLabFile);
    ipcMain.removeHandler(IPC_CHANNELS.revealRunFolder);
  };
}

function assertTrustedSender(event: IpcMainInvokeEvent, appOrigin: string, channel: string): void {
  const senderUrl = event.senderFrame?.url;
  if (!isTrustedSender(senderUrl, appOrigin)) {
    throw new Error(`${channel}: refused a call from ${senderUrl ?? 'a destroyed frame'}`);
  }
}

function assertChecked<T>(
  checked: { ok: true; value: T } | { ok: false; reason: string },
  channel: string,
): T {
  if (!checked.ok) {
    throw new Error(`${channel}: ${checked.reason}`);
  }
  return checked.value;
}
