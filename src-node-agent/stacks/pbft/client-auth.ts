import type { NodeId } from '../../core/ids';
import type { ClientRequest } from '../../core/protocol';
import type { KvOp } from '../kv/kv-ops';
import { canonicalJson } from './authenticator';
import { hmacSha256, toHex, utf8, type Hmac } from './hmac-sha256';

/** A client request as PBFT sends it: with the client's MAC authenticator. */
export interface PbftRequest extends ClientRequest<KvOp> {
  /** One MAC per replica, in server order, under the key that client shares with it. */
  readonly auth: readonly string[];
}

/** Hex characters of each MAC kept (128 bits), as for replica MACs. */
const MAC_HEX = 32;
/** Client keys a replica keeps derived; clients come and go, so forget them all when full. */
const MAX_CLIENT_KEYS = 4_096;

/**
 * Client request authentication (paper, section 4.1): the client sends its request with a MAC
 * authenticator, one MAC per replica, so a Byzantine primary cannot make up or alter a
 * client's request — every correct backup checks its own MAC before accepting a PRE-PREPARE.
 * Keys are derived per (client, replica) from the run's secret, like the replicas' own keys.
 */
export class ClientAuthenticator {
  /** Per client, its key with each replica (by server index), derived on first use. */
  private readonly keys = new Map<string, (Uint8Array | undefined)[]>();

  constructor(
    private readonly servers: readonly NodeId[],
    private readonly secret: string,
    private readonly hmac: Hmac = hmacSha256,
  ) {}

  private key(client: NodeId, index: number): Uint8Array {
    let row = this.keys.get(client);
    if (row === undefined) {
      if (this.keys.size * this.servers.length >= MAX_CLIENT_KEYS) this.keys.clear();
      row = [];
      this.keys.set(client, row);
    }
    let key = row[index];
    if (key === undefined) {
      const name = `${client}|${this.servers[index] as NodeId}`;
      key = this.hmac(utf8(this.secret), utf8(`pbft-client-key|${name}`));
      row[index] = key;
    }
    return key;
  }

  private mac(index: number, client: NodeId, text: string): string {
    return toHex(this.hmac(this.key(client, index), text), MAC_HEX / 2);
  }

  /** What a MAC covers: the request without its authenticator, encoded once for all MACs. */
  private text(req: ClientRequest<KvOp>): string {
    return requestText(req) ?? canonicalJson({ client: req.client, seq: req.seq, op: req.op });
  }

  /** The request with its authenticator, as the client sends it. */
  sign(req: ClientRequest<KvOp>): PbftRequest {
    const { client, seq, op } = req;
    const text = this.text(req);
    return { client, seq, op, auth: this.servers.map((_, i) => this.mac(i, client, text)) };
  }

  /** Whether `req` carries a valid MAC of its client for `replica`. */
  verify(replica: NodeId, req: ClientRequest<KvOp>): boolean {
    const auth = (req as Partial<PbftRequest>).auth;
    const index = this.servers.indexOf(replica);
    if (!Array.isArray(auth) || auth.length !== this.servers.length || index < 0) return false;
    return auth[index] === this.mac(index, req.client, this.text(req));
  }
}

/**
 * canonicalJson({client, seq, op}) written out for the get and put requests every workload
 * sends (keys in sorted order: client, op, seq; f, key, value), or null for anything else.
 * Each request is encoded by its client and again by every replica that checks its MAC.
 */
export function requestText(req: ClientRequest<KvOp>): string | null {
  const { client, seq, op } = req;
  if (typeof client !== 'string' || typeof seq !== 'number' || !Number.isFinite(seq)) return null;
  if (typeof op !== 'object' || op === null || typeof op.key !== 'string') return null;
  const head = `{"client":${JSON.stringify(client)},"op":{"f":`;
  const tail = `},"seq":${JSON.stringify(seq)}}`;
  const keys = Object.keys(op).length;
  if (op.f === 'get' && keys === 2) return `${head}"get","key":${JSON.stringify(op.key)}${tail}`;
  if (op.f !== 'put' || keys !== 3) return null;
  const value: unknown = op.value;
  if (value !== null && typeof value !== 'string' && typeof value !== 'number') return null;
  return `${head}"put","key":${JSON.stringify(op.key)},"value":${JSON.stringify(value)}${tail}`;
}
