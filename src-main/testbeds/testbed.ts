import type { Duplex } from 'node:stream';
import type { AgentConfigInput } from '../../src-node-agent/control/agent-config';
import type { Fault } from '../../src-node-agent/core/faults';
import type { NodeId } from '../../src-node-agent/core/ids';

export type NodeRole = 'replica' | 'workload';

export interface NodePlan {
  readonly id: NodeId;
  readonly role: NodeRole;
}

/** A node as provisioned: where its agent listens and where its files live. */
export interface ProvisionedNode {
  readonly id: NodeId;
  readonly role: NodeRole;
  /** Address peers dial (replicas); workload agents listen nowhere. */
  readonly host: string;
  readonly port: number | null;
  readonly workDir: string;
  readonly controlSocket: string;
}

export type ProcessState = 'not-started' | 'running' | 'paused' | 'exited';

/** Lifecycle notices a testbed reports (process exits it did not ask for included). */
export type TestbedNotice =
  | {
      readonly kind: 'exited';
      readonly node: NodeId;
      readonly code: number | null;
      readonly signal: string | null;
    }
  | { readonly kind: 'log'; readonly node: NodeId | null; readonly text: string };

/** The network faults a testbed may enforce in the kernel instead of in the agents. */
export type KernelNetworkFault = Extract<Fault, { type: 'partition' | 'cut' | 'degrade' }>;

export interface KernelFaultOutcome {
  /** What is now in force in the kernel, in words, for the run log (empty: nothing). */
  readonly applied: readonly string[];
  /**
   * The part the kernel cannot do here (e.g. delay and loss without tc netem): the caller
   * applies it through the agents' link filters and records `reason` in the run's log.
   */
  readonly fallback: { readonly fault: KernelNetworkFault; readonly reason: string } | null;
  /** From the call to the last rule command returning: in force on every node from then on. */
  readonly actuation_ms: number;
}

/**
 * Optional capability: partitions, cuts and degraded links as kernel rules (nftables, tc) on
 * the path between the agents, so the protocol meets a real broken network rather than a
 * filter inside its own process. The control path is never cut.
 */
export interface KernelFaults {
  /** For the run log: where the rules go and what the kernel can do. */
  readonly description: string;
  apply(faultId: string, fault: KernelNetworkFault): Promise<KernelFaultOutcome>;
  /** Heal one fault by the id it was applied with; a no-op for an unknown id. */
  heal(faultId: string): Promise<void>;
  healAll(): Promise<void>;
}

/**
 * Where agents run. Providers: local processes (this folder), netns containers and SSH hosts
 * (later). Every method is idempotent where it can be, and `teardown` leaves nothing behind:
 * processes are tracked by PID and killed by PID, never by name.
 */
export interface Testbed {
  readonly kind: string;
  /** Present when network faults can be enforced in the kernel (netns); else agent link rules. */
  readonly kernelFaults?: KernelFaults | null;
  provision(runId: string, plan: readonly NodePlan[]): Promise<ProvisionedNode[]>;
  /** Make the agent bundle available on every node; returns its sha256. */
  deploy(): Promise<{ agentSha256: string }>;
  writeConfig(node: NodeId, config: AgentConfigInput): Promise<void>;
  start(node: NodeId): Promise<void>;
  /** SIGKILL: volatile state is gone, the work dir (stable storage) stays. */
  kill(node: NodeId): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(node: NodeId): Promise<void>;
  resume(node: NodeId): Promise<void>;
  /** Start again on the same work dir after a kill. */
  restart(node: NodeId): Promise<void>;
  state(node: NodeId): ProcessState;
  pid(node: NodeId): number | null;
  /** A byte stream to the agent's control socket. */
  connectControl(node: NodeId): Promise<Duplex>;
  onNotice(listener: (notice: TestbedNotice) => void): void;
  /** Stop every agent (SIGTERM, then SIGKILL after a grace period) and remove what was created. */
  teardown(options?: { keepWorkDirs?: boolean; grace_ms?: number }): Promise<void>;
}
