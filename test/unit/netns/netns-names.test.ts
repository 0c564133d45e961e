import { describe, expect, it } from 'vitest';
import {
  assertTestbedId,
  bridgeName,
  MAX_NODES,
  namespaceName,
  newTestbedId,
  nftTableName,
  nodeIp,
  ownerIdOf,
  parseSubnet,
  vethName,
} from '../../../src-main/testbeds/netns/netns-names';
import { requireRoot } from '../../../src-main/testbeds/netns/netns-testbed-up';

/** IFNAMSIZ is 16 including the terminating NUL. */
const IFNAME_MAX = 15;

describe('netns names', () => {
  it('interface names of the longest id and the largest node index fit the kernel limit', () => {
    const id = 'zzzzzz';
    expect(bridgeName(id).length).toBeLessThanOrEqual(IFNAME_MAX);
    expect(vethName(id, MAX_NODES).length).toBeLessThanOrEqual(IFNAME_MAX);
  });

  it('every name maps back to its testbed id; names of others map to null', () => {
    const id = newTestbedId();
    assertTestbedId(id);
    expect(ownerIdOf('namespace', namespaceName(id, 7))).toBe(id);
    expect(ownerIdOf('link', bridgeName(id))).toBe(id);
    expect(ownerIdOf('link', vethName(id, 12))).toBe(id);
    expect(ownerIdOf('nft-table', nftTableName(id))).toBe(id);
    expect(ownerIdOf('state-file', `netns-${id}.json`)).toBe(id);
    for (const foreign of [
      'eth0',
      'docker0',
      'veth1a2b3c',
      'flannel.1',
      'fl-',
      'flbr-UPPER',
      'br-123456',
    ]) {
      expect(ownerIdOf('link', foreign)).toBeNull();
    }
    for (const foreign of ['cni-1234', 'fl-abc', 'fl-abc-x1', 'fl-toolongid-n1']) {
      expect(ownerIdOf('namespace', foreign)).toBeNull();
    }
    expect(ownerIdOf('nft-table', 'filter')).toBeNull();
    expect(ownerIdOf('nft-table', 'faultlab')).toBeNull();
  });

  it('rejects ids that would break names, saying why', () => {
    expect(() => assertTestbedId('toolong7')).toThrow(/15 characters/);
    expect(() => assertTestbedId('Ab')).toThrow(/lowercase/);
    expect(() => assertTestbedId('a-b')).toThrow(/invalid/);
  });

  it('subnets: bridge .1, node i at .(10+i); malformed subnets are refused with the expected form', () => {
    const s = parseSubnet('10.77.5.0/24');
    expect(nodeIp(s, 1)).toBe('10.77.5.11');
    expect(nodeIp(s, MAX_NODES)).toBe('10.77.5.210');
    expect(() => nodeIp(s, 0)).toThrow(/outside/);
    expect(() => parseSubnet('10.77.5.0/16')).toThrow(/10\.77\.5\.0\/24/);
    expect(() => parseSubnet('10.300.5.0/24')).toThrow(/not a \/24/);
  });

  it('without root: an error that says root is needed and points to the local testbed', () => {
    expect(() => requireRoot(1000)).toThrow(/needs root/);
    expect(() => requireRoot(1000)).toThrow(/--testbed local/);
    expect(() => requireRoot(0)).not.toThrow();
  });
});
