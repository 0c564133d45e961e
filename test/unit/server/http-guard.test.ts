import { describe, expect, it } from 'vitest';
import {
  cookieValue,
  guardRequest,
  isAllowedHost,
  isAllowedOrigin,
  tokenCookie,
  tokensEqual,
} from '../../../src-main/server/http-guard';

const token = 'secret-token-123';
const port = 4321;

function req(url: string, headers: Record<string, string>) {
  return { url, headers };
}

describe('http guard: token, Host (DNS rebinding) and Origin (cross-site WebSocket)', () => {
  it('accepts the token in the query and asks for the cookie to be set', () => {
    expect(
      guardRequest(req(`/?token=${token}`, { host: `127.0.0.1:${port}` }), {
        token,
        port,
        upgrade: false,
      }),
    ).toEqual({
      ok: true,
      tokenFromQuery: true,
    });
  });

  it('accepts the cookie without the query', () => {
    const v = guardRequest(
      req('/assets/a.js', { host: `localhost:${port}`, cookie: `x=1; faultlab_token=${token}` }),
      {
        token,
        port,
        upgrade: false,
      },
    );
    expect(v).toEqual({ ok: true, tokenFromQuery: false });
  });

  it('refuses a missing or wrong token with 401 and says where the URL comes from', () => {
    for (const r of [
      req('/', { host: `127.0.0.1:${port}` }),
      req('/?token=wrong', { host: `127.0.0.1:${port}` }),
      req('/', { host: `127.0.0.1:${port}`, cookie: 'faultlab_token=nope' }),
    ]) {
      const v = guardRequest(r, { token, port, upgrade: false });
      expect(v.ok).toBe(false);
      if (!v.ok) {
        expect(v.status).toBe(401);
        expect(v.reason).toContain('faultlab serve');
      }
    }
  });

  it('refuses a foreign Host with 403 even with the right token (DNS rebinding)', () => {
    for (const host of [
      `evil.example:${port}`,
      `127.0.0.1:${port + 1}`,
      '127.0.0.1',
      `0.0.0.0:${port}`,
    ]) {
      const v = guardRequest(req(`/?token=${token}`, { host }), { token, port, upgrade: false });
      expect(v).toMatchObject({ ok: false, status: 403 });
    }
    expect(
      guardRequest(req(`/?token=${token}`, {}), { token, port, upgrade: false }),
    ).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses an upgrade from another origin, or without one, with 403', () => {
    const base = { host: `127.0.0.1:${port}`, cookie: `faultlab_token=${token}` };
    for (const origin of [
      'http://evil.example',
      `http://127.0.0.1:${port + 1}`,
      `https://127.0.0.1:${port}`,
      'null',
    ]) {
      expect(
        guardRequest(req('/api', { ...base, origin }), { token, port, upgrade: true }),
      ).toMatchObject({
        ok: false,
        status: 403,
      });
    }
    expect(guardRequest(req('/api', base), { token, port, upgrade: true })).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(
      guardRequest(req('/api', { ...base, origin: `http://127.0.0.1:${port}` }), {
        token,
        port,
        upgrade: true,
      }),
    ).toMatchObject({ ok: true });
  });

  it('has helpers that do exactly their job', () => {
    expect(isAllowedHost(`LOCALHOST:${port}`, port)).toBe(true);
    expect(isAllowedHost(undefined, port)).toBe(false);
    expect(isAllowedOrigin(`http://localhost:${port}`, port)).toBe(true);
    expect(cookieValue('a=1; b = 2', 'b')).toBe('2');
    expect(cookieValue(undefined, 'b')).toBeNull();
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
    expect(tokenCookie('t')).toMatch(/HttpOnly; SameSite=Strict/);
  });
});
