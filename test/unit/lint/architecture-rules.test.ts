import { ESLint, type Linter } from 'eslint';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The architecture is enforced by eslint.config.js. These tests lint small snippets placed at
 * virtual paths in the repo and check that each rule fires where it must, and stays quiet
 * where the code is allowed: a lint rule nobody has seen fire may not work at all.
 */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: repoRoot });
});

async function lint(relativePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, relativePath) });
  expect(result, `no lint result for ${relativePath}`).toBeDefined();
  const messages = result?.messages ?? [];
  const fatal = messages.filter((message) => message.fatal);
  expect(fatal, `${relativePath} did not parse or was ignored`).toEqual([]);
  return messages;
}

interface Violation {
  readonly name: string;
  readonly path: string;
  readonly code: string;
  readonly ruleId: string;
  /** A piece of the message that tells the author why. */
  readonly because: RegExp;
}

const SANS_IO = /stacks are sans-IO: use Context\.now\(\)\/Context\.random\(\)\/Context\.setTimer/;
const FLOW = /Imports flow one way/;

const violations: Violation[] = [
  // Sans-IO: clock, randomness, timers, process, I/O in core/ and stacks/.
  {
    name: 'Math.random in a stack',
    path: 'src-node-agent/stacks/paxos/x.ts',
    code: 'export const coin = Math.random() < 0.5;\n',
    ruleId: 'no-restricted-properties',
    because: SANS_IO,
  },
  {
    name: 'Date.now in a stack',
    path: 'src-node-agent/stacks/pbft/x.ts',
    code: 'export const started_ms = Date.now();\n',
    ruleId: 'no-restricted-properties',
    because: SANS_IO,
  },
  {
    name: 'new Date in core',
    path: 'src-node-agent/core/x.ts',
    code: 'export const started = new Date();\n',
    ruleId: 'no-restricted-syntax',
    because: SANS_IO,
  },
  {
    name: 'setTimeout in a stack',
    path: 'src-node-agent/stacks/tmr/x.ts',
    code: 'export function arm(fn: () => void): void {\n  setTimeout(fn, 10);\n}\n',
    ruleId: 'no-restricted-globals',
    because: SANS_IO,
  },
  {
    name: 'setInterval in a stack',
    path: 'src-node-agent/stacks/tmr/x.ts',
    code: 'export function tick(fn: () => void): void {\n  setInterval(fn, 10);\n}\n',
    ruleId: 'no-restricted-globals',
    because: SANS_IO,
  },
  {
    name: 'setImmediate in core',
    path: 'src-node-agent/core/x.ts',
    code: 'export function later(fn: () => void): void {\n  setImmediate(fn);\n}\n',
    ruleId: 'no-restricted-globals',
    because: SANS_IO,
  },
  {
    name: 'queueMicrotask in a stack',
    path: 'src-node-agent/stacks/paxos/x.ts',
    code: 'export function soon(fn: () => void): void {\n  queueMicrotask(fn);\n}\n',
    ruleId: 'no-restricted-globals',
    because: SANS_IO,
  },
  {
    name: 'performance.now in a stack',
    path: 'src-node-agent/stacks/paxos/x.ts',
    code: 'export const t = performance.now();\n',
    ruleId: 'no-restricted-globals',
    because: SANS_IO,
  },
  {
    name: 'the process global in core',
    path: 'src-node-agent/core/x.ts',
    code: "export const debug = process.env['DEBUG'];\n",
    ruleId: 'no-restricted-globals',
    because: SANS_IO,
  },
  {
    name: 'globalThis.setTimeout in a stack',
    path: 'src-node-agent/stacks/paxos/x.ts',
    code: 'export function arm(fn: () => void): void {\n  globalThis.setTimeout(fn, 1);\n}\n',
    ruleId: 'no-restricted-properties',
    because: SANS_IO,
  },
  {
    name: 'a node: import in core',
    path: 'src-node-agent/core/x.ts',
    code: "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: SANS_IO,
  },
  {
    name: 'a bare builtin import in a stack',
    path: 'src-node-agent/stacks/paxos/x.ts',
    code: "import net from 'net';\nexport const connect = net.connect;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: SANS_IO,
  },
  {
    name: 'a bare builtin subpath import in a stack',
    path: 'src-node-agent/stacks/paxos/x.ts',
    code: "import { readFile } from 'fs/promises';\nexport const read = readFile;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: SANS_IO,
  },
  {
    name: 'crypto in a stack',
    path: 'src-node-agent/stacks/pbft/x.ts',
    code: "import { randomBytes } from 'crypto';\nexport const nonce = randomBytes(8);\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: SANS_IO,
  },
  // One-way imports.
  {
    name: 'the agent importing src-main',
    path: 'src-node-agent/runtime/x.ts',
    code: "import { startRun } from '../../src-main/orchestrator/run';\nexport const s = startRun;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: FLOW,
  },
  {
    name: 'a stack importing src-main (layer rule kept beside the sans-IO rule)',
    path: 'src-node-agent/stacks/paxos/x.ts',
    code: "import type { Command } from '../../../src-main/api/commands';\nexport type C = Command;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: FLOW,
  },
  {
    name: 'the agent importing src-renderer',
    path: 'src-node-agent/control/x.ts',
    code: "import App from '../../src-renderer/App.vue';\nexport default App;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: FLOW,
  },
  {
    name: 'src-main importing src-renderer',
    path: 'src-main/x.ts',
    code: "import App from '../src-renderer/App.vue';\nexport default App;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: FLOW,
  },
  {
    name: 'src-main importing src-renderer, even types',
    path: 'src-main/server/x.ts',
    code: "import type { Theme } from '../../src-renderer/theme';\nexport type T = Theme;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: FLOW,
  },
  {
    name: 'the renderer importing a value from src-main/orchestrator',
    path: 'src-renderer/x.ts',
    code: "import { Orchestrator } from '../src-main/orchestrator/orchestrator';\nexport const o = Orchestrator;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: /nothing from src-main except types from src-main\/api/,
  },
  {
    name: 'the renderer importing types from src-main outside api',
    path: 'src-renderer/stores/x.ts',
    code: "import type { Run } from '../../src-main/orchestrator/run';\nexport type R = Run;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: /nothing from src-main except types from src-main\/api/,
  },
  {
    name: 'the renderer importing a value from src-main/api',
    path: 'src-renderer/x.ts',
    code: "import { commandSchema } from '../src-main/api/commands';\nexport const s = commandSchema;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: /only TYPES from src-main\/api/,
  },
  {
    name: 'the renderer importing src-node-agent',
    path: 'src-renderer/x.ts',
    code: "import type { NodeId } from '../src-node-agent/core/ids';\nexport type N = NodeId;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: FLOW,
  },
  {
    name: 'the renderer importing electron',
    path: 'src-renderer/x.ts',
    code: "import { ipcRenderer } from 'electron';\nexport const ipc = ipcRenderer;\n",
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: /window\.faultlabDesktop/,
  },
  {
    name: 'a Vue component importing a value from src-main',
    path: 'src-renderer/components/RunSummary.vue',
    code:
      '<script setup lang="ts">\n' +
      "import { Orchestrator } from '../../src-main/orchestrator/orchestrator';\n" +
      'const o = Orchestrator;\n' +
      '</script>\n\n' +
      '<template>\n  <p>{{ o }}</p>\n</template>\n',
    ruleId: '@typescript-eslint/no-restricted-imports',
    because: /nothing from src-main except types from src-main\/api/,
  },
];

interface Allowed {
  readonly name: string;
  readonly path: string;
  readonly code: string;
}

const allowed: Allowed[] = [
  {
    name: 'the renderer importing types from src-main/api',
    path: 'src-renderer/x.ts',
    code: "import type { DesktopBridge } from '../src-main/api/desktop-bridge';\nexport type B = DesktopBridge;\n",
  },
  {
    name: 'a Vue component importing types from src-main/api',
    path: 'src-renderer/components/RunSummary.vue',
    code:
      '<script setup lang="ts">\n' +
      "import type { DesktopBridge } from '../../src-main/api/desktop-bridge';\n" +
      'const bridge: DesktopBridge | undefined = window.faultlabDesktop;\n' +
      '</script>\n\n' +
      '<template>\n  <p>{{ bridge ? 1 : 0 }}</p>\n</template>\n',
  },
  {
    name: 'src-main importing src-node-agent',
    path: 'src-main/orchestrator/x.ts',
    code: "import { serverIds } from '../../src-node-agent/core/ids';\nexport const ids = serverIds(3);\n",
  },
  {
    name: 'the agent runtime using Node I/O, timers and the clock (it is a driver)',
    path: 'src-node-agent/runtime/x.ts',
    code:
      "import { createServer } from 'node:net';\n" +
      'export const server = createServer();\n' +
      'export const started_ms = Date.now();\n' +
      'setTimeout(() => server.close(), 10);\n',
  },
  {
    name: 'a stack using zod and core',
    path: 'src-node-agent/stacks/paxos/x.ts',
    code:
      "import { z } from 'zod';\n" +
      "import { serverIds } from '../../core/ids';\n" +
      'export const schema = z.object({ ballot: z.number() });\n' +
      'export const nodes = serverIds(3);\n',
  },
];

describe('architecture lint rules', () => {
  describe.each(violations)('reports $name', (violation) => {
    it(`${violation.path}: ${violation.ruleId}`, async () => {
      const messages = await lint(violation.path, violation.code);
      const hits = messages.filter((message) => message.ruleId === violation.ruleId);
      expect(
        hits,
        `expected ${violation.ruleId}, got: ${JSON.stringify(messages, null, 2)}`,
      ).not.toEqual([]);
      expect(hits.map((hit) => hit.message).join('\n')).toMatch(violation.because);
      expect(hits.every((hit) => hit.severity === 2)).toBe(true);
    });
  });

  describe.each(allowed)('allows $name', (snippet) => {
    it(`${snippet.path} is clean`, async () => {
      expect(await lint(snippet.path, snippet.code)).toEqual([]);
    });
  });
});
