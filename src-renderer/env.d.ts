import type { DesktopBridge } from '../src-main/api/desktop-bridge';

declare global {
  interface Window {
    /**
     * Present only inside the desktop app (see src-main/api/desktop-bridge.ts); the key is
     * `DesktopBridgeGlobalName`, which the preload uses when it exposes the bridge.
     */
    readonly faultlabDesktop?: DesktopBridge;
  }
}
