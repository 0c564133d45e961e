import { contextBridge, ipcRenderer } from 'electron';
import type { DesktopBridge, DesktopBridgeGlobalName } from '../api/desktop-bridge';
import { IPC_CHANNELS } from './ipc-channels';

/**
 * The preload runs sandboxed and exposes exactly the named functions of `DesktopBridge`,
 * never `ipcRenderer` itself or a generic send. The main process validates every call again.
 */
const bridge: DesktopBridge = {
  openLabFile: () => ipcRenderer.invoke(IPC_CHANNELS.openLabFile) as Promise<string | null>,
  revealRunFolder: (path: string) => {
    if (typeof path !== 'string') {
      return Promise.reject(new TypeError('revealRunFolder expects a path string'));
    }
    return ipcRenderer.invoke(IPC_CHANNELS.revealRunFolder, path) as Promise<void>;
  },
};

const globalName: DesktopBridgeGlobalName = 'faultlabDesktop';
contextBridge.exposeInMainWorld(globalName, bridge);
