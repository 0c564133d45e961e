import type { ProtocolEvent } from '../core/events';
import { describeFault, type Fault, type TimedFault } from '../core/faults';
import type { HistoryEntry } from '../core/history';
import { clientIds, serverIds, type NodeId, type TimerName } from '../core/ids';
import type {
  ClientContext,
  ClientReply,
  ClientRequest,
  Context,
  Protocol,
  ReplicaStatus,
  AnyStack,
} from '../core/protocol';

export type { AnyStack };
import { guardInput, type GuardResult } from '../core/input-guard';
import { EventQueue } from './event-queue';
import { LAN_LINK, NetworkModel } from './network';
import { Prng } from './prng';
import type { SimRecord } from './records';
import {
  Kind,
  type NodeStatus,
  type ClientSlot,
  type ServerSlot,
  type SimEvent,
  type SimulatorOptions,
  type Workload,
} from './simulator-types';

export type { SimulatorOptions, Workload };

/**
 * The deterministic simulator: one thread, virtual time in microseconds, a seeded PRNG, a
 * modelled network, modelled crashes (volatile state lost, persisted state kept) and pauses.
 * It drives the same stack code as the agent runtime, through the same Context.
 */
export class Simulator<Op = unknown, Out = unknown> {
  readonly servers: readonly NodeId[];
  readonly clients: readonly NodeId[];
  readonly network: NetworkModel;
  readonly log: SimRecord[] = [];
  readonly history: HistoryEntry<Op, Out>[] = [];
  readonly faultCounts = new Map<string, number>();
  now_us = 0;
  deliveries = 0;
  private readonly queue: EventQueue<SimEvent>;
  private readonly slots = new Map<NodeId, ServerSlot>();
  private readonly clientSlots = new Map<NodeId, ClientSlot>();
  private readonly prng: Prng;
  private nextOpId = 1;
  private timerTokens = 1;
  private clientsStopAt_us = Number.POSITIVE_INFINITY;
  private invariantViolation: string | null = null;
  private readonly listeners: ((record: SimRecord) => void)[] = [];

  constructor(private readonly options: SimulatorOptions<Op>) {
    const sizeError = options.stack.validateClusterSize(options.nodes, options.config);
    if (sizeError !== null) throw new Error(`${options.stack.name}: ${sizeError}`);
    this.prng = new Prng(options.seed);
    this.servers = serverIds(options.nodes);
    this.clients = clientIds(options.clients);
    this.queue = new EventQueue<SimEvent>(options.maxQueuedEvents ?? 2_000_000);
    this.network = new NetworkModel(
      this.servers,
      options.link ?? LAN_LINK,
      this.prng.fork('network'),
    );
    for (const id of this.servers) {
      const slot: ServerSlot = {
        id,
        status: 'up',
        incarnation: 0,
        protocol: null,
        persisted: new Map(),
        timers: new Map(),
        pausedInbox: [],
        prng: this.prng.fork(`node/${id}`),
        received: 0,
        rejected: 0,
      };
      this.slots.set(id, slot);
      slot.protocol = options.stack.createReplica(this.replicaContext(slot), options.config);
    }
    for (const id of this.servers) this.slots.get(id)?.protocol?.init();
    for (const id of this.clients) {
      const slot = this.newClientSlot(id);
      this.clientSlots.set(id, slot);
      this.schedule(Kind.ClientNext, this.prng.int(1000), id, id, null);
    }
    if (options.invariantInterval_us !== undefined && options.stack.invariants.length > 0) {
      this.schedule(Kind.Invariants, options.invariantInterval_us, '', '', null);
    }
  }

  onRecord(listener: (record: SimRecord) => void): void {
    this.listeners.push(listener);
  }

  /** Apply these faults at their times (relative to virtual time zero). */
  scheduleFaults(faults: readonly TimedFault[]): void {
    for (const f of faults) {
      this.schedule(
        Kind.Fault,
        Math.max(0, Math.round(f.at_ms * 1000) - this.now_us),
        '',
        '',
        f.fault,
      );
    }
  }

  /** Clients start no new operation after this time; outstanding ones keep retrying. */
  stopClientsAt(t_us: number): void {
    this.clientsStopAt_us = t_us;
  }

  /** Deliver an arbitrary payload to a server as if `from` had sent it (bad-input tests). */
  injectRaw(to: NodeId, from: NodeId, raw: unknown, asRequest = false): void {
    this.schedule(Kind.Raw, 0, to, from, { raw, asRequest });
  }

  /** Run events until virtual time `end_us` (inclusive); returns the number processed. */
  runUntil(end_us: number): number {
    let processed = 0;
    while (this.queue.peekTime() <= end_us) {
      const ev = this.queue.pop() as SimEvent;
      this.now_us = ev.at_us;
      this.dispatch(ev);
      processed++;
    }
    if (this.now_us < end_us) this.now_us = end_us;
    return processed;
  }

  /** Every outstanding client operation becomes `unknown` at the current time. */
  closeHistory(): void {
    for (const c of this.clientSlots.values()) {
      if (c.outstanding !== null) {
        this.history.push({
          type: 'unknown',
          process: c.id,
          opId: c.outstanding.opId,
          time_us: this.now_us,
          op: c.outstanding.op as Op,
        });
        c.outstanding = null;
      }
    }
  }

  statuses(): Map<NodeId, ReplicaStatus> {
    const out = new Map<NodeId, ReplicaStatus>();
    for (const slot of this.slots.values()) {
      if (slot.protocol !== null) out.set(slot.id, slot.protocol.inspect());
    }
    return out;
  }

  nodeStatus(id: NodeId): NodeStatus {
    return this.requireSlot(id).status;
  }

  get violation(): string | null {
    return this.invariantViolation;
  }

  completedOps(): number {
    let n = 0;
    for (const c of this.clientSlots.values()) n += c.completed;
    return n;
  }

  rejectedInputs(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.rejected;
    return n;
  }

  applyFault(fault: Fault): void {
    this.record({ t_us: this.now_us, type: 'fault', fault });
    const countKey = fault.type === 'partition' ? `partition ${fault.shape}` : fault.type;
    this.faultCounts.set(countKey, (this.faultCounts.get(countKey) ?? 0) + 1);
    if (this.network.apply(fault)) return;
    switch (fault.type) {
      case 'crash':
        this.crash(this.requireSlot(fault.node));
        return;
      case 'recover':
        this.recover(this.requireSlot(fault.node));
        return;
      case 'pause': {
        const slot = this.requireSlot(fault.node);
        if (slot.status === 'up') slot.status = 'paused';
        return;
      }
      case 'resume':
        this.resume(this.requireSlot(fault.node));
        return;
      case 'heal-all':
        this.network.healAll();
        for (const slot of this.slots.values()) {
          if (slot.status === 'crashed') this.recover(slot);
          else if (slot.status === 'paused') this.resume(slot);
        }
        return;
      case 'byzantine': {
        const slot = this.requireSlot(fault.node);
        // A crashed replica does nothing anyway; the switch is volatile, as a restart would be.
        if (slot.protocol === null) return;
        if (slot.protocol.setBehaviour === undefined) {
          throw new Error(
            `simulator cannot apply ${describeFault(fault)}: stack ${this.options.stack.name} has no Byzantine behaviours`,
          );
        }
        slot.protocol.setBehaviour(fault.behaviour);
        return;
      }
      default:
        throw new Error(`simulator cannot apply fault ${describeFault(fault)}`);
    }
  }

  private crash(slot: ServerSlot): void {
    if (slot.status === 'crashed') return;
    slot.status = 'crashed';
    slot.protocol = null;
    slot.incarnation++;
    slot.timers.clear();
    slot.pausedInbox.length = 0;
  }

  private recover(slot: ServerSlot): void {
    if (slot.status !== 'crashed') return;
    slot.status = 'up';
    slot.incarnation++;
    slot.protocol = this.options.stack.createReplica(
      this.replicaContext(slot),
      this.options.config,
    );
    slot.protocol.recover(slot.persisted);
  }

  private resume(slot: ServerSlot): void {
    if (slot.status !== 'paused') return;
    slot.status = 'up';
    const held = slot.pausedInbox.splice(0);
    for (const ev of held) {
      ev.at_us = this.now_us;
      this.queue.push(ev);
    }
  }

  private dispatch(ev: SimEvent): void {
    switch (ev.kind) {
      case Kind.Message:
      case Kind.Request:
      case Kind.ServerTimer:
      case Kind.Raw:
        this.dispatchToServer(ev);
        return;
      case Kind.Reply: {
        const client = this.clientSlots.get(ev.node);
        if (client === undefined) return;
        let reply = ev.payload as ClientReply<Out>;
        if (this.options.validateMessages === true) {
          const guarded = guardInput(this.options.stack, 'reply', reply);
          if (!guarded.ok) return;
          reply = guarded.value as ClientReply<Out>;
        }
        this.deliveries++;
        client.protocol.onReply(ev.from, reply);
        return;
      }
      case Kind.ClientTimer: {
        const client = this.clientSlots.get(ev.node);
        if (client === undefined || client.timers.get(ev.payload as string) !== ev.token) return;
        client.timers.delete(ev.payload as string);
        client.protocol.onTimer(ev.payload as string);
        return;
      }
      case Kind.ClientNext:
        this.clientInvoke(this.clientSlots.get(ev.node) as ClientSlot);
        return;
      case Kind.Fault:
        this.applyFault(ev.payload as Fault);
        return;
      case Kind.Invariants:
        this.checkInvariants();
        this.schedule(Kind.Invariants, this.options.invariantInterval_us ?? 10_000, '', '', null);
        return;
    }
  }

  private dispatchToServer(ev: SimEvent): void {
    const slot = this.slots.get(ev.node);
    if (slot === undefined) return;
    if (slot.status === 'crashed') {
      if (ev.kind !== Kind.ServerTimer) this.network.stats.droppedDown++;
      return;
    }
    if (ev.kind === Kind.ServerTimer && ev.incarnation !== slot.incarnation) return;
    if (slot.status === 'paused') {
      if (slot.pausedInbox.length < (this.options.pausedInboxLimit ?? 100_000)) {
        slot.pausedInbox.push(ev);
      } else {
        this.network.stats.droppedDown++;
      }
      return;
    }
    const protocol = slot.protocol as Protocol<unknown, unknown>;
    switch (ev.kind) {
      case Kind.Message: {
        if (!this.network.isConnected(ev.from, ev.node)) {
          this.network.stats.droppedPartition++;
          return;
        }
        this.deliveries++;
        this.network.stats.delivered++;
        if (this.options.traceMessages === true) this.traceDelivery(ev);
        const msg =
          this.options.validateMessages === true ? this.parse(slot, ev, false) : ev.payload;
        if (msg !== undefined) protocol.onMessage(ev.from, msg);
        return;
      }
      case Kind.Request: {
        this.deliveries++;
        this.network.stats.delivered++;
        const req =
          this.options.validateMessages === true ? this.parse(slot, ev, true) : ev.payload;
        if (req !== undefined) protocol.onClientRequest(req as ClientRequest<unknown>);
        return;
      }
      case Kind.Raw: {
        const { raw, asRequest } = ev.payload as { raw: unknown; asRequest: boolean };
        const parsed = this.parse(slot, { ...ev, payload: raw }, asRequest);
        if (parsed === undefined) return;
        if (asRequest) protocol.onClientRequest(parsed as ClientRequest<unknown>);
        else protocol.onMessage(ev.from, parsed);
        return;
      }
      case Kind.ServerTimer: {
        const name = ev.payload as TimerName;
        if (slot.timers.get(name) !== ev.token) return;
        slot.timers.delete(name);
        protocol.onTimer(name);
        return;
      }
      default:
        return;
    }
  }

  /** Schema check at the node's door: a bad input is counted and reported, never fatal. */
  private parse(slot: ServerSlot, ev: SimEvent, asRequest: boolean): unknown {
    const guarded: GuardResult =
      asRequest || this.slots.has(ev.from)
        ? guardInput(this.options.stack, asRequest ? 'request' : 'message', ev.payload)
        : { ok: false, reason: `sender ${ev.from} is not a server of this cluster` };
    if (guarded.ok) return guarded.value;
    slot.rejected++;
    this.record({
      t_us: this.now_us,
      type: 'rejected',
      node: slot.id,
      from: ev.from,
      reason: guarded.reason,
    });
    return undefined;
  }

  private traceDelivery(ev: SimEvent): void {
    const p = ev.payload as { t?: unknown };
    this.record({
      t_us: this.now_us,
      type: 'message',
      from: ev.from,
      to: ev.node,
      sent_us: ev.sent_us,
      kind: typeof p.t === 'string' ? p.t : 'message',
    });
  }

  private clientInvoke(client: ClientSlot): void {
    if (client.outstanding !== null || this.now_us >= this.clientsStopAt_us) return;
    const op = this.options.workload.next(client.id, client.prng);
    const opId = this.nextOpId++;
    client.outstanding = { opId, op };
    this.history.push({ type: 'invoke', process: client.id, opId, time_us: this.now_us, op });
    client.protocol.invoke(op);
  }

  private checkInvariants(): void {
    if (this.invariantViolation !== null) return;
    const statuses = this.statuses();
    for (const inv of this.options.stack.invariants) {
      const problem = inv.check(statuses);
      if (problem !== null) {
        this.invariantViolation = `${inv.name}: ${problem}`;
        this.record({ t_us: this.now_us, type: 'invariant', invariant: inv.name, detail: problem });
        return;
      }
    }
  }

  private record(r: SimRecord): void {
    if (this.log.length >= (this.options.maxLogRecords ?? 5_000_000)) {
      throw new Error(
        `simulation event log exceeded ${this.options.maxLogRecords ?? 5_000_000} records; ` +
          'shorten the run or raise maxLogRecords',
      );
    }
    this.log.push(r);
    for (const l of this.listeners) l(r);
  }

  private schedule(
    kind: Kind,
    after_us: number,
    node: NodeId,
    from: NodeId,
    payload: unknown,
    token = 0,
    incarnation = 0,
  ): void {
    this.queue.push({
      at_us: this.now_us + after_us,
      seq: 0,
      kind,
      node,
      from,
      payload,
      token,
      incarnation,
      sent_us: this.now_us,
    });
  }

  private sendOverNetwork(kind: Kind, from: NodeId, to: NodeId, payload: unknown): void {
    const delays = this.network.plan(from, to);
    for (const d of delays) this.schedule(kind, d, to, from, payload);
  }

  private replicaContext(slot: ServerSlot): Context<unknown, unknown> {
    const incarnation = slot.incarnation;
    const servers = this.servers;
    // A crashed incarnation's context goes dead: a stray callback cannot act after a crash.
    const alive = (): boolean => slot.incarnation === incarnation && slot.status !== 'crashed';
    return {
      self: slot.id,
      servers,
      send: (to, msg) => {
        if (alive()) this.sendOverNetwork(Kind.Message, slot.id, to, msg);
      },
      broadcast: (msg) => {
        if (!alive()) return;
        for (const to of servers) {
          if (to !== slot.id) this.sendOverNetwork(Kind.Message, slot.id, to, msg);
        }
      },
      setTimer: (name, after_ms) => {
        if (!alive()) return;
        const token = this.timerTokens++;
        slot.timers.set(name, token);
        const after_us = Math.max(1, Math.round(after_ms * 1000));
        this.schedule(Kind.ServerTimer, after_us, slot.id, slot.id, name, token, incarnation);
      },
      cancelTimer: (name) => {
        slot.timers.delete(name);
      },
      reply: (reply) => {
        if (alive()) this.sendOverNetwork(Kind.Reply, slot.id, reply.client, reply);
      },
      persist: (key, value) => {
        if (!alive()) return;
        if (value === undefined) slot.persisted.delete(key);
        else slot.persisted.set(key, value);
      },
      emit: (event: ProtocolEvent) => {
        if (alive()) this.record({ t_us: this.now_us, type: 'protocol', node: slot.id, event });
      },
      now: () => this.now_us / 1000,
      randomInt: (bound) => slot.prng.int(bound),
      random: () => slot.prng.float(),
    };
  }

  private newClientSlot(id: NodeId): ClientSlot {
    const prng = this.prng.fork(`client/${id}`);
    const timers = new Map<TimerName, number>();
    let slot: ClientSlot | null = null;
    const ctx: ClientContext<unknown, unknown> = {
      self: id,
      servers: this.servers,
      send: (to, req) => this.sendOverNetwork(Kind.Request, id, to, req),
      setTimer: (name, after_ms) => {
        const token = this.timerTokens++;
        timers.set(name, token);
        this.schedule(
          Kind.ClientTimer,
          Math.max(1, Math.round(after_ms * 1000)),
          id,
          id,
          name,
          token,
        );
      },
      cancelTimer: (name) => {
        timers.delete(name);
      },
      complete: (output) => {
        const current = slot?.outstanding ?? null;
        if (slot === null || current === null) {
          throw new Error(`client ${id} completed an operation it was not running`);
        }
        slot.outstanding = null;
        slot.completed++;
        this.history.push({
          type: 'ok',
          process: id,
          opId: current.opId,
          time_us: this.now_us,
          op: current.op as Op,
          output: output as Out,
        });
        this.schedule(Kind.ClientNext, this.options.thinkTime_us ?? 0, id, id, null);
      },
      now: () => this.now_us / 1000,
      randomInt: (bound) => prng.int(bound),
    };
    slot = {
      id,
      protocol: this.options.stack.createClient(ctx, this.options.config),
      timers,
      prng: this.prng.fork(`workload/${id}`),
      outstanding: null,
      completed: 0,
    };
    return slot;
  }

  private requireSlot(id: NodeId): ServerSlot {
    const slot = this.slots.get(id);
    if (slot === undefined) {
      throw new Error(
        `fault names node "${id}", which is not a server (servers: ${this.servers.join(', ')})`,
      );
    }
    return slot;
  }
}
