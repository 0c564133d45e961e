/**
 * The navigation guard: the app window may only ever show the app. Anything else (a link in
 * rendered lab text, a redirect, a drag-and-dropped file) must open nowhere inside it.
 *
 * Origins are compared as scheme + host (+ port). `URL.origin` cannot be used for that: Node
 * reports `"null"` for every non-special scheme, including our own `faultlab://app`, while
 * Chromium treats it as a real origin because we register it as a standard scheme.
 */
export function isAllowedNavigation(url: string, appOrigin: string): boolean {
  const target = parseHierarchicalUrl(url);
  const app = parseHierarchicalUrl(appOrigin);
  if (target === null || app === null) {
    return false;
  }
  return target.protocol === app.protocol && target.host === app.host;
}

/** Scheme and host of a URL, or null for URLs without a host (file:, data:, about:, javascript:). */
function parseHierarchicalUrl(text: string): { protocol: string; host: string } | null {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return null;
  }
  if (parsed.host === '') {
    return null;
  }
  return { protocol: parsed.protocol.toLowerCase(), host: parsed.host.toLowerCase() };
}
