#!/usr/bin/env node
// Bundles the agent into ONE CommonJS file that runs on any node with Node.js >= 18 and
// nothing else installed: every dependency is inlined, only Node builtins stay external.
// Prints where it went, its size and its sha256 (the orchestrator verifies pushed copies).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'src-node-agent', 'agent.ts');
// `--outfile <path>` builds elsewhere (tests build into a temp dir, never over out/).
const outfileArg = process.argv.indexOf('--outfile');
const outfile =
  outfileArg !== -1 && process.argv[outfileArg + 1] !== undefined
    ? resolve(process.argv[outfileArg + 1])
    : join(root, 'out', 'agent', 'faultlab-agent.cjs');

/** @type {{ version: string }} */
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

let result;
try {
  result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    tsconfig: join(root, 'tsconfig.agent.json'),
    define: { __FAULTLAB_VERSION__: JSON.stringify(pkg.version) },
    banner: { js: '#!/usr/bin/env node' },
    legalComments: 'inline',
    metafile: true,
    logLevel: 'warning',
  });
} catch {
  // esbuild has already printed each error with its file and line; say which step failed.
  console.error(`build-agent: bundling ${relative(root, entry)} failed (errors above)`);
  process.exit(1);
}

// esbuild keeps Node builtins external for platform 'node'. Anything else external would be
// missing on the node, so refuse to ship it.
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const strayExternals = Object.values(result.metafile.inputs)
  .flatMap((input) => input.imports)
  .filter((imported) => imported.external && !builtins.has(imported.path))
  .map((imported) => imported.path);
if (strayExternals.length > 0) {
  console.error(
    `build-agent: the bundle would need modules that are not Node builtins: ${[...new Set(strayExternals)].join(', ')}`,
  );
  process.exit(1);
}

await chmod(outfile, 0o755);
const bytes = await readFile(outfile);
const sha256 = createHash('sha256').update(bytes).digest('hex');
console.log(`agent: ${relative(root, outfile)}`);
console.log(`  size    ${bytes.length} bytes (${(bytes.length / 1024).toFixed(1)} KiB)`);
console.log(`  sha256  ${sha256}`);
console.log(`  version ${pkg.version}`);
