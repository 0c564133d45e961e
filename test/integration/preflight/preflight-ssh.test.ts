/**
 * Preflight over real OpenSSH (sshds on loopback ports with their own host keys stand for
 * hosts): every check runs on every host and every pair; a host whose Node is too old, and
 * one that cannot be reached, fail required checks with their reasons and exit code 1,
 * while the good hosts still get their results.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiMethods } from '../../../src-main/api/api-schema';
import { preflightCommand } from '../../../src-main/cli/preflight-command';
import type { ApiConnection } from '../../../src-main/server/api-connection';
import { apiHandlers, type HandlerContext } from '../../../src-main/server/api-handlers';
import {
  preflightResultSchema,
  type PreflightResult,
} from '../../../src-main/preflight/preflight-result';
import {
  freePort,
  SSH_KEYGEN_PATH,
  sshdUnavailableReason,
  startSshd,
  type TestSshd,
} from '../../support/sshd';

const unavailable = sshdUnavailableReason();
if (unavailable !== null) console.warn(`skipping preflight SSH tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('preflight over real sshds', () => {
  let dir = '';
  let sshds: TestSshd[] = [];
  let knownHosts = '';
  let oldNodeKey = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-preflight-'));
    // A "host" whose login PATH finds Node 18 first: a second client key, authorized with a
    // forced command that puts a fake node ahead of the real one.
    const fakeBin = join(dir, 'old-node-bin');
    mkdirSync(fakeBin);
    writeFileSync(join(fakeBin, 'node'), '#!/bin/sh\necho v18.19.0\n');
    chmodSync(join(fakeBin, 'node'), 0o755);
    oldNodeKey = join(dir, 'old_node_key');
    execFileSync(SSH_KEYGEN_PATH, ['-q', '-t', 'ed25519', '-N', '', '-f', oldNodeKey]);
    const forced = `command="PATH=${fakeBin}:$PATH; eval \\"$SSH_ORIGINAL_COMMAND\\"" ${readFileSync(`${oldNodeKey}.pub`, 'utf8').trim()}`;
    sshds = [
      await startSshd(),
      await startSshd(),
      await startSshd({ extraAuthorizedKeys: [forced] }),
    ];
    knownHosts = join(dir, 'known_hosts');
    writeFileSync(
      knownHosts,
      sshds
        .map((s) => `[127.0.0.1]:${s.port} ${s.hostPublicKey.split(' ').slice(0, 2).join(' ')}`)
        .join('\n') + '\n',
    );
  }, 30_000);

  afterAll(async () => {
    await Promise.all(sshds.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  const inventory = (
    name: string,
    hosts: { name: string; port: number; key: string }[],
  ): string => {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(
      path,
      'hosts:\n' +
        hosts
          .map(
            (h) =>
              `  - name: ${h.name}\n    host: 127.0.0.1\n    port: ${h.port}\n    user: root\n    identityFile: ${h.key}\n`,
          )
          .join(''),
    );
    return path;
  };

  const preflight = async (
    inv: string,
  ): Promise<{ code: number; out: string[]; result: PreflightResult }> => {
    const out: string[] = [];
    const code = await preflightCommand({
      testbed: 'ssh',
      inventory: inv,
      knownHostsFile: knownHosts,
      print: (l) => out.push(l),
    });
    const json: string[] = [];
    await preflightCommand({
      testbed: 'ssh',
      inventory: inv,
      knownHostsFile: knownHosts,
      json: true,
      print: (l) => json.push(l),
    });
    return { code, out, result: preflightResultSchema.parse(JSON.parse(json.join('\n'))) };
  };

  it(
    'passes on good hosts: Node, a free port, clock offset, RTT of every pair',
    { timeout: 60_000 },
    async () => {
      const inv = inventory(
        'good',
        [0, 1, 2].map((i) => ({
          name: `h${i + 1}`,
          port: sshds[i]!.port,
          key: sshds[i]!.clientKeyPath,
        })),
      );
      const { code, out, result } = await preflight(inv);
      console.log(out.join('\n'));
      expect(code, out.join('\n')).toBe(0);
      expect(result.ok).toBe(true);
      for (const h of ['h1', 'h2', 'h3']) {
        for (const check of ['reachable', 'node', 'ports', 'clock', 'kernel-faults'] as const) {
          const c = result.checks.find((x) => x.host === h && x.check === check);
          expect(c?.status, `${h} ${check}: ${c?.detail}`).toBe('pass');
        }
        // Same machine: the offset is within its own uncertainty plus a little scheduling noise.
        const clock = result.checks.find((x) => x.host === h && x.check === 'clock')!;
        expect(Math.abs(clock.value_ms!)).toBeLessThan(clock.uncertainty_ms! + 20);
      }
      const rtts = result.checks.filter((c) => c.check === 'rtt');
      expect(rtts.map((c) => `${c.host}-${c.peer}`)).toEqual(['h1-h2', 'h1-h3', 'h2-h3']);
      for (const c of rtts) {
        expect(c.status).toBe('pass');
        expect(c.value_ms!).toBeGreaterThan(0);
        expect(c.value_ms!).toBeLessThan(100);
      }
      // Bandwidth of every pair, streamed over TCP for a moment (loopback: far above 10 Mbit/s).
      const bandwidths = result.checks.filter((c) => c.check === 'bandwidth');
      expect(bandwidths.map((c) => `${c.host}-${c.peer}`)).toEqual(['h1-h2', 'h1-h3', 'h2-h3']);
      for (const c of bandwidths) {
        expect(c.status, c.detail).toBe('pass');
        expect(c.value_mbps!).toBeGreaterThan(10);
      }
      expect(out.join('\n')).toMatch(/from\s+to\s+rtt \(median\)\s+bandwidth/);
      expect(out.join('\n')).toMatch(/host\s+address\s+reachable\s+node\s+ports\s+clock offset/);
      expect(out.at(-1)).toMatch(/^preflight passed/);
    },
  );

  it(
    'refuses with reasons: Node too old on one host, another unreachable; the rest is still checked',
    { timeout: 60_000 },
    async () => {
      const closed = await freePort();
      const inv = inventory('bad', [
        { name: 'good1', port: sshds[0]!.port, key: sshds[0]!.clientKeyPath },
        { name: 'old', port: sshds[2]!.port, key: oldNodeKey },
        { name: 'gone', port: closed, key: sshds[1]!.clientKeyPath },
        { name: 'good2', port: sshds[1]!.port, key: sshds[1]!.clientKeyPath },
      ]);
      const { code, out, result } = await preflight(inv);
      const text = out.join('\n');
      console.log(text);
      expect(code, text).toBe(1);
      expect(result.ok).toBe(false);
      const get = (host: string, check: string) =>
        result.checks.find((c) => c.host === host && c.check === check);
      expect(get('old', 'node')?.status).toBe('fail');
      expect(get('old', 'node')?.detail).toMatch(
        /v18\.19\.0, older than the v20 the agent needs; install Node 20/,
      );
      expect(get('old', 'ports')?.status).toBe('skipped');
      expect(get('gone', 'reachable')?.status).toBe('fail');
      expect(get('gone', 'reachable')?.detail).toContain(`127.0.0.1:${closed}`);
      expect(get('good1', 'node')?.status).toBe('pass');
      expect(
        result.checks
          .filter((c) => c.check === 'rtt')
          .map((c) => `${c.host}-${c.peer}:${c.status}`),
      ).toEqual(['good1-good2:pass']);
      expect(text).toMatch(/FAIL old: node \(required\): .*v18\.19\.0/);
      expect(text).toMatch(/FAIL gone: reachable \(required\)/);
      expect(out.at(-1)).toMatch(
        /^preflight FAILED: 2 required check\(s\) failed; the run is refused/,
      );
    },
  );

  it(
    'is the dashboard api method preflight.run: params and result as the schema says',
    { timeout: 60_000 },
    async () => {
      const inv = inventory(
        'api',
        [0, 1].map((i) => ({
          name: `h${i + 1}`,
          port: sshds[i]!.port,
          key: sshds[i]!.clientKeyPath,
        })),
      );
      const spec = apiMethods['preflight.run'];
      const params = spec.params.parse({ testbed: 'ssh', inventory: inv, knownHosts });
      // Only the preflight handler runs here: it needs none of the server's run state.
      const handlers = apiHandlers({
        runsDir: dir,
        labsDir: dir,
        version: 'test',
        desktop: false,
        notices: [],
      } as unknown as HandlerContext);
      // The page's side of it: a preflight slot, and no passphrase to give (the keys are plain).
      const page = {
        claimPreflight: () => () => undefined,
        passphrases: { ask: () => Promise.resolve(null) },
      } as unknown as ApiConnection;
      const result = spec.result.parse(await handlers['preflight.run'](params, page));
      expect(result.ok).toBe(true);
      expect(result.hosts.map((h) => h.name)).toEqual(['h1', 'h2']);
      expect(result.checks.filter((c) => c.check === 'rtt' && c.status === 'pass').length).toBe(1);
      expect(spec.params.safeParse({ testbed: 'local' }).success).toBe(false);
    },
  );
});
