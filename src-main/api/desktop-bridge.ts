/**
 * What the Electron preload exposes to the dashboard, and nothing more: one named function per
 * capability that only the desktop shell has (native dialogs, the system file manager). Everything
 * else goes through the orchestrator api, so web mode and the desktop app run the same code.
 *
 * In a plain browser (web mode) the bridge is absent: `window.faultlabDesktop` is undefined.
 */
export interface DesktopBridge {
  /**
   * Shows the native open dialog for a lab file (`.yaml` / `.yml`). Resolves to the absolute
   * path the user chose, or `null` if they cancelled.
   */
  openLabFile(): Promise<string | null>;
  /**
   * Shows a run directory in the system file manager. Rejects unless `path` is an absolute path
   * to an existing directory inside the runs folder.
   */
  revealRunFolder(path: string): Promise<void>;
}

/** The global name the preload uses; a type, so the renderer can import it without a value. */
export type DesktopBridgeGlobalName = 'faultlabDesktop';
