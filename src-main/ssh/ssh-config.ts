import { readdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { wildcardMatch } from './known-hosts-file';

/**
 * Host names resolved from an OpenSSH client config (ssh_config(5)), for the options FaultLab
 * honours: HostName, User, Port, IdentityFile, ProxyJump. As in OpenSSH, the first value found
 * for an option wins (so specific Host blocks go first and `Host *` last), IdentityFile
 * accumulates, Include is followed, and a `Match` block is skipped with a warning (its criteria
 * — exec, localuser, … — cannot be evaluated faithfully here) unless it is `Match all`.
 */

export interface JumpSpec {
  readonly user: string | null;
  readonly host: string;
  readonly port: number | null;
}

export interface ResolvedSshHost {
  /** The name asked for (a Host alias). */
  readonly name: string;
  readonly hostName: string;
  readonly user: string | null;
  readonly port: number;
  /** Absolute paths, `~` and %-tokens expanded, in config order. */
  readonly identityFiles: readonly string[];
  /** ProxyJump hops, first hop first; empty for a direct connection. */
  readonly proxyJump: readonly JumpSpec[];
}

export class SshConfigError extends Error {
  override readonly name = 'SshConfigError';
  constructor(
    readonly file: string,
    readonly line: number | null,
    what: string,
  ) {
    super(`${line === null ? file : `${file}:${String(line)}`}: ${what}`);
  }
}

interface Directive {
  readonly keyword: string;
  readonly args: readonly string[];
  readonly file: string;
  readonly line: number;
}

interface Block {
  /** null = before any Host line (applies to every host). */
  readonly patterns: readonly string[] | null;
  /** A Match block other than `Match all`: never applies. */
  readonly skipped: boolean;
  readonly directives: Directive[];
}

const MAX_INCLUDE_DEPTH = 16;

export class SshConfig {
  private constructor(
    private readonly blocks: readonly Block[],
    readonly warnings: readonly string[],
  ) {}

  /** Parse `path` (default ~/.ssh/config); a missing file is an empty config. */
  static load(path: string = join(homedir(), '.ssh', 'config')): SshConfig {
    const blocks: Block[] = [{ patterns: null, skipped: false, directives: [] }];
    const warnings: string[] = [];
    readInto(path, dirname(path), blocks, warnings, 0, true);
    return new SshConfig(blocks, warnings);
  }

  static parse(text: string, file: string): SshConfig {
    const blocks: Block[] = [{ patterns: null, skipped: false, directives: [] }];
    const warnings: string[] = [];
    parseInto(text, file, dirname(file), blocks, warnings, 0);
    return new SshConfig(blocks, warnings);
  }

  /** Resolve `name` as `ssh name` would for the options FaultLab uses. */
  resolve(name: string): ResolvedSshHost {
    const first = new Map<string, Directive>();
    const identities: Directive[] = [];
    for (const block of this.blocks) {
      if (block.skipped) continue;
      if (block.patterns !== null && !hostMatches(block.patterns, name)) continue;
      for (const directive of block.directives) {
        if (directive.keyword === 'identityfile') identities.push(directive);
        else if (!first.has(directive.keyword)) first.set(directive.keyword, directive);
      }
    }
    const hostNameDirective = first.get('hostname');
    const hostName =
      hostNameDirective === undefined ? name : expandTokens(oneArg(hostNameDirective), { h: name });
    const portDirective = first.get('port');
    const port = portDirective === undefined ? 22 : parsePort(oneArg(portDirective), portDirective);
    const userDirective = first.get('user');
    const user = userDirective === undefined ? null : oneArg(userDirective);
    const tokens = {
      h: hostName,
      n: name,
      p: String(port),
      r: user ?? userInfo().username,
      u: userInfo().username,
      d: homedir(),
    };
    const identityFiles = identities
      .map((d) => oneArg(d))
      .filter((file) => file.toLowerCase() !== 'none')
      .map((file) => expandHome(expandTokens(file, tokens)));
    const jumpDirective = first.get('proxyjump');
    const proxyJump =
      jumpDirective === undefined || oneArg(jumpDirective).toLowerCase() === 'none'
        ? []
        : parseProxyJump(oneArg(jumpDirective), jumpDirective);
    return { name, hostName, user, port, identityFiles, proxyJump };
  }
}

function readInto(
  path: string,
  baseDir: string,
  blocks: Block[],
  warnings: string[],
  depth: number,
  missingIsEmpty: boolean,
): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && missingIsEmpty) return;
    throw new SshConfigError(path, null, `cannot read the SSH config: ${(err as Error).message}`);
  }
  parseInto(text, path, baseDir, blocks, warnings, depth);
}

function parseInto(
  text: string,
  file: string,
  baseDir: string,
  blocks: Block[],
  warnings: string[],
  depth: number,
): void {
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const words = splitArgs(trimmed, file, line);
    const [head, ...rest] = words;
    if (head === undefined) return;
    // `Keyword=value` and `Keyword = value` are both allowed.
    const eq = head.indexOf('=');
    const keyword = (eq >= 0 ? head.slice(0, eq) : head).toLowerCase();
    const args = eq >= 0 ? [head.slice(eq + 1), ...rest].filter((a) => a !== '') : rest;
    if (args[0] === '=') args.shift();
    if (args.length === 0) throw new SshConfigError(file, line, `${keyword}: missing value`);
    if (keyword === 'host') {
      blocks.push({ patterns: args, skipped: false, directives: [] });
    } else if (keyword === 'match') {
      const all = args.length === 1 && args[0]?.toLowerCase() === 'all';
      if (!all) {
        warnings.push(
          `${file}:${String(line)}: "Match ${args.join(' ')}" is not evaluated by FaultLab; its options are ignored (use a Host block)`,
        );
      }
      blocks.push({ patterns: all ? ['*'] : null, skipped: !all, directives: [] });
    } else if (keyword === 'include') {
      if (depth >= MAX_INCLUDE_DEPTH) {
        throw new SshConfigError(
          file,
          line,
          `Include nested deeper than ${String(MAX_INCLUDE_DEPTH)} (a loop?)`,
        );
      }
      for (const pattern of args) {
        for (const included of expandInclude(pattern, baseDir)) {
          readInto(included, baseDir, blocks, warnings, depth + 1, false);
        }
      }
    } else {
      const block = blocks[blocks.length - 1];
      block?.directives.push({ keyword, args, file, line });
    }
  });
}

/** Words, honouring double quotes (`IdentityFile "~/my keys/id"`). */
function splitArgs(text: string, file: string, line: number): string[] {
  if ((text.match(/"/g)?.length ?? 0) % 2 !== 0) {
    throw new SshConfigError(file, line, 'unbalanced double quote');
  }
  return Array.from(text.matchAll(/"([^"]*)"|(\S+)/g), (m) => m[1] ?? m[2] ?? '');
}

/** Include: relative paths are under ~/.ssh (ssh_config(5)); `*`/`?` in the last segment. */
function expandInclude(pattern: string, baseDir: string): string[] {
  const expanded = expandHome(pattern);
  const path = isAbsolute(expanded) ? expanded : join(baseDir, expanded);
  const name = basename(path);
  if (!/[*?]/.test(name)) return [path];
  try {
    return readdirSync(dirname(path))
      .filter((entry) => wildcardMatch(name, entry))
      .sort()
      .map((entry) => join(dirname(path), entry));
  } catch {
    return [];
  }
}

/** ssh_config Host matching: any pattern matches and no negated pattern does. */
function hostMatches(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    if (!wildcardMatch(body.toLowerCase(), name.toLowerCase())) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function oneArg(directive: Directive): string {
  return directive.args[0] ?? '';
}

function parsePort(text: string, directive: Directive): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new SshConfigError(
      directive.file,
      directive.line,
      `Port "${text}" is not a port number (1–65535)`,
    );
  }
  return port;
}

/** `[user@]host[:port]` hops, comma separated. */
function parseProxyJump(value: string, directive: Directive): JumpSpec[] {
  return value.split(',').map((hop) => {
    const at = hop.lastIndexOf('@');
    const user = at >= 0 ? hop.slice(0, at) : null;
    const rest = at >= 0 ? hop.slice(at + 1) : hop;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
    const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(rest);
    const parts = bracketed ?? plain;
    if (parts?.[1] === undefined || user === '') {
      throw new SshConfigError(
        directive.file,
        directive.line,
        `ProxyJump hop "${hop}" is not [user@]host[:port]`,
      );
    }
    const port = parts[2] === undefined ? null : parsePort(parts[2], directive);
    return { user, host: parts[1], port };
  });
}

export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

function expandTokens(text: string, tokens: Readonly<Record<string, string>>): string {
  return text.replace(/%(.)/g, (whole, token: string) =>
    token === '%' ? '%' : (tokens[token] ?? whole),
  );
}
