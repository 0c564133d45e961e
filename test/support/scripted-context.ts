import type { ProtocolEvent } from '../../src-node-agent/core/events';
import type { NodeId } from '../../src-node-agent/core/ids';
import type { ClientReply, Context } from '../../src-node-agent/core/protocol';

/** One effect a replica asked for, in the order it asked. */
export type Effect<M, Out> =
  | { kind: 'send'; to: NodeId; msg: M }
  | { kind: 'reply'; reply: ClientReply<Out> }
  | { kind: 'persist'; key: string; value: unknown }
  | { kind: 'emit'; event: ProtocolEvent }
  | { kind: 'timer'; name: string; after_ms: number };

/**
 * A Context that records every effect instead of performing it, for tests that drive one
 * replica message by message (etcd raft's paper tests). Broadcasts appear as one send per peer.
 */
export class ScriptedContext<M, Out> implements Context<M, Out> {
  readonly effects: Effect<M, Out>[] = [];
  readonly persisted = new Map<string, unknown>();
  readonly timers = new Map<string, number>();
  time_ms = 0;
  private rng = 1;

  constructor(
    readonly self: NodeId,
    readonly servers: readonly NodeId[],
  ) {}

  send(to: NodeId, msg: M): void {
    this.effects.push({ kind: 'send', to, msg });
  }
  broadcast(msg: M): void {
    for (const to of this.servers) if (to !== this.self) this.send(to, msg);
  }
  setTimer(name: string, after_ms: number): void {
    this.timers.set(name, after_ms);
    this.effects.push({ kind: 'timer', name, after_ms });
  }
  cancelTimer(name: string): void {
    this.timers.delete(name);
  }
  reply(reply: ClientReply<Out>): void {
    this.effects.push({ kind: 'reply', reply });
  }
  persist(key: string, value: unknown): void {
    if (value === undefined) this.persisted.delete(key);
    else this.persisted.set(key, value);
    this.effects.push({ kind: 'persist', key, value });
  }
  emit(event: ProtocolEvent): void {
    this.effects.push({ kind: 'emit', event });
  }
  now(): number {
    return this.time_ms;
  }
  randomInt(bound: number): number {
    this.rng = (this.rng * 1103515245 + 12345) % 2147483648;
    return bound <= 1 ? 0 : this.rng % bound;
  }
  random(): number {
    return this.randomInt(1 << 30) / (1 << 30);
  }

  /** Take and clear the recorded effects. */
  drain(): Effect<M, Out>[] {
    return this.effects.splice(0);
  }

  sent(effects: readonly Effect<M, Out>[] = this.effects): { to: NodeId; msg: M }[] {
    const out: { to: NodeId; msg: M }[] = [];
    for (const e of effects) if (e.kind === 'send') out.push({ to: e.to, msg: e.msg });
    return out;
  }
}
