import { describeFault, type Fault } from '../../src-node-agent/core/faults';
import type { NodeId } from '../../src-node-agent/core/ids';
import type { RunRecord } from '../record/schema';
import type { Testbed } from '../testbeds/testbed';
import type { AgentLink } from './agent-link';
import { linkRulesForFault } from './link-rules-for-fault';

export type FaultSource = Extract<RunRecord, { type: 'fault' }>['source'];

interface NetworkFault {
  readonly id: string;
  readonly fault: Fault;
  /** What the agents' link filters enforce: the fault, the kernel's fallback part, or nothing. */
  readonly agentFault: Fault | null;
  /** Enforced (at least in part) by the testbed's kernel rules: healed there too. */
  readonly inKernel: boolean;
  readonly nodes: readonly NodeId[];
}

export interface FaultControllerDeps {
  readonly testbed: Testbed;
  readonly links: ReadonlyMap<NodeId, AgentLink>;
  readonly servers: readonly NodeId[];
  /** Append to the recording. */
  readonly record: (r: RunRecord) => void;
  /** Make journaled records durable before the fault they announce is applied. */
  readonly flush: () => Promise<void>;
  readonly now_ms: () => number;
  /** Restart a crashed node on its work dir and reconnect its control link. */
  readonly restartNode: (node: NodeId) => Promise<void>;
}

/**
 * Applies faults to a running testbed, and undoes them. Every fault is journaled (recorded and
 * flushed) before it is applied, then recorded as applied or failed, and as healed when undone.
 * Network faults become agent link rules; process faults go through the testbed.
 */
export class FaultController {
  private counter = 0;
  private readonly network = new Map<string, NetworkFault>();
  private readonly crashed = new Set<NodeId>();
  private readonly paused = new Set<NodeId>();

  constructor(private readonly deps: FaultControllerDeps) {}

  /** Human list of what is broken right now, for the status line. */
  active(): string[] {
    return [
      ...Array.from(this.crashed, (n) => `crashed ${n}`),
      ...Array.from(this.paused, (n) => `paused ${n}`),
      ...Array.from(this.network.values(), (f) => describeFault(f.fault)),
    ];
  }

  isCrashed(node: NodeId): boolean {
    return this.crashed.has(node);
  }

  async apply(fault: Fault, source: FaultSource, at_ms: number | null): Promise<string> {
    const id = `f${++this.counter}`;
    this.validate(fault);
    this.deps.record({
      t_ms: this.deps.now_ms(),
      type: 'fault',
      id,
      phase: 'journal',
      source,
      fault,
      at_ms,
    });
    await this.deps.flush();
    // Stamped when it takes effect (a restart is in force once the process is spawned, before
    // its control link is back); how long enacting took goes in the detail.
    const effective_ms = this.deps.now_ms();
    try {
      await this.enact(id, fault, source);
      this.deps.record({
        t_ms: effective_ms,
        type: 'fault',
        id,
        phase: 'applied',
        source,
        fault,
        at_ms,
        detail: `enacted in ${(this.deps.now_ms() - effective_ms).toFixed(1)} ms`,
      });
    } catch (err) {
      this.deps.record({
        t_ms: this.deps.now_ms(),
        type: 'fault',
        id,
        phase: 'failed',
        source,
        fault,
        at_ms,
        detail: (err as Error).message,
      });
      throw new Error(
        `fault ${id} (${describeFault(fault)}) could not be applied: ${(err as Error).message}`,
      );
    }
    return id;
  }

  /** Undo everything: network faults healed, paused nodes resumed, crashed nodes restarted. */
  async healAll(source: FaultSource): Promise<void> {
    if (this.network.size === 0 && this.paused.size === 0 && this.crashed.size === 0) return;
    await this.apply({ type: 'heal-all' }, source, null);
  }

  /** A restarted agent starts with no link rules: give it the ones still in force. */
  reapplyLinkRules(node: NodeId): void {
    const link = this.deps.links.get(node);
    if (link === undefined) return;
    for (const nf of this.network.values()) {
      if (nf.agentFault === null) continue;
      const rules = linkRulesForFault(nf.agentFault, this.deps.servers).get(node);
      if (rules !== undefined) link.send({ t: 'set-links', faultId: nf.id, rules });
    }
  }

  private async enact(id: string, fault: Fault, source: FaultSource): Promise<void> {
    const { testbed } = this.deps;
    switch (fault.type) {
      case 'crash':
        if (this.crashed.has(fault.node)) return;
        this.paused.delete(fault.node);
        // Marked first: the exit the kill causes is expected, not a surprise to report.
        this.crashed.add(fault.node);
        await testbed.kill(fault.node);
        this.lifecycle(fault.node, 'killed', 'SIGKILL');
        return;
      case 'recover':
        if (!this.crashed.has(fault.node)) return;
        await this.deps.restartNode(fault.node);
        this.crashed.delete(fault.node);
        this.reapplyLinkRules(fault.node);
        return;
      case 'pause':
        if (this.crashed.has(fault.node) || this.paused.has(fault.node)) return;
        await testbed.pause(fault.node);
        this.paused.add(fault.node);
        this.lifecycle(fault.node, 'paused', 'SIGSTOP');
        return;
      case 'resume':
        if (!this.paused.has(fault.node)) return;
        await testbed.resume(fault.node);
        this.paused.delete(fault.node);
        this.lifecycle(fault.node, 'resumed', 'SIGCONT');
        return;
      case 'partition':
      case 'cut':
      case 'degrade': {
        const { agentFault, inKernel } = await this.enactInKernel(id, fault);
        const rules =
          agentFault === null ? new Map() : linkRulesForFault(agentFault, this.deps.servers);
        for (const [node, list] of rules) {
          this.requireLink(node).send({ t: 'set-links', faultId: id, rules: list });
        }
        this.network.set(id, { id, fault, agentFault, inKernel, nodes: Array.from(rules.keys()) });
        return;
      }
      case 'heal-network':
        await this.healNetwork(source, (f) => f.type === 'partition' || f.type === 'cut');
        return;
      case 'restore-links':
        await this.healNetwork(source, (f) => f.type === 'degrade');
        return;
      case 'byzantine':
        if (this.crashed.has(fault.node)) throw new Error(`${fault.node} is crashed`);
        this.requireLink(fault.node).send({ t: 'set-behaviour', behaviour: fault.behaviour });
        return;
      case 'heal-all':
        await this.healNetwork(source, () => true);
        for (const node of Array.from(this.paused)) {
          await testbed.resume(node);
          this.paused.delete(node);
          this.lifecycle(node, 'resumed', 'SIGCONT (heal)');
        }
        for (const node of Array.from(this.crashed)) {
          await this.deps.restartNode(node);
          this.crashed.delete(node);
          this.reapplyLinkRules(node);
        }
        return;
    }
  }

  /**
   * A network fault goes to the kernel when the testbed can enforce it there (netns); what the
   * kernel cannot do here (delay/loss without netem) falls back to the agents' link filters,
   * and the run's log says so.
   */
  private async enactInKernel(
    id: string,
    fault: Extract<Fault, { type: 'partition' | 'cut' | 'degrade' }>,
  ): Promise<{ agentFault: Fault | null; inKernel: boolean }> {
    const kernel = this.deps.testbed.kernelFaults;
    if (kernel === undefined || kernel === null) return { agentFault: fault, inKernel: false };
    const outcome = await kernel.apply(id, fault);
    if (outcome.applied.length > 0) {
      this.note(
        `${id} in the kernel (${outcome.actuation_ms.toFixed(1)} ms): ${outcome.applied.join('; ')}`,
      );
    }
    if (outcome.fallback === null) return { agentFault: null, inKernel: true };
    this.note(
      `${id}: ${describeFault(outcome.fallback.fault)} goes through the agents' link filters ` +
        `instead of the kernel: ${outcome.fallback.reason}`,
    );
    return { agentFault: outcome.fallback.fault, inKernel: outcome.applied.length > 0 };
  }

  private async healNetwork(source: FaultSource, which: (f: Fault) => boolean): Promise<void> {
    for (const nf of Array.from(this.network.values())) {
      if (!which(nf.fault)) continue;
      if (nf.inKernel) await this.deps.testbed.kernelFaults?.heal(nf.id);
      for (const node of nf.nodes) this.deps.links.get(node)?.send({ t: 'heal', faultId: nf.id });
      this.network.delete(nf.id);
      this.deps.record({
        t_ms: this.deps.now_ms(),
        type: 'fault',
        id: nf.id,
        phase: 'healed',
        source,
        fault: nf.fault,
        at_ms: null,
      });
    }
  }

  private note(text: string): void {
    this.deps.record({ t_ms: this.deps.now_ms(), type: 'note', text });
  }

  private lifecycle(node: NodeId, what: 'killed' | 'paused' | 'resumed', detail: string): void {
    this.deps.record({ t_ms: this.deps.now_ms(), type: 'lifecycle', node, what, detail });
  }

  private validate(fault: Fault): void {
    const known = new Set(this.deps.servers);
    const named: NodeId[] = [];
    if ('node' in fault) named.push(fault.node);
    if (fault.type === 'cut') named.push(fault.from, fault.to);
    if (fault.type === 'partition') named.push(...fault.groups.flat());
    if (fault.type === 'degrade') named.push(...(fault.links ?? []).flat());
    const unknown = named.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new Error(
        `fault ${describeFault(fault)} names ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not a ` +
          `replica of this run (replicas: ${this.deps.servers.join(', ')})`,
      );
    }
  }

  private requireLink(node: NodeId): AgentLink {
    const link = this.deps.links.get(node);
    if (link === undefined) throw new Error(`no control link to ${node}`);
    return link;
  }
}
