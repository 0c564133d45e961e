import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { LinkProfile } from '../../../src-node-agent/core/faults';
import type { NodeId } from '../../../src-node-agent/core/ids';
import {
  degradePlan,
  dropPairs,
  nftFaultScript,
  nftHealScript,
  nftNeutralizeScript,
  tcRootLines,
  tcRootRemoveLines,
  tcShapeLines,
  tcUnshapeLines,
  type KernelFault,
  type NftTableRef,
  type NodeAddress,
} from './kernel-fault-plan';
import type { NetemStatus } from './netem-detect';
import { NftSession, NftSessionUnavailable } from './nft-session';
import { runTool } from './run-tool';

/** tc class minors / filter priorities available to faults (1 is the unshaped default). */
const FIRST_SHAPE_MINOR = 2;
const LAST_SHAPE_MINOR = 0xefff;
/** Faults held at once; the orchestrator heals faults, so more means a leak upstream. */
export const MAX_KERNEL_FAULTS = 10_000;
/** Healed chains are deleted after this long without a fault change (deletions are slow). */
const SWEEP_IDLE_MS = 1_000;
/** Chains deleted per sweep step: one keeps a fault that arrives mid-sweep waiting ~20 ms at most. */
const SWEEP_BATCH = 1;
/**
 * Healed chains kept before a new fault deletes them first: each still costs every forwarded
 * packet one rule (the `return`), so they must not pile up when the run never pauses.
 */
const MAX_HEALED_CHAINS = 64;
/** The nft session ends after this long without a batch; the next fault starts another. */
const SESSION_IDLE_MS = 60_000;
const NFT_TIMEOUT_MS = 15_000;

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
  /**
   * Chain names of this controller: a healed chain may outlive it until a sweep, and another
   * controller's `add chain` of the same name would add its rules after that `return`.
   */
  private readonly chainPrefix = `f${randomBytes(3).toString('hex')}_`;
  private nextMinor = FIRST_SHAPE_MINOR;
  private queue: Promise<unknown> = Promise.resolve();
  /** Healed (neutralized) drop chains still in the table, oldest first. */
  private healedChains: string[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  /** The long-lived `nft -i`; null until the first batch, or after it closed. */
  private session: Promise<NftSession> | null = null;
  /** This nft has no usable interactive mode: every batch starts its own `nft -f`. */
  private oneShotNft = false;
  private sessionIdleTimer: NodeJS.Timeout | null = null;
  /** Set by close(): no sweep may start (and open a new session) until the next change. */
  private closed = false;

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

  /**
   * Heal every fault (teardown, stop, lease expiry) and delete every chain of ours, healed ones
   * included: afterwards the table holds nothing of this controller and no timer is pending.
   */
  healAll(): Promise<{ healed: string[]; actuation_ms: number }> {
    return this.serialized(async () => {
      const t0 = performance.now();
      const healed = await this.healIds([...this.active.keys()]);
      const actuation_ms = performance.now() - t0;
      this.cancelSweep();
      await this.sweep(this.healedChains.length);
      return { healed, actuation_ms };
    });
  }

  /**
   * Stop the nft session and the pending sweep (healed chains stay until `down` removes the
   * table, or healAll before this). Idempotent; a later fault opens a new session.
   */
  close(): void {
    this.closed = true;
    this.cancelSweep();
    if (this.sessionIdleTimer !== null) clearTimeout(this.sessionIdleTimer);
    this.sessionIdleTimer = null;
    const session = this.session;
    this.session = null;
    void session?.then(
      (s) => s.close(),
      () => undefined,
    );
  }

  /** Healed chains not yet deleted (tests and diagnostics). */
  get healedChainCount(): number {
    return this.healedChains.length;
  }

  private serialized<T>(body: () => Promise<T>): Promise<T> {
    // Any change postpones the sweep: deletions wait for a quiet moment.
    this.closed = false;
    this.cancelSweep();
    const run = this.queue.then(body, body);
    this.queue = run.catch(() => undefined);
    void run.finally(() => this.scheduleSweep()).catch(() => undefined);
    return run;
  }

  private cancelSweep(): void {
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
  }

  private scheduleSweep(): void {
    if (this.closed || this.healedChains.length === 0 || this.sweepTimer !== null) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      // Through the queue, so a sweep step and a fault change never overlap.
      const step = this.queue.then(() => this.sweep(SWEEP_BATCH));
      this.queue = step.catch(() => undefined);
      void step.then(
        () => this.scheduleSweep(),
        () => undefined,
      );
    }, SWEEP_IDLE_MS);
    // A pending sweep must not keep the process alive; `down` removes the table anyway.
    this.sweepTimer.unref();
  }

  /**
   * Delete up to `count` healed chains. A failure (the table already gone with `down`) drops
   * them from the list: they are either gone or inert, and retrying would only fail again.
   */
  private async sweep(count: number): Promise<void> {
    // Serialized with every change, so the list is ours until the batch returns.
    const chains = this.healedChains.slice(0, count);
    if (chains.length === 0) return;
    await this.nft(nftHealScript(this.target.nftTable, chains), `delete healed chains`).catch(
      () => undefined,
    );
    this.healedChains.splice(0, chains.length);
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
        if (this.healedChains.length >= MAX_HEALED_CHAINS) {
          await this.sweep(this.healedChains.length - MAX_HEALED_CHAINS + 1);
        }
        const pairs = dropPairs(fault, this.target.nodes);
        const chain = `${this.chainPrefix}${this.nextChain++}`;
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

  /**
   * Drop chains are neutralized in one atomic nft batch (deleted later by the sweep); tc
   * removals per sending namespace.
   */
  private async healIds(ids: readonly string[]): Promise<string[]> {
    const faults = ids.flatMap((id) => {
      const f = this.active.get(id);
      return f === undefined ? [] : [{ id, f }];
    });
    const chains = faults.flatMap(({ f }) => (f.chain === null ? [] : [f.chain]));
    if (chains.length > 0) {
      await this.nft(nftNeutralizeScript(this.target.nftTable, chains), `heal ${ids.join(', ')}`);
      this.healedChains.push(...chains);
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
    const hint =
      `could not ${what} in nft table ${t.family} ${t.name}; the batch was rejected as a whole, ` +
      `so nothing of it is in force. Inspect with: nft list table ${t.family} ${t.name}`;
    const session = await this.nftSession();
    if (session === null) {
      await runTool('nft', ['-f', '-'], { input: script, hint, timeout_ms: NFT_TIMEOUT_MS });
      return;
    }
    await session.run(script, { timeout_ms: NFT_TIMEOUT_MS, hint });
  }

  /** The open nft session (started on first use), or null when batches go to `nft -f`. */
  private async nftSession(): Promise<NftSession | null> {
    if (this.oneShotNft) return null;
    if (this.sessionIdleTimer !== null) clearTimeout(this.sessionIdleTimer);
    this.sessionIdleTimer = setTimeout(() => this.close(), SESSION_IDLE_MS);
    this.sessionIdleTimer.unref();
    const current = await this.session?.catch(() => null);
    if (current !== undefined && current !== null && !current.isClosed) return current;
    const opening = NftSession.open();
    this.session = opening;
    try {
      return await opening;
    } catch (err) {
      this.session = null;
      if (err instanceof NftSessionUnavailable) {
        this.oneShotNft = true;
        return null;
      }
      throw err;
    }
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
