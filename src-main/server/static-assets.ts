import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_ORIGIN, resolveAppAsset, type AppAsset } from '../electron/app-protocol';

/**
 * The built dashboard (out/renderer/) served over http. Path resolution is the Electron
 * protocol's (resolveAppAsset): the same refusal of `..`, encoded separators and NUL bytes.
 */
export function resolveRendererAsset(pathname: string, rendererRoot: string): AppAsset {
  // resolveAppAsset speaks faultlab://app URLs; the path part is what matters.
  return resolveAppAsset(
    `${APP_ORIGIN}${pathname.startsWith('/') ? '' : '/'}${pathname}`,
    rendererRoot,
  );
}

export async function rendererIsBuilt(rendererRoot: string): Promise<boolean> {
  return stat(join(rendererRoot, 'index.html')).then(
    (s) => s.isFile(),
    () => false,
  );
}

export type AssetBody =
  | { readonly ok: true; readonly body: Buffer; readonly contentType: string }
  | { readonly ok: false; readonly status: number; readonly text: string };

export async function readRendererAsset(
  pathname: string,
  rendererRoot: string,
): Promise<AssetBody> {
  const asset = resolveRendererAsset(pathname, rendererRoot);
  if (!asset.ok) return { ok: false, status: asset.status, text: asset.reason };
  try {
    return { ok: true, body: await readFile(asset.filePath), contentType: asset.contentType };
  } catch {
    if (!(await rendererIsBuilt(rendererRoot))) {
      return { ok: false, status: 503, text: notBuiltText(rendererRoot) };
    }
    return { ok: false, status: 404, text: `not found: ${pathname}` };
  }
}

export function notBuiltText(rendererRoot: string): string {
  return (
    `The dashboard is not built: ${join(rendererRoot, 'index.html')} is missing.\n` +
    'Run `npm run build` (or `npx electron-vite build`) in the FaultLab checkout, then reload.\n' +
    'The api at /api works without it.'
  );
}
