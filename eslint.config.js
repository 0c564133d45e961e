// @ts-check
import js from '@eslint/js';
import prettierConfig from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import pluginVue from 'eslint-plugin-vue';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/*
 * Lint = correctness + architecture. Formatting belongs to prettier alone:
 * eslint-config-prettier (last) turns off every rule that would fight it.
 *
 * The architecture rules (ARCHITECTURE.md, "Imports flow one way"):
 *   src-renderer    → only TYPES from src-main/api; nothing else from src-main, nothing from src-node-agent
 *   src-main        → never src-renderer
 *   src-node-agent  → never src-main or src-renderer
 *   src-node-agent/core, src-node-agent/stacks → sans-IO: no clock, no randomness, no timers,
 *                     no process, no Node builtins (they run unchanged in the simulator)
 *
 * ESLint applies the LAST matching config object's options for a rule, it does not merge them.
 * So each folder's `@typescript-eslint/no-restricted-imports` lists every pattern that applies
 * to it, built from the named pieces below.
 */

const TS_AND_VUE = '**/*.{ts,mts,cts,tsx,vue}';

// Import specifiers are relative paths ('../../src-main/api/x'), so match on a path segment.
/** @param {string} pathRegex @param {string} message @param {boolean} [allowTypeImports] */
const importPattern = (pathRegex, message, allowTypeImports = false) => ({
  regex: pathRegex,
  caseSensitive: true,
  message,
  ...(allowTypeImports ? { allowTypeImports: true } : {}),
});

const FLOW =
  'Imports flow one way: src-renderer → (types of) src-main/api → orchestrator → src-node-agent (ARCHITECTURE.md).';

const agentMustNotImportMain = importPattern(
  '(^|/)src-main(/|$)',
  `src-node-agent is bundled alone and pushed to nodes; it must not import src-main. ${FLOW}`,
);
const agentMustNotImportRenderer = importPattern(
  '(^|/)src-renderer(/|$)',
  `src-node-agent must not import src-renderer. ${FLOW}`,
);
const mainMustNotImportRenderer = importPattern(
  '(^|/)src-renderer(/|$)',
  `src-main must not import src-renderer; the dashboard talks to it only through src-main/api. ${FLOW}`,
);
const rendererTypesFromApi = importPattern(
  '(^|/)src-main/api(/|$)',
  `The renderer may import only TYPES from src-main/api: write \`import type\`. Values come over the api transport at run time. ${FLOW}`,
  true,
);
const rendererNothingElseFromMain = importPattern(
  '(^|/)src-main(/(?!api(/|$))|$)',
  `The renderer may import nothing from src-main except types from src-main/api. ${FLOW}`,
);
const rendererMustNotImportAgent = importPattern(
  '(^|/)src-node-agent(/|$)',
  `The renderer must not import src-node-agent; what it needs must be part of src-main/api. ${FLOW}`,
);
const rendererNoNode = importPattern(
  '^(node:|electron(/|$))',
  'The renderer is a sandboxed web page: no Node builtins, no electron. Desktop features come from window.faultlabDesktop (src-main/api/desktop-bridge.ts).',
);

const SANS_IO =
  'stacks are sans-IO: use Context.now()/Context.random()/Context.setTimer, so the simulator can replay a run from its seed.';
const NODE_BUILTINS = builtinModules.filter((name) => !name.startsWith('_'));
const escapeRegex = (/** @type {string} */ text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sansIoNodeScheme = importPattern(
  '^node:',
  `No Node builtins in core/ and stacks/: ${SANS_IO} I/O belongs to the drivers (sim/, runtime/).`,
);
const sansIoBareBuiltins = importPattern(
  `^(${NODE_BUILTINS.map(escapeRegex).join('|')})(/|$)`,
  `No Node builtins in core/ and stacks/: ${SANS_IO} I/O belongs to the drivers (sim/, runtime/).`,
);

/**
 * @param {Array<ReturnType<typeof importPattern>>} patterns
 * @param {Array<{ name: string, message: string }>} [paths]
 * @returns {import('eslint').Linter.RulesRecord}
 */
const restrictImports = (patterns, paths = []) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }],
});

const sansIoGlobals = [
  ...['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'].map((name) => ({
    name,
    message: `No ${name} in core/ and stacks/: ${SANS_IO}`,
  })),
  ...['clearTimeout', 'clearInterval', 'clearImmediate'].map((name) => ({
    name,
    message: `No ${name} in core/ and stacks/: timers are Context.setTimer; setting one with the same name replaces it.`,
  })),
  { name: 'performance', message: `No performance clock in core/ and stacks/: ${SANS_IO}` },
  { name: 'process', message: `No process global in core/ and stacks/: ${SANS_IO}` },
  { name: 'Buffer', message: `No Buffer in core/ and stacks/ (it is Node-only): ${SANS_IO}` },
  { name: 'require', message: `No require in core/ and stacks/: ${SANS_IO}` },
  {
    name: 'crypto',
    message: `No crypto global in core/ and stacks/ (random and environment-dependent): ${SANS_IO}`,
  },
  ...['fetch', 'XMLHttpRequest', 'WebSocket'].map((name) => ({
    name,
    message: `No ${name} in core/ and stacks/: send through Context.send/broadcast. ${SANS_IO}`,
  })),
  ...['WeakRef', 'FinalizationRegistry'].map((name) => ({
    name,
    message: `No ${name} in core/ and stacks/: garbage-collection timing is not deterministic. ${SANS_IO}`,
  })),
];

const sansIoProperties = [
  {
    object: 'Math',
    property: 'random',
    message: `No Math.random in core/ and stacks/: ${SANS_IO}`,
  },
  { object: 'Date', property: 'now', message: `No Date.now in core/ and stacks/: ${SANS_IO}` },
  // The same globals reached through globalThis.
  ...[
    'setTimeout',
    'setInterval',
    'setImmediate',
    'queueMicrotask',
    'performance',
    'process',
    'crypto',
    'fetch',
    'Date',
  ].map((property) => ({
    object: 'globalThis',
    property,
    message: `No globalThis.${property} in core/ and stacks/: ${SANS_IO}`,
  })),
];

const sansIoSyntax = [
  {
    selector: "NewExpression[callee.type='Identifier'][callee.name='Date']",
    message: `No new Date() in core/ and stacks/: ${SANS_IO}`,
  },
  {
    selector: "CallExpression[callee.type='Identifier'][callee.name='Date']",
    message: `No Date() in core/ and stacks/: ${SANS_IO}`,
  },
  {
    selector: 'ImportExpression',
    message: `No dynamic import() in core/ and stacks/: loading code is I/O. ${SANS_IO}`,
  },
];

export default defineConfig(
  globalIgnores(['out/', 'node_modules/', 'runs/', 'test-artifacts/', 'coverage/']),

  js.configs.recommended,
  tseslint.configs.recommended,
  pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
    // TypeScript checks undefined names in .vue files too (vue-tsc), and knows the DOM types.
    rules: { 'no-undef': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },

  // Where code runs decides which globals exist.
  { files: ['src-renderer/**'], languageOptions: { globals: globals.browser } },
  {
    files: [
      'src-main/**',
      'src-node-agent/**',
      'scripts/**',
      'bench/**',
      'test/**',
      '*.{js,mjs,ts}',
    ],
    languageOptions: { globals: globals.node },
  },

  // The one-way imports.
  {
    files: [`src-node-agent/${TS_AND_VUE}`],
    rules: restrictImports([agentMustNotImportMain, agentMustNotImportRenderer]),
  },
  {
    files: [`src-main/${TS_AND_VUE}`],
    rules: restrictImports([mainMustNotImportRenderer]),
  },
  {
    files: [`src-renderer/${TS_AND_VUE}`],
    rules: restrictImports([
      rendererTypesFromApi,
      rendererNothingElseFromMain,
      rendererMustNotImportAgent,
      rendererNoNode,
    ]),
  },

  // Sans-IO protocol code: it must behave identically under the simulator and on real nodes.
  {
    files: [`src-node-agent/core/${TS_AND_VUE}`, `src-node-agent/stacks/${TS_AND_VUE}`],
    rules: {
      ...restrictImports([
        agentMustNotImportMain,
        agentMustNotImportRenderer,
        sansIoNodeScheme,
        sansIoBareBuiltins,
      ]),
      'no-restricted-globals': ['error', ...sansIoGlobals],
      'no-restricted-properties': ['error', ...sansIoProperties],
      'no-restricted-syntax': ['error', ...sansIoSyntax],
    },
  },

  prettierConfig,
);
