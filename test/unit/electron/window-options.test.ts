import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APP_ORIGIN } from '../../../src-main/electron/app-protocol';
import {
  contentSecurityPolicy,
  withContentSecurityPolicy,
} from '../../../src-main/electron/content-security-policy';
import { isAllowedNavigation } from '../../../src-main/electron/navigation-guard';
import { createMainWindowOptions } from '../../../src-main/electron/window-options';

/** Directive name → its source list, for asserting on one directive at a time. */
function directives(policy: string): Map<string, string[]> {
  const parsed = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) {
      expect(parsed.has(name), `directive ${name} appears twice`).toBe(false);
      parsed.set(name, sources);
    }
  }
  return parsed;
}

describe('main window options', () => {
  const options = createMainWindowOptions({ preloadPath: '/opt/faultlab/out/preload/index.cjs' });
  const web = options.webPreferences ?? {};

  it('isolates the renderer: context isolation, sandbox, no Node integration anywhere', () => {
    expect(web.contextIsolation).toBe(true);
    expect(web.sandbox).toBe(true);
    expect(web.nodeIntegration).toBe(false);
    expect(web.nodeIntegrationInWorker).toBe(false);
    expect(web.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and the risky extras off', () => {
    expect(web.webSecurity).toBe(true);
    expect(web.allowRunningInsecureContent).toBe(false);
    expect(web.experimentalFeatures).toBe(false);
    expect(web.webviewTag).toBe(false);
    expect(web.navigateOnDragDrop).toBe(false);
  });

  it('uses the given preload and refuses a relative one', () => {
    expect(web.preload).toBe('/opt/faultlab/out/preload/index.cjs');
    expect(() => createMainWindowOptions({ preloadPath: 'out/preload/index.cjs' })).toThrow(
      /absolute/,
    );
  });

  it('starts hidden so it can be shown once painted', () => {
    expect(options.show).toBe(false);
  });
});

describe('content security policy', () => {
  const production = contentSecurityPolicy('production', 'header');
  const devServer = contentSecurityPolicy('dev-server', 'header');

  it('defaults everything to self and never allows eval', () => {
    for (const policy of [production, devServer]) {
      const parsed = directives(policy);
      expect(parsed.get('default-src')).toEqual(["'self'"]);
      expect(parsed.get('script-src')).toEqual(["'self'"]);
      expect(policy).not.toContain('unsafe-eval');
      expect(policy).not.toContain('*');
    }
  });

  it('allows no inline code at all in production', () => {
    expect(production).not.toContain('unsafe-inline');
    expect(directives(production).get('style-src')).toEqual(["'self'"]);
  });

  it('relaxes only styles for the Vite dev server', () => {
    expect(directives(devServer).get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
  });

  it('shuts off plugins, framing, base rewriting and form posts', () => {
    const parsed = directives(production);
    expect(parsed.get('object-src')).toEqual(["'none'"]);
    expect(parsed.get('frame-src')).toEqual(["'none'"]);
    expect(parsed.get('frame-ancestors')).toEqual(["'none'"]);
    expect(parsed.get('base-uri')).toEqual(["'none'"]);
    expect(parsed.get('form-action')).toEqual(["'none'"]);
  });

  it('is the policy in the meta tag of src-renderer/index.html', () => {
    const html = readFileSync(new URL('../../../src-renderer/index.html', import.meta.url), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(meta, 'index.html has no CSP meta tag').not.toBeNull();
    expect(meta?.[1]).toBe(contentSecurityPolicy('production', 'meta'));
    // frame-ancestors is ignored in a meta tag, so it is sent only as a header.
    expect(meta?.[1]).not.toContain('frame-ancestors');
  });

  it('replaces a server policy header whatever its case, keeping the other headers', () => {
    const headers = withContentSecurityPolicy(
      { 'content-security-policy': ['default-src *'], 'Content-Type': ['text/html'] },
      production,
    );
    expect(headers).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [production],
    });
    expect(withContentSecurityPolicy(undefined, production)).toEqual({
      'Content-Security-Policy': [production],
    });
  });
});

describe('isAllowedNavigation', () => {
  it('allows pages of the app itself', () => {
    expect(isAllowedNavigation(`${APP_ORIGIN}/index.html`, APP_ORIGIN)).toBe(true);
    expect(isAllowedNavigation(`${APP_ORIGIN}/runs/a?x=1#y`, APP_ORIGIN)).toBe(true);
    expect(isAllowedNavigation('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    expect(isAllowedNavigation('http://LOCALHOST:5173/x', 'http://localhost:5173')).toBe(true);
  });

  it('blocks other origins: host, port or scheme differ', () => {
    expect(isAllowedNavigation('https://example.com/', APP_ORIGIN)).toBe(false);
    expect(isAllowedNavigation('faultlab://evil/index.html', APP_ORIGIN)).toBe(false);
    expect(isAllowedNavigation('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isAllowedNavigation('https://localhost:5173/', 'http://localhost:5173')).toBe(false);
  });

  it('is not fooled by look-alike hosts or user info', () => {
    const app = 'http://localhost:5173';
    expect(isAllowedNavigation('http://localhost:5173.evil.com/', app)).toBe(false);
    expect(isAllowedNavigation('http://localhost:5173@evil.com/', app)).toBe(false);
  });

  it('blocks URLs without a host, even when the app origin is one of them', () => {
    for (const url of [
      'file:///etc/passwd',
      'data:text/html,hi',
      'about:blank',
      'javascript:alert(1)',
    ]) {
      expect(isAllowedNavigation(url, APP_ORIGIN), url).toBe(false);
    }
    expect(isAllowedNavigation('file:///a/index.html', 'file:///a/index.html')).toBe(false);
  });

  it('blocks anything that does not parse', () => {
    expect(isAllowedNavigation('not a url', APP_ORIGIN)).toBe(false);
    expect(isAllowedNavigation(`${APP_ORIGIN}/`, 'not a url')).toBe(false);
    expect(isAllowedNavigation('', APP_ORIGIN)).toBe(false);
  });
});
