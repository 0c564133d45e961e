/**
 * The renderer's Content Security Policy, in one place. It is sent as a response header for
 * everything the window loads and repeated as a `<meta>` tag in `src-renderer/index.html`
 * (a unit test keeps the two in sync), so the page is locked down however it is served.
 *
 * No `unsafe-eval` and no inline scripts: Vue templates are compiled at build time and Vite
 * emits only external module scripts. The Vite dev server is the one exception that needs
 * `style-src 'unsafe-inline'`, because it injects component styles as `<style>` elements.
 */
export type CspMode = 'production' | 'dev-server';

/** `frame-ancestors` is ignored (with a console warning) when delivered in a meta tag. */
export type CspDelivery = 'header' | 'meta';

export function contentSecurityPolicy(
  mode: CspMode = 'production',
  delivery: CspDelivery = 'header',
  /**
   * Extra `connect-src` sources: the api's WebSocket origin (ws://127.0.0.1:port). CSP 3 lets
   * 'self' match ws: on the same host and port, but older engines do not; naming it is exact.
   */
  connectSources: readonly string[] = [],
): string {
  const directives: [string, string][] = [
    ['default-src', "'self'"],
    ['script-src', "'self'"],
    ['style-src', mode === 'dev-server' ? "'self' 'unsafe-inline'" : "'self'"],
    ['img-src', "'self' data:"],
    ['font-src', "'self'"],
    ['connect-src', ["'self'", ...connectSources].join(' ')],
    ['worker-src', "'self'"],
    ['object-src', "'none'"],
    ['frame-src', "'none'"],
    ['base-uri', "'none'"],
    ['form-action', "'none'"],
  ];
  if (delivery === 'header') {
    directives.push(['frame-ancestors', "'none'"]);
  }
  return directives.map(([name, value]) => `${name} ${value}`).join('; ');
}

export type ResponseHeaders = Record<string, string | string[]>;

/**
 * Returns `headers` with our policy as the only Content-Security-Policy header. Header names
 * are case-insensitive, so a server's own `content-security-policy` is replaced, not doubled
 * (two policies would both apply, and the page would get the intersection).
 */
export function withContentSecurityPolicy(
  headers: ResponseHeaders | undefined,
  policy: string,
): ResponseHeaders {
  const result: ResponseHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') {
      result[name] = value;
    }
  }
  result['Content-Security-Policy'] = [policy];
  return result;
}
