import { readFile } from 'node:fs/promises';

export interface StateLogReplay {
  /** Parsed live values, last line per key wins. */
  readonly values: Map<string, unknown>;
  /** The same, as the serialized lines (what compaction rewrites). */
  readonly lines: Map<string, string>;
  readonly warnings: string[];
  /** Bytes up to the end of the last good line; the rest is a torn tail. */
  readonly validBytes: number;
  readonly fileBytes: number;
}

/**
 * Replays `state.log`. A torn tail — bytes after the last newline, or a last line that is not
 * a valid record (a crash mid-write) — is ignored and reported: it was never acknowledged as
 * durable. A bad line anywhere else is corruption and stops the replica with the line number.
 */
export async function readStateLog(path: string): Promise<StateLogReplay> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { values: new Map(), lines: new Map(), warnings: [], validBytes: 0, fileBytes: 0 };
    }
    throw new Error(`cannot read the replica's stable storage ${path}: ${(err as Error).message}`);
  }
  const values = new Map<string, unknown>();
  const lines = new Map<string, string>();
  const warnings: string[] = [];
  let offset = 0;
  let lineNo = 0;
  while (offset < data.length) {
    const nl = data.indexOf(0x0a, offset);
    if (nl === -1) {
      warnings.push(
        `${path}: ignored a torn last line (${data.length - offset} bytes without a newline, ` +
          'from a crash mid-write)',
      );
      break;
    }
    lineNo++;
    const text = data.toString('utf8', offset, nl);
    const record = parseRecord(text);
    if (record === null) {
      if (nl + 1 === data.length) {
        warnings.push(`${path}:${lineNo}: ignored a torn last line (not a valid record)`);
        break;
      }
      throw new Error(
        `${path}:${lineNo}: corrupt record in the middle of the replica's stable storage; ` +
          'the log cannot be trusted — restore the work dir or start this replica afresh',
      );
    }
    if (record.deleted) {
      values.delete(record.k);
      lines.delete(record.k);
    } else {
      values.set(record.k, record.v);
      lines.set(record.k, text);
    }
    offset = nl + 1;
  }
  return { values, lines, warnings, validBytes: offset, fileBytes: data.length };
}

function parseRecord(text: string): { k: string; v: unknown; deleted: boolean } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const r = parsed as { k?: unknown; v?: unknown; d?: unknown };
  if (typeof r.k !== 'string') return null;
  if (r.d === 1) return { k: r.k, v: undefined, deleted: true };
  if (!('v' in r)) return null;
  return { k: r.k, v: r.v, deleted: false };
}
