import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { startApiServer, type ApiServer } from '../server/api-server';
import { rendererIsBuilt } from '../server/static-assets';

export interface ServeCommandArgs {
  readonly port: number;
  readonly runsDir: string;
  readonly labsDir: string;
  readonly print: (line: string) => void;
}

export const DEFAULT_RENDERER_ROOT = fileURLToPath(new URL('../../out/renderer/', import.meta.url));

export async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(
    await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return pkg.version;
}

/**
 * `faultlab serve`: the dashboard and its api on 127.0.0.1 until SIGINT/SIGTERM; then every
 * run is stopped (faults healed, agents stopped) and every terminal closed. Exit 0 after a
 * clean stop, 2 when the server could not start.
 */
export async function serveCommand(args: ServeCommandArgs): Promise<number> {
  const { print } = args;
  let server: ApiServer;
  try {
    server = await startApiServer({
      port: args.port,
      runsDir: resolve(args.runsDir),
      labsDir: resolve(args.labsDir),
      rendererRoot: DEFAULT_RENDERER_ROOT,
      version: await packageVersion(),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    print(
      code === 'EADDRINUSE'
        ? `faultlab serve: port ${args.port} on 127.0.0.1 is in use; pick another with --port (0 = any free port)`
        : `faultlab serve: cannot start: ${(err as Error).message}`,
    );
    return 2;
  }
  if (!(await rendererIsBuilt(DEFAULT_RENDERER_ROOT))) {
    print(
      `warning: the dashboard is not built (${DEFAULT_RENDERER_ROOT} has no index.html): run \`npm run build\`; the api works meanwhile`,
    );
  }
  print(`FaultLab dashboard: ${server.url}`);
  print(`runs: ${resolve(args.runsDir)}   labs: ${resolve(args.labsDir)}`);
  print(
    "open the URL above (it carries this start's access token); Ctrl-C stops every run and the server",
  );
  await new Promise<void>((done) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      print(
        `\n${signal}: stopping every run (healing faults, stopping agents) and closing terminals…`,
      );
      void server.close(`${signal} to faultlab serve`).then(done, (err: Error) => {
        print(`faultlab serve: stopping failed: ${err.message}`);
        done();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  print('stopped');
  return 0;
}

/** The `serve` subcommand (registered by faultlab.ts). */
export function registerServeCommand(program: Command, parsePort: (value: string) => number): void {
  program
    .command('serve')
    .description(
      'serve the dashboard and its api on 127.0.0.1 (prints the URL with its access token)',
    )
    .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', parsePort, 7170)
    .option('--runs-dir <dir>', 'where run directories go', 'runs')
    .option('--labs-dir <dir>', 'where labs/<id>/lab.yaml are', 'labs')
    .action(async (opts: Record<string, unknown>) => {
      process.exitCode = await serveCommand({
        port: opts['port'] as number,
        runsDir: String(opts['runsDir']),
        labsDir: String(opts['labsDir']),
        print: (line) => console.log(line),
      });
    });
}
