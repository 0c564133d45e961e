import type { Duplex } from 'node:stream';
import type { AgentConfigInput } from '../../src-node-agent/control/agent-config';
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

/**
 * Where agents run. Providers: local processes (this folder), netns containers and SSH hosts
 * (later). Every method is idempotent where it can be, and `teardown` leaves nothing behind:
 * processes are tracked by PID and killed by PID, never by name.
 */
export interface Testbed {
  readonly kind: string;
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
