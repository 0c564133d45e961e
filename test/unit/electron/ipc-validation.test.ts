import { describe, expect, it } from 'vitest';
import { APP_ORIGIN } from '../../../src-main/electron/app-protocol';
import {
  checkArgumentCount,
  checkRunFolderPath,
  isInside,
  isTrustedSender,
  MAX_PATH_LENGTH,
} from '../../../src-main/electron/ipc-validation';

const runsRoot = '/home/ada/faultlab/runs';

describe('checkRunFolderPath', () => {
  it('accepts absolute paths inside the runs folder, and the folder itself', () => {
    expect(checkRunFolderPath(`${runsRoot}/paxos/2025-01-01T00-00-00Z`, runsRoot)).toEqual({
      ok: true,
      value: `${runsRoot}/paxos/2025-01-01T00-00-00Z`,
    });
    expect(checkRunFolderPath(runsRoot, runsRoot)).toEqual({ ok: true, value: runsRoot });
  });

  it('rejects escapes: .., a sibling with the same prefix, another tree', () => {
    for (const path of [
      `${runsRoot}/../secrets`,
      `${runsRoot}/paxos/../../..`,
      `${runsRoot}-old/paxos`,
      '/etc',
    ]) {
      const checked = checkRunFolderPath(path, runsRoot);
      expect(checked.ok, path).toBe(false);
    }
  });

  it('rejects what is not an absolute, bounded path string', () => {
    for (const value of [undefined, null, 42, {}, ['/x'], '', 'runs/paxos', `${runsRoot}/a\0b`]) {
      expect(checkRunFolderPath(value, runsRoot).ok, JSON.stringify(value)).toBe(false);
    }
    expect(checkRunFolderPath(`${runsRoot}/${'a'.repeat(MAX_PATH_LENGTH)}`, runsRoot).ok).toBe(
      false,
    );
  });

  it('says why it refused', () => {
    const checked = checkRunFolderPath('/etc', runsRoot);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toMatch(/not inside the runs folder/);
  });
});

describe('isInside', () => {
  it('treats a child named like "..x" as inside', () => {
    expect(isInside(`${runsRoot}/..hidden`, runsRoot)).toBe(true);
    expect(isInside(`${runsRoot}/..`, runsRoot)).toBe(false);
  });
});

describe('checkArgumentCount', () => {
  it('requires exactly the expected number of arguments', () => {
    expect(checkArgumentCount([], 0).ok).toBe(true);
    expect(checkArgumentCount(['/x'], 0).ok).toBe(false);
    expect(checkArgumentCount(['/x'], 1).ok).toBe(true);
    expect(checkArgumentCount(['/x', '/y'], 1).ok).toBe(false);
  });
});

describe('isTrustedSender', () => {
  it('trusts only frames showing the app', () => {
    expect(isTrustedSender(`${APP_ORIGIN}/index.html`, APP_ORIGIN)).toBe(true);
    expect(isTrustedSender('https://example.com/', APP_ORIGIN)).toBe(false);
    expect(isTrustedSender(undefined, APP_ORIGIN)).toBe(false);
  });
});
