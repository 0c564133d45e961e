import { isAbsolute, relative, resolve, sep } from 'node:path';
import { isAllowedNavigation } from './navigation-guard';

/**
 * Checks for arguments that arrive over IPC. The renderer is untrusted (it renders lab text
 * and run data), so the main process checks every value before it touches the file system.
 */
export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export const MAX_PATH_LENGTH = 4096;

/** Only the app's own page may call the bridge: not a subframe, not a page navigated elsewhere. */
export function isTrustedSender(senderUrl: string | undefined, appOrigin: string): boolean {
  return senderUrl !== undefined && isAllowedNavigation(senderUrl, appOrigin);
}

export function checkArgumentCount(args: readonly unknown[], expected: number): Checked<null> {
  if (args.length !== expected) {
    return { ok: false, reason: `expected ${expected} argument(s), got ${args.length}` };
  }
  return { ok: true, value: null };
}

/**
 * A run folder path must be a string, absolute, bounded, and inside `runsRoot` (the root
 * itself included). The caller still checks that it exists and is a directory, after
 * resolving symlinks, because that needs the file system.
 */
export function checkRunFolderPath(candidate: unknown, runsRoot: string): Checked<string> {
  if (typeof candidate !== 'string') {
    return { ok: false, reason: `run folder must be a string, got ${typeof candidate}` };
  }
  if (candidate.length === 0 || candidate.length > MAX_PATH_LENGTH) {
    return { ok: false, reason: `run folder path must be 1..${MAX_PATH_LENGTH} characters` };
  }
  if (candidate.includes('\0')) {
    return { ok: false, reason: 'run folder path contains a NUL byte' };
  }
  if (!isAbsolute(candidate)) {
    return { ok: false, reason: `run folder must be an absolute path, got "${candidate}"` };
  }
  const resolved = resolve(candidate);
  if (!isInside(resolved, runsRoot)) {
    return { ok: false, reason: `"${candidate}" is not inside the runs folder ${runsRoot}` };
  }
  return { ok: true, value: resolved };
}

export function isInside(candidate: string, root: string): boolean {
  const fromRoot = relative(resolve(root), resolve(candidate));
  return (
    fromRoot === '' ||
    (fromRoot !== '..' && !fromRoot.startsWith(`..${sep}`) && !isAbsolute(fromRoot))
  );
}
