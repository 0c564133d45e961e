import { extname, resolve, sep } from 'node:path';

/**
 * The built renderer is served from a privileged custom scheme instead of `file://`, as
 * Electron's security checklist recommends: `file://` pages have an opaque origin (so "same
 * origin as the app" means nothing) and may read any local file the user can.
 */
export const APP_SCHEME = 'faultlab';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export type AppAsset =
  | { readonly ok: true; readonly filePath: string; readonly contentType: string }
  | { readonly ok: false; readonly status: 400 | 403 | 404; readonly reason: string };

/**
 * Maps a `faultlab://app/...` request to a file under `rendererRoot`, refusing anything that
 * would escape it (`..`, encoded `%2e%2e`, encoded separators) or that names another host.
 */
export function resolveAppAsset(requestUrl: string, rendererRoot: string): AppAsset {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { ok: false, status: 400, reason: `not a URL: ${requestUrl}` };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) {
    return { ok: false, status: 404, reason: `not an app URL: ${requestUrl}` };
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return { ok: false, status: 400, reason: `malformed path: ${url.pathname}` };
  }
  if (pathname.includes('\0') || pathname.includes('\\')) {
    return { ok: false, status: 400, reason: `malformed path: ${url.pathname}` };
  }
  const root = resolve(rendererRoot);
  const relative = pathname === '/' || pathname === '' ? 'index.html' : pathname.slice(1);
  const filePath = resolve(root, relative);
  if (!filePath.startsWith(root + sep)) {
    return { ok: false, status: 403, reason: `outside the app: ${url.pathname}` };
  }
  const contentType = CONTENT_TYPES[extname(filePath).toLowerCase()] ?? 'application/octet-stream';
  return { ok: true, filePath, contentType };
}
