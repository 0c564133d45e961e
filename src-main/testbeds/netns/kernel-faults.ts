import { performance } from 'node:perf_hooks';
import type { LinkProfile } from '../../../src-node-agent/core/faults';
import type { NodeId } from '../../../src-node-agent/core/ids';
import {
  degradePlan,
  dropPairs,
  nftFaultScript,
  nftHealScript,
  tcRootLines,
  tcRootRemoveLines,
  tcShapeLines,
  tcUnshapeLines,
  type KernelFault,
  type NftTableRef,
  type NodeAddress,
} from './kernel-fault-plan';
import type { NetemStatus } from './netem-detect';
import { runTool } from './run-tool';

/** tc class minors / filter priorities available to faults (1 is the unshaped default). */
const FIRST_SHAPE_MINOR = 2;
const LAST_SHAPE_MINOR = 0xefff;
/** Faults held at once; the orchestrator heals faults, so more means a leak upstream. */
export const MAX_KERNEL_FAULTS = 10_000;

interface ActiveFault {
  readonly kind: 'drop' | 'shape';
  readonly chain: string | null;
  /** Sending namespace → tc minor of this fault there. */
  readonly shapes: readonly { namespace: string; minor: number }[];
}

export type KernelFaultStatus =
  /** Entirely in force in the kernel. */
  | 'applied'
  /** Part in the kernel (e.g. the rate as tbf), the rest must go to the agent link filter. */
  | 'partial-agent-fallback'
  /** Nothing in the kernel: apply `fallback` through the agent link filter. */
  | 'needs-agent-fallback'
  /** A process fault (crash, pause, …): the testbed's job, not the kernel's. */
  | 'not-a-kernel-fault';

export interface KernelFaultResult {
  readonly faultId: string;
  readonly status: KernelFaultStatus;
  /** What is now in force, in words, for the run log. */
  readonly applied: readonly string[];
  readonly fallback: {
    readonly profile: LinkProfile;
    readonly links: readonly (readonly [NodeId, NodeId])[] | null;
    readonly reason: string;
  } | null;
  /** From the call to the last rule command returning: the rule is in force from then on. */
  readonly actuation_ms: number;
}

export interface KernelFaultTarget {
  readonly nftTable: NftTableRef;
  /** The servers of the run: partitions are computed over these. */
  readonly nodes: ReadonlyMap<NodeId, NodeAddress>;
  readonly netem: NetemStatus;
}

/**
 * Kernel-level network faults on a netns testbed: partitions and cuts as nftables rules in our
 * own table (kernel-fault-plan.ts says where and why), bandwidth with tc tbf, delay/loss/
 * duplication/reordering with tc netem where the kernel has it. Each fault heals alone, by id.
 * Calls are serialized: rule changes apply in the order they were asked for.
 */
export class KernelFaultController {
  private readonly active = new Map<string, ActiveFault>();
  private readonly rootInstalled = new Set<string>();
  private nextChain = 1;
  private nextMinor = FIRST_SHAPE_MINOR;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly target: KernelFaultTarget) {}

  activeFaultIds(): string[] {
    return [...this.active.keys()];
  }

  apply(faultId: string, fault: KernelFault): Promise<KernelFaultResult> {
    return this.serialized(() => this.applyNow(faultId, fault));
  }

  /** Heal one fault by id; `healed` false when no such fault is active. */
  heal(faultId: string): Promise<{ healed: boolean; actuation_ms: number }> {
    return this.serialized(async () => {
      const t0 = performance.now();
      const healed = await this.healIds(this.active.has(faultId) ? [faultId] : []);
      return { healed: healed.length > 0, actuation_ms: performance.now() - t0 };
    });
  }

  /** Heal every fault (teardown, stop, lease expiry). */
  healAll(): Promise<{ healed: string[]; actuation_ms: number }> {
    return this.serialized(async () => {
      const t0 = performance.now();
      const healed = await this.healIds([...this.active.keys()]);
      return { healed, actuation_ms: performance.now() - t0 };
    });
  }

  private serialized<T>(body: () => Promise<T>): Promise<T> {
    const run = this.queue.then(body, body);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(faultId: string, fault: KernelFault): Promise<KernelFaultResult> {
    const t0 = performance.now();
    const done = (
      status: KernelFaultStatus,
      applied: string[],
      fallback: KernelFaultResult['fallback'] = null,
    ): KernelFaultResult => ({
      faultId,
      status,
      applied,
      fallback,
      actuation_ms: performance.now() - t0,
    });
    if (this.active.has(faultId)) {
      throw new Error(
        `kernel faults: fault id "${faultId}" is already active; heal it first or use a new id`,
      );
    }
    if (this.active.size >= MAX_KERNEL_FAULTS) {
      throw new Error(
        `kernel faults: ${MAX_KERNEL_FAULTS} faults are active; heal some before "${faultId}"`,
      );
    }
    switch (fault.type) {
      case 'partition':
      case 'cut': {
        const pairs = dropPairs(fault, this.target.nodes);
        const chain = `f${this.nextChain++}`;
        await this.nft(
          nftFaultScript(this.target.nftTable, chain, pairs),
          `apply fault ${faultId}`,
        );
        this.active.set(faultId, { kind: 'drop', chain, shapes: [] });
        return done('applied', [`nft chain ${chain}: drop ${pairs.length} directed node pairs`]);
      }
      case 'degrade': {
        const plan = degradePlan(fault, this.target.nodes, this.target.netem);
        const fallback =
          plan.fallback === null
            ? null
            : {
                profile: plan.fallback.profile,
                links: fault.links ?? null,
                reason: plan.fallback.reason,
              };
        if (plan.shapes.length === 0) return done('needs-agent-fallback', [], fallback);
        const shapes: { namespace: string; minor: number }[] = [];
        const applied: string[] = [];
        // Recorded before the commands run, so a failure half-way can undo what went in.
        this.active.set(faultId, { kind: 'shape', chain: null, shapes });
        const results = await Promise.allSettled(
          plan.shapes.map(async (shape) => {
            const minor = this.allocateMinor();
            const lines = [
              ...(this.rootInstalled.has(shape.namespace) ? [] : tcRootLines()),
              ...tcShapeLines(minor, shape),
            ];
            await this.tc(shape.namespace, lines, `apply fault ${faultId} on ${shape.from}`);
            this.rootInstalled.add(shape.namespace);
            shapes.push({ namespace: shape.namespace, minor });
            applied.push(`${shape.from}: ${shape.leaf[0]} to ${shape.destinations.join(' ')}`);
          }),
        );
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed !== undefined) {
          // All or nothing, as the nft faults are: undo the nodes that did take it.
          await this.healIds([faultId]);
          throw failed.reason;
        }
        return done(fallback === null ? 'applied' : 'partial-agent-fallback', applied, fallback);
      }
      case 'heal-network': {
        const ids = [...this.active].filter(([, f]) => f.kind === 'drop').map(([id]) => id);
        return done(
          'applied',
          (await this.healIds(ids)).map((id) => `healed ${id}`),
        );
      }
      case 'restore-links': {
        const ids = [...this.active].filter(([, f]) => f.kind === 'shape').map(([id]) => id);
        return done(
          'applied',
          (await this.healIds(ids)).map((id) => `healed ${id}`),
        );
      }
      case 'heal-all':
        return done(
          'applied',
          (await this.healIds([...this.active.keys()])).map((id) => `healed ${id}`),
        );
      default:
        return done('not-a-kernel-fault', []);
    }
  }

  private allocateMinor(): number {
    if (this.nextMinor > LAST_SHAPE_MINOR) {
      throw new Error(
        'kernel faults: tc class numbers exhausted; take the testbed down and up again',
      );
    }
    return this.nextMinor++;
  }

  /** Drop chains go in one atomic nft batch; tc removals per sending namespace. */
  private async healIds(ids: readonly string[]): Promise<string[]> {
    const faults = ids.flatMap((id) => {
      const f = this.active.get(id);
      return f === undefined ? [] : [{ id, f }];
    });
    const chains = faults.flatMap(({ f }) => (f.chain === null ? [] : [f.chain]));
    if (chains.length > 0) {
      await this.nft(nftHealScript(this.target.nftTable, chains), `heal ${ids.join(', ')}`);
    }
    const healing = new Set(faults.map(({ id }) => id));
    const stillShaped = new Set(
      [...this.active]
        .filter(([id]) => !healing.has(id))
        .flatMap(([, f]) => f.shapes.map((s) => s.namespace)),
    );
    const perNs = new Map<string, string[]>();
    for (const { f } of faults) {
      for (const s of f.shapes) {
        // The last shaping fault of a node takes our root qdisc (and all under it) away, so a
        // healed node is exactly as `up` left it.
        const lines = stillShaped.has(s.namespace)
          ? [...(perNs.get(s.namespace) ?? []), ...tcUnshapeLines(s.minor)]
          : tcRootRemoveLines();
        perNs.set(s.namespace, lines);
      }
    }
    await Promise.all(
      [...perNs].map(async ([ns, lines]) => {
        await this.tc(ns, lines, `heal ${ids.join(', ')}`);
        if (!stillShaped.has(ns)) this.rootInstalled.delete(ns);
      }),
    );
    for (const { id } of faults) this.active.delete(id);
    return faults.map(({ id }) => id);
  }

  private async nft(script: string, what: string): Promise<void> {
    const t = this.target.nftTable;
    await runTool('nft', ['-f', '-'], {
      input: script,
      hint:
        `could not ${what} in nft table ${t.family} ${t.name}; the batch was rejected as a whole, ` +
        `so nothing of it is in force. Inspect with: nft list table ${t.family} ${t.name}`,
    });
  }

  private async tc(namespace: string, lines: readonly string[], what: string): Promise<void> {
    await runTool('tc', ['-n', namespace, '-batch', '-'], {
      input: `${lines.join('\n')}\n`,
      hint:
        `could not ${what} (tc in namespace ${namespace}; the line after "-:" says which command). ` +
        `Inspect with: tc -n ${namespace} qdisc show; tc -n ${namespace} class show dev eth0`,
    });
  }
}
