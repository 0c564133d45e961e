import type { ProtocolEvent } from '../core/events';
import type { Fault } from '../core/faults';
import type { HistoryEntry } from '../core/history';
import type { NodeId } from '../core/ids';

/**
 * One line of a simulation's event log. The log (with the client history) is the run's
 * output: it is hashed to prove determinism, fed to the checkers, and its tail is printed
 * when a seed fails.
 */
export type SimRecord =
  | {
      readonly t_us: number;
      readonly type: 'protocol';
      readonly node: NodeId;
      readonly event: ProtocolEvent;
    }
  | { readonly t_us: number; readonly type: 'fault'; readonly fault: Fault }
  | {
      readonly t_us: number;
      readonly type: 'rejected';
      readonly node: NodeId;
      readonly from: NodeId;
      readonly reason: string;
    }
  | {
      readonly t_us: number;
      readonly type: 'invariant';
      readonly invariant: string;
      readonly detail: string;
    }
  | {
      readonly t_us: number;
      readonly type: 'message';
      readonly from: NodeId;
      readonly to: NodeId;
      readonly sent_us: number;
      readonly kind: string;
    };

export type ClientHistory<Op, Out> = HistoryEntry<Op, Out>[];

export function formatRecord(r: SimRecord): string {
  const t = (r.t_us / 1000).toFixed(3).padStart(10);
  switch (r.type) {
    case 'protocol':
      return `${t}ms ${r.node.padEnd(4)} ${r.event.kind} ${JSON.stringify({ ...r.event, kind: undefined })}`;
    case 'fault':
      return `${t}ms FAULT ${JSON.stringify(r.fault)}`;
    case 'rejected':
      return `${t}ms ${r.node.padEnd(4)} rejected input from ${r.from}: ${r.reason}`;
    case 'invariant':
      return `${t}ms INVARIANT ${r.invariant} violated: ${r.detail}`;
    case 'message':
      return `${t}ms ${r.from} -> ${r.to} ${r.kind} (sent ${(r.sent_us / 1000).toFixed(3)}ms)`;
  }
}
