/**
 * The long-lived `nft -i` session on the real kernel (root): a batch is one transaction (a bad
 * line leaves nothing of its batch in force) and its error names what nft said; the session
 * survives a rejected batch; close() ends the process. Works in a table of its own, removed
 * after.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { NftSession } from '../../../src-main/testbeds/netns/nft-session';
import { findTool } from '../../../src-main/testbeds/netns/run-tool';

function missing(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    findTool('nft');
  } catch {
    return 'nft is not installed';
  }
  return null;
}
const skip = missing();
if (skip !== null) console.log(`nft session tests skipped: ${skip}`);

const TABLE = `inet faultlab_nftsess_${process.pid}`;
const nft = (...args: string[]): string =>
  execFileSync(findTool('nft'), args, { encoding: 'utf8', timeout: 10_000 });

describe.skipIf(skip !== null)('nft -i session', () => {
  const sessions: NftSession[] = [];
  afterAll(() => {
    for (const s of sessions) s.close();
    try {
      nft('delete', 'table', ...TABLE.split(' '));
    } catch {
      // Not created (a test failed before): nothing to remove.
    }
  });

  it('runs batches as single transactions, reports a rejected one, and keeps going', async () => {
    const session = await NftSession.open();
    sessions.push(session);
    await session.run(
      `add table ${TABLE}\nadd chain ${TABLE} a\nadd rule ${TABLE} a tcp dport 22 accept\n`,
      {
        timeout_ms: 5_000,
        hint: 'test',
      },
    );
    expect(nft('list', 'chain', ...TABLE.split(' '), 'a')).toContain('tcp dport 22 accept');
    // The second line names a chain that does not exist: the first must not take effect.
    await expect(
      session.run(`add chain ${TABLE} b\nadd rule ${TABLE} nosuch tcp dport 1 accept\n`, {
        timeout_ms: 5_000,
        hint: 'the hint is appended',
      }),
    ).rejects.toThrow(/No such file or directory.*the hint is appended/s);
    expect(nft('list', 'table', ...TABLE.split(' '))).not.toContain('chain b');
    await session.run(`insert rule ${TABLE} a return\n`, { timeout_ms: 5_000, hint: 'test' });
    expect(nft('list', 'chain', ...TABLE.split(' '), 'a')).toMatch(/return\s+tcp dport 22 accept/);
    session.close();
    expect(session.isClosed).toBe(true);
    await expect(
      session.run(`add chain ${TABLE} c\n`, { timeout_ms: 5_000, hint: 'test' }),
    ).rejects.toThrow(/closed/);
  });
});
