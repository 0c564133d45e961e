import { runTool, ToolError } from './run-tool';

export type NetemStatus =
  { readonly available: true } | { readonly available: false; readonly reason: string };

const PROBE_IFNAME = 'flprobe0';
const PROBE_PEER = 'flprobe1';

/**
 * Whether this kernel can run tc `netem` (delay, loss, duplication, reordering). Asked of the
 * kernel, not guessed from module lists (netem may be built in, a module, or absent): add a
 * netem qdisc to a throw-away veth pair inside one of our namespaces, then remove the pair.
 * (A veth, not a dummy device: this kernel family may lack the dummy driver, and a testbed
 * has veths anyway.) Nothing outside that namespace is touched, and the node's own
 * interfaces never carry the probe.
 */
export async function detectNetem(namespace: string): Promise<NetemStatus> {
  const hint = `the probe device ${PROBE_IFNAME} in namespace ${namespace} could not be managed`;
  await runTool(
    'ip',
    ['-n', namespace, 'link', 'add', PROBE_IFNAME, 'type', 'veth', 'peer', 'name', PROBE_PEER],
    { hint },
  );
  try {
    await runTool(
      'tc',
      ['-n', namespace, 'qdisc', 'add', 'dev', PROBE_IFNAME, 'root', 'netem', 'delay', '1ms'],
      { hint: 'netem probe' },
    );
    return { available: true };
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    const said = err.stderr.trim();
    return {
      available: false,
      reason:
        `tc netem is not available in this kernel (${said === '' ? `tc exited ${err.exitCode}` : said}); ` +
        'delay, loss, duplication and reordering fall back to the agent link filter',
    };
  } finally {
    await runTool('ip', ['-n', namespace, 'link', 'delete', PROBE_IFNAME], { hint });
  }
}
