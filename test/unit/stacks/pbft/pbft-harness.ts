import type { NodeId } from '../../../../src-node-agent/core/ids';
import type { ClientRequest } from '../../../../src-node-agent/core/protocol';
import type { KvOp, KvOutput } from '../../../../src-node-agent/stacks/kv/kv-ops';
import { createReplicaAuth } from '../../../../src-node-agent/stacks/pbft/auth-scheme';
import { ClientAuthenticator } from '../../../../src-node-agent/stacks/pbft/client-auth';
import { pbftConfigSchema, type PbftConfig } from '../../../../src-node-agent/stacks/pbft/config';
import type { PbftBody, PbftMessage } from '../../../../src-node-agent/stacks/pbft/messages';
import { PbftReplica } from '../../../../src-node-agent/stacks/pbft/replica';
import { ScriptedContext } from '../../../support/scripted-context';

export const SERVERS = ['n1', 'n2', 'n3', 'n4'] as const;

export interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly msg: PbftMessage;
}

/**
 * Four PBFT replicas wired by hand (etcd raft's paper-test style): every send lands in
 * `inbox`; `deliver` hands messages over until none are left, dropping those a test says to.
 * A replica listed in `absent` is not run at all: the test plays it (e.g. a Byzantine primary).
 */
export class Cluster {
  readonly config: PbftConfig;
  readonly ctx = new Map<NodeId, ScriptedContext<PbftMessage, KvOutput>>();
  readonly replicas = new Map<NodeId, PbftReplica>();
  readonly inbox: Envelope[] = [];
  /** Every message sent so far, in order. */
  readonly sent: Envelope[] = [];

  constructor(params: Record<string, unknown> = {}, absent: readonly NodeId[] = []) {
    this.config = pbftConfigSchema.parse(params);
    for (const id of SERVERS) {
      if (absent.includes(id)) continue;
      const ctx = new ScriptedContext<PbftMessage, KvOutput>(id, SERVERS);
      const replica = new PbftReplica(ctx, this.config);
      replica.init();
      this.ctx.set(id, ctx);
      this.replicas.set(id, replica);
    }
    this.collect();
  }

  replica(id: NodeId): PbftReplica {
    const r = this.replicas.get(id);
    if (r === undefined) throw new Error(`${id} is not run by this cluster`);
    return r;
  }

  context(id: NodeId): ScriptedContext<PbftMessage, KvOutput> {
    const c = this.ctx.get(id);
    if (c === undefined) throw new Error(`${id} is not run by this cluster`);
    return c;
  }

  /** A correctly authenticated message from `from` (which the test may be playing). */
  forge(from: NodeId, body: PbftBody): PbftMessage {
    return { ...body, auth: createReplicaAuth(from, SERVERS, this.config).sign(body) };
  }

  readonly events: { node: NodeId; kind: string; event: unknown }[] = [];

  /** Move every replica's new sends into the inbox and remember its protocol events. */
  collect(): void {
    for (const [id, ctx] of this.ctx) {
      for (const e of ctx.effects) {
        if (e.kind === 'emit') this.events.push({ node: id, kind: e.event.kind, event: e.event });
        if (e.kind !== 'send') continue;
        const env = { from: id, to: e.to, msg: e.msg };
        this.inbox.push(env);
        this.sent.push(env);
      }
      ctx.effects.length = 0;
    }
  }

  request(to: NodeId, req: ClientRequest<KvOp>): void {
    this.replica(to).onClientRequest(req);
    this.collect();
  }

  inject(from: NodeId, to: NodeId, body: PbftBody): void {
    this.replica(to).onMessage(from, this.forge(from, body));
    this.collect();
  }

  timer(id: NodeId, name: string): void {
    this.replica(id).onTimer(name);
    this.collect();
  }

  /** Deliver until quiet; `drop` decides which messages the network loses. */
  deliver(drop: (e: Envelope) => boolean = () => false, maxSteps = 100_000): void {
    for (let step = 0; step < maxSteps; step++) {
      const env = this.inbox.shift();
      if (env === undefined) return;
      if (drop(env) || !this.replicas.has(env.to)) continue;
      this.replica(env.to).onMessage(env.from, env.msg);
      this.collect();
    }
    throw new Error(`messages still flowing after ${maxSteps} deliveries`);
  }

  eventsOf(kind: string, node?: NodeId): { node: NodeId; event: unknown }[] {
    return this.events.filter((e) => e.kind === kind && (node === undefined || e.node === node));
  }
}

/** A client's put, with the client's MAC authenticator as PbftClient sends it. */
export function put(client: string, seq: number, key: string, value: string): ClientRequest<KvOp> {
  const secret = pbftConfigSchema.parse({}).secret;
  return new ClientAuthenticator(SERVERS, secret).sign({
    client,
    seq,
    op: { f: 'put', key, value },
  });
}
