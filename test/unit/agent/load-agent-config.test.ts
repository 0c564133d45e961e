import { describe, expect, it } from 'vitest';
import type { AgentConfigInput } from '../../../src-node-agent/control/agent-config';
import { validateAgentConfig } from '../../../src-node-agent/control/load-agent-config';

const base: AgentConfigInput = {
  version: 1,
  runId: 'r1',
  node: 'n1',
  role: 'replica',
  stack: 'paxos',
  params: {},
  servers: [
    { id: 'n1', host: '127.0.0.1', port: 7001 },
    { id: 'n2', host: '127.0.0.1', port: 7002 },
  ],
  secretHex: 'ab'.repeat(32),
  workDir: '/tmp/w',
  controlSocket: '/tmp/w/control.sock',
  lease_ms: 3000,
  durability: 'fsync',
};

describe('agent.json validation', () => {
  it('accepts a good config and fills in defaults, the stack parameters included', () => {
    const loaded = validateAgentConfig(base, '/w/agent.json');
    expect(loaded.config.telemetryInterval_ms).toBe(500);
    expect(loaded.stack.name).toBe('paxos');
    expect((loaded.params as { heartbeat_ms: number }).heartbeat_ms).toBe(20);
  });

  it('names the file and the field that is wrong', () => {
    const cases: [Partial<AgentConfigInput> & Record<string, unknown>, RegExp][] = [
      [{ secretHex: 'xyz' }, /\/w\/agent\.json: field "secretHex"/],
      [{ lease_ms: 5 }, /field "lease_ms"/],
      [{ stack: 'raft' }, /field "stack": unknown stack "raft"; this agent knows paxos/],
      [{ params: { heartbeat_ms: -1 } }, /field "params\.heartbeat_ms"/],
      [{ node: 'n9' }, /field "node": replica "n9" is not in "servers"/],
      [{ role: 'workload' }, /field "node": workload agent "n1" must not share an id/],
      [{ extra: 1 }, /field "\(root\)"/],
    ];
    for (const [change, message] of cases) {
      expect(() => validateAgentConfig({ ...base, ...change }, '/w/agent.json')).toThrow(message);
    }
  });
});
