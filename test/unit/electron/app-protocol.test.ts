import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  resolveAppAsset,
} from '../../../src-main/electron/app-protocol';

const root = '/opt/faultlab/out/renderer';

describe('resolveAppAsset', () => {
  it('maps app URLs to files under the renderer root, with a content type', () => {
    expect(resolveAppAsset(APP_ENTRY_URL, root)).toEqual({
      ok: true,
      filePath: `${root}/index.html`,
      contentType: 'text/html; charset=utf-8',
    });
    expect(resolveAppAsset(`${APP_ORIGIN}/assets/index-abc.js?v=1`, root)).toMatchObject({
      ok: true,
      filePath: `${root}/assets/index-abc.js`,
      contentType: 'text/javascript; charset=utf-8',
    });
    expect(resolveAppAsset(`${APP_ORIGIN}/`, root)).toMatchObject({
      ok: true,
      filePath: `${root}/index.html`,
    });
  });

  it('never leaves the renderer root', () => {
    // The URL parser folds "..", also when written as %2e%2e: these land inside the root.
    for (const path of [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/a/%2e%2e/%2e%2e/etc/passwd',
    ]) {
      expect(resolveAppAsset(`${APP_ORIGIN}${path}`, root), path).toMatchObject({
        ok: true,
        filePath: `${root}/etc/passwd`,
      });
    }
    // An encoded slash survives parsing and only becomes ".." after decoding: refused.
    for (const path of ['/..%2f..%2fetc/passwd', '/a/..%2F..%2F..%2Fetc']) {
      expect(resolveAppAsset(`${APP_ORIGIN}${path}`, root), path).toMatchObject({
        ok: false,
        status: 403,
      });
    }
  });

  it('refuses other hosts, other schemes, encoded NULs and backslashes', () => {
    expect(resolveAppAsset('faultlab://other/index.html', root)).toMatchObject({
      ok: false,
      status: 404,
    });
    expect(resolveAppAsset('https://app/index.html', root)).toMatchObject({
      ok: false,
      status: 404,
    });
    expect(resolveAppAsset(`${APP_ORIGIN}/a%00.html`, root)).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(resolveAppAsset(`${APP_ORIGIN}/a%5c..%5cb`, root)).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(resolveAppAsset(`${APP_ORIGIN}/%E0%A4%A`, root)).toMatchObject({
      ok: false,
      status: 400,
    });
  });
});
