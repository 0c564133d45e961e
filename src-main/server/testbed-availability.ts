import type { TestbedAvailability } from '../api/api-schema';
import { findTool } from '../testbeds/netns/run-tool';

/**
 * Which testbeds this server can run on, and for each one that it cannot, why and what to do,
 * so the run setup says it before the user picks one rather than after Start.
 */
export function testbedAvailability(
  uid: number | undefined = process.getuid?.(),
): TestbedAvailability[] {
  const missing = (tools: readonly string[]): string[] =>
    tools.flatMap((t) => {
      try {
        findTool(t);
        return [];
      } catch (err) {
        return [(err as Error).message.replace(/^netns testbed: /, '')];
      }
    });
  const netnsProblems = [
    ...(uid === 0
      ? []
      : [
          'needs root (namespaces, bridges and nftables need CAP_NET_ADMIN): start FaultLab as root, or use local processes',
        ]),
    ...missing(['ip', 'nft', 'tc', 'sshd', 'ssh-keygen', 'unshare']),
  ];
  return [
    { kind: 'local', available: true, reason: null },
    {
      kind: 'netns',
      available: netnsProblems.length === 0,
      reason: netnsProblems.length === 0 ? null : netnsProblems.join('; '),
    },
    { kind: 'ssh', available: true, reason: null },
  ];
}
