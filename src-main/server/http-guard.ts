import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Who may talk to the orchestrator: only a page on this machine that knows the per-start
 * token. Three checks, each against a different attack:
 *   token  — another local user or a page on another site guessing the port (401);
 *   Host   — DNS rebinding: a hostile name resolving to 127.0.0.1 would otherwise be "same
 *            origin" with us (403);
 *   Origin — cross-site WebSocket hijacking: browsers send cookies on ws:// upgrades from any
 *            site, so the upgrade must come from our own page (403).
 */

export const TOKEN_COOKIE = 'faultlab_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Host header values that name this server: 127.0.0.1:port and localhost:port only. */
export function allowedHosts(port: number): readonly string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export function isAllowedHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return allowedHosts(port).includes(host.toLowerCase());
}

/** The upgrade's Origin must be this server's own page (as reached through an allowed Host). */
export function isAllowedOrigin(origin: string | undefined, port: number): boolean {
  if (origin === undefined) return false;
  return allowedHosts(port).some((h) => origin.toLowerCase() === `http://${h}`);
}

/** The value of one cookie, or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export type GuardVerdict =
  | { readonly ok: true; readonly tokenFromQuery: boolean }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

/**
 * Checks one request (page, asset or WebSocket upgrade) against the token and Host, and for
 * upgrades the Origin. `tokenFromQuery` tells the caller to set the cookie.
 */
export function guardRequest(
  req: Pick<IncomingMessage, 'headers' | 'url'>,
  options: { readonly token: string; readonly port: number; readonly upgrade: boolean },
): GuardVerdict {
  const host = req.headers.host;
  if (!isAllowedHost(host, options.port)) {
    return {
      ok: false,
      status: 403,
      reason: `refused: Host "${host ?? '(none)'}" is not this server; open http://127.0.0.1:${options.port}/ directly`,
    };
  }
  if (options.upgrade) {
    const origin = req.headers.origin;
    if (!isAllowedOrigin(origin, options.port)) {
      return {
        ok: false,
        status: 403,
        reason: `refused: WebSocket from origin "${origin ?? '(none)'}"; only the dashboard served by this server may connect`,
      };
    }
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null && tokensEqual(fromQuery, options.token)) {
    return { ok: true, tokenFromQuery: true };
  }
  const fromCookie = cookieValue(req.headers.cookie, TOKEN_COOKIE);
  if (fromCookie !== null && tokensEqual(fromCookie, options.token)) {
    return { ok: true, tokenFromQuery: false };
  }
  return {
    ok: false,
    status: 401,
    reason:
      'unauthorized: this FaultLab server needs its token; open the URL that `faultlab serve` printed (…/?token=…)',
  };
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}
