import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './src-main/electron/content-security-policy';

/**
 * Our layout is not electron-vite's default (src/main, src/preload, src/renderer), so every
 * entry and output is spelled out here.
 */
const fromRoot = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: fromRoot('out/main'),
      rollupOptions: {
        // Named `index` so the output is out/main/index.js, the "main" of package.json.
        input: { index: fromRoot('src-main/electron/main.ts') },
      },
    },
  },
  preload: {
    build: {
      outDir: fromRoot('out/preload'),
      rollupOptions: {
        input: { index: fromRoot('src-main/electron/preload.ts') },
        // Sandboxed preloads cannot be ES modules; they must be one CommonJS file that
        // requires nothing but 'electron'. `.cjs` because package.json says "type": "module".
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: fromRoot('src-renderer'),
    build: {
      outDir: fromRoot('out/renderer'),
      rollupOptions: {
        input: { index: fromRoot('src-renderer/index.html') },
      },
    },
    plugins: [vue(), devServerContentSecurityPolicy()],
  },
});

/**
 * The Vite dev server injects component styles as <style> elements, which the production
 * policy in index.html forbids. In `serve` only, swap in the dev-server policy (still no
 * unsafe-eval, no inline scripts); built output keeps the strict one.
 */
function devServerContentSecurityPolicy(): Plugin {
  const metaPattern = /(<meta\s+http-equiv="Content-Security-Policy"\s+content=")[^"]*(")/;
  return {
    name: 'faultlab:dev-server-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      if (!metaPattern.test(html)) {
        throw new Error('src-renderer/index.html lost its Content-Security-Policy meta tag');
      }
      return html.replace(metaPattern, `$1${contentSecurityPolicy('dev-server', 'meta')}$2`);
    },
  };
}
