import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The OpenSSH known_hosts format (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"), read-only:
 *
 *   [@revoked|@cert-authority] patterns keytype base64-key [comment]
 *
 * where `patterns` is a comma list of host names, `[host]:port` for a non-22 port, wildcards
 * `*` and `?`, negations `!pattern`, or one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt,
 * name))` (HashKnownHosts yes). Bad lines are skipped and reported as problems, as OpenSSH skips
 * them: one stray line in ~/.ssh/known_hosts must not make every host unreachable.
 */

export type KnownHostsMarker = 'revoked' | 'cert-authority' | null;

export interface KnownHostsEntry {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly marker: KnownHostsMarker;
  readonly hosts: HostPatterns;
  readonly keyType: string;
  /** The decoded key blob, as the server sends it (type string first). */
  readonly keyBlob: Buffer;
}

export type HostPatterns =
  | { readonly kind: 'hashed'; readonly salt: Buffer; readonly hash: Buffer }
  | { readonly kind: 'plain'; readonly patterns: readonly string[] };

export interface KnownHostsProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface ParsedKnownHosts {
  readonly entries: readonly KnownHostsEntry[];
  readonly problems: readonly KnownHostsProblem[];
}

const HASH_MAGIC = '|1|';
const SHA1_BYTES = 20;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parseKnownHosts(text: string, file: string): ParsedKnownHosts {
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const result = parseLine(trimmed, file, line);
    if (typeof result === 'string') problems.push({ file, line, message: result });
    else entries.push(result);
  });
  return { entries, problems };
}

function parseLine(text: string, file: string, line: number): KnownHostsEntry | string {
  const fields = text.split(/\s+/);
  let marker: KnownHostsMarker = null;
  if (fields[0]?.startsWith('@') === true) {
    const name = fields.shift();
    if (name === '@revoked') marker = 'revoked';
    else if (name === '@cert-authority') marker = 'cert-authority';
    else return `unknown marker "${String(name)}"; expected @revoked or @cert-authority`;
  }
  const [patterns, keyType, keyBase64] = fields;
  if (patterns === undefined || keyType === undefined || keyBase64 === undefined) {
    return 'expected "host-patterns key-type base64-key [comment]"; the line has too few fields';
  }
  if (!BASE64.test(keyBase64)) return `the key of type ${keyType} is not base64`;
  const keyBlob = Buffer.from(keyBase64, 'base64');
  const blobType = keyTypeOfBlob(keyBlob);
  if (blobType === null) return `the key of type ${keyType} is not a valid SSH public key blob`;
  if (blobType !== keyType && !keyType.includes('-cert-')) {
    return `the line says key type ${keyType} but the key inside is ${blobType}`;
  }
  const hosts = parseHostPatterns(patterns);
  if (typeof hosts === 'string') return hosts;
  return { file, line, marker, hosts, keyType, keyBlob };
}

function parseHostPatterns(field: string): HostPatterns | string {
  if (!field.startsWith(HASH_MAGIC)) {
    const patterns = field.split(',').filter((p) => p !== '');
    if (patterns.length === 0) return 'empty host pattern list';
    return { kind: 'plain', patterns };
  }
  const parts = field.slice(HASH_MAGIC.length).split('|');
  const [saltText, hashText] = parts;
  if (parts.length !== 2 || saltText === undefined || hashText === undefined) {
    return 'hashed host name must be |1|<base64 salt>|<base64 hash>';
  }
  if (!BASE64.test(saltText) || !BASE64.test(hashText)) {
    return 'hashed host name: salt or hash is not base64';
  }
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length !== SHA1_BYTES || hash.length !== SHA1_BYTES) {
    return `hashed host name: salt and hash must be ${String(SHA1_BYTES)} bytes each (HMAC-SHA1)`;
  }
  return { kind: 'hashed', salt, hash };
}

/** The name OpenSSH looks up: `host` for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${String(port)}`;
}

/** Whether `entry` is about `name` (as made by `knownHostsName`). */
export function entryMatchesHost(entry: KnownHostsEntry, name: string): boolean {
  const lower = name.toLowerCase();
  if (entry.hosts.kind === 'hashed') {
    const digest = createHmac('sha1', entry.hosts.salt).update(lower).digest();
    return timingSafeEqual(digest, entry.hosts.hash);
  }
  let matched = false;
  for (const pattern of entry.hosts.patterns) {
    const negated = pattern.startsWith('!');
    const body = (negated ? pattern.slice(1) : pattern).toLowerCase();
    if (!wildcardMatch(body, lower)) continue;
    // A matching negation vetoes the whole line, as in OpenSSH's match_hostname.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** OpenSSH glob: `*` any run of characters, `?` exactly one; everything else literal. */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === '?' || pc === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** The type name at the start of an SSH public key blob (`ssh-ed25519`, …), or null if malformed. */
export function keyTypeOfBlob(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) return null;
  const type = blob.subarray(4, 4 + length).toString('latin1');
  return /^[a-z0-9@.-]+$/i.test(type) ? type : null;
}

/** One known_hosts line for `name` and `blob`, plain (not hashed) so a person can read it. */
export function formatKnownHostsLine(name: string, blob: Buffer, comment?: string): string {
  const type = keyTypeOfBlob(blob);
  if (type === null) throw new Error(`cannot write a known_hosts line for ${name}: bad key blob`);
  const tail = comment === undefined ? '' : ` ${comment}`;
  return `${name} ${type} ${blob.toString('base64')}${tail}`;
}
