/**
 * File-system errors rewritten as "what failed, on which file, what to do": an operator reads
 * these in the middle of a run and must know whether to free disk space or fix permissions.
 */
export function describeFileError(err: unknown, action: string, path: string): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const reason = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ENOSPC':
      return `disk full while ${action} ${path}: free space on that disk (df -h) or record to another directory; what was flushed before stays readable`;
    case 'EDQUOT':
      return `disk quota exceeded while ${action} ${path}: free space or raise the quota; what was flushed before stays readable`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied while ${action} ${path}: make the directory writable by this user (ls -ld, chmod/chown) or record to another directory`;
    case 'EROFS':
      return `read-only file system while ${action} ${path}: record to a writable directory`;
    case 'ENOENT':
      return `no such file or directory while ${action} ${path}: check that the path exists`;
    case 'ENOTDIR':
      return `a path component is not a directory while ${action} ${path}: check the path`;
    case 'EMFILE':
    case 'ENFILE':
      return `too many open files while ${action} ${path}: raise the limit (ulimit -n) or close other runs`;
    case 'EIO':
      return `I/O error while ${action} ${path}: the disk may be failing; check dmesg`;
    default:
      return `failed ${action} ${path}: ${reason}`;
  }
}

export class RecordingFileError extends Error {
  override readonly name = 'RecordingFileError';
  readonly code: string | undefined;
  constructor(err: unknown, action: string, path: string) {
    super(describeFileError(err, action, path), { cause: err });
    this.code = (err as NodeJS.ErrnoException | null)?.code;
  }
}
