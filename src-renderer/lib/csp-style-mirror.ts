/**
 * xterm.js writes its per-terminal CSS (cell dimensions, theme colours) into <style> elements it
 * creates at run time. Our Content-Security-Policy (style-src 'self', no 'unsafe-inline')
 * rightly makes the browser refuse those — with a console error per update — which leaves the
 * terminal unstyled. Rather than loosen the policy for the whole page, we keep such <style>
 * elements out of the document and mirror their text into constructable stylesheets adopted by
 * the document: the CSSOM is not inline markup, and the CSS text comes from the bundled
 * library, never from the server or the user.
 */
export interface StyleMirror {
  /** Runs `open` (e.g. `term.open(el)`) keeping the <style> elements it appends detached. */
  capture(open: () => void): void;
  dispose(): void;
}

export function createStyleMirror(root: HTMLElement): StyleMirror {
  const sheets = new Map<HTMLStyleElement, { sheet: CSSStyleSheet; observer: MutationObserver }>();

  const adopt = (el: HTMLStyleElement): void => {
    if (sheets.has(el)) return;
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(el.textContent ?? '');
    // A detached element can still be observed: xterm keeps rewriting its text on resize.
    const observer = new MutationObserver(() => sheet.replaceSync(el.textContent ?? ''));
    observer.observe(el, { childList: true, characterData: true, subtree: true });
    sheets.set(el, { sheet, observer });
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  };

  // Fallback for <style> elements added after open(): mirror them, then take them out.
  const rootObserver = new MutationObserver(() => {
    for (const el of root.querySelectorAll('style')) {
      adopt(el);
      el.remove();
    }
  });
  rootObserver.observe(root, { childList: true, subtree: true });

  return {
    capture(open) {
      const proto = Node.prototype;
      const appendChild = proto.appendChild;
      const insertBefore = proto.insertBefore;
      // Replaced only for the synchronous duration of `open`, and only for <style> children.
      proto.appendChild = function <T extends Node>(this: Node, child: T): T {
        if (child instanceof HTMLStyleElement) {
          adopt(child);
          return child;
        }
        return appendChild.call(this, child) as T;
      };
      proto.insertBefore = function <T extends Node>(this: Node, child: T, ref: Node | null): T {
        if (child instanceof HTMLStyleElement) {
          adopt(child);
          return child;
        }
        return insertBefore.call(this, child, ref) as T;
      };
      try {
        open();
      } finally {
        proto.appendChild = appendChild;
        proto.insertBefore = insertBefore;
      }
    },
    dispose() {
      rootObserver.disconnect();
      const mine = new Set<CSSStyleSheet>();
      for (const { sheet, observer } of sheets.values()) {
        observer.disconnect();
        mine.add(sheet);
      }
      document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => !mine.has(s));
      sheets.clear();
    },
  };
}
