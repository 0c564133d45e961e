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
  private readonly keys = new Map<string, Uint8Array>();

  constructor(
    private readonly servers: readonly NodeId[],
    private readonly secret: string,
    private readonly hmac: Hmac = hmacSha256,
  ) {}

  private key(client: NodeId, replica: NodeId): Uint8Array {
    const name = `${client}|${replica}`;
    let key = this.keys.get(name);
    if (key === undefined) {
      if (this.keys.size >= MAX_CLIENT_KEYS) this.keys.clear();
      key = this.hmac(utf8(this.secret), utf8(`pbft-client-key|${name}`));
      this.keys.set(name, key);
    }
    return key;
  }

  private mac(replica: NodeId, req: ClientRequest<KvOp>): string {
    const text = canonicalJson({ client: req.client, seq: req.seq, op: req.op });
    return toHex(this.hmac(this.key(req.client, replica), utf8(text))).slice(0, MAC_HEX);
  }

  /** The request with its authenticator, as the client sends it. */
  sign(req: ClientRequest<KvOp>): PbftRequest {
    const { client, seq, op } = req;
    return { client, seq, op, auth: this.servers.map((r) => this.mac(r, req)) };
  }

  /** Whether `req` carries a valid MAC of its client for `replica`. */
  verify(replica: NodeId, req: ClientRequest<KvOp>): boolean {
    const auth = (req as Partial<PbftRequest>).auth;
    const index = this.servers.indexOf(replica);
    if (!Array.isArray(auth) || auth.length !== this.servers.length || index < 0) return false;
    return auth[index] === this.mac(replica, req);
  }
}
