import type { NodeId } from './ids';

/**
 * A typed protocol event, emitted through `Context.emit`. Drivers stamp it with time and node;
 * the recording, the dashboard timeline and the checkers consume it.
 *
 * `executed` is special: every stack that orders commands emits one per executed slot, and the
 * agreement checker reads exactly those. `snapshot-installed` marks a jump over slots the node
 * never executed one by one (it received the state instead).
 */
export type ProtocolEvent =
  | { kind: 'leader-elected'; view: number; leader: NodeId }
  | { kind: 'view-change'; view: number; reason: string }
  | { kind: 'view-installed'; view: number; leader: NodeId }
  | { kind: 'committed'; slot: number; view: number; requests: number }
  | { kind: 'executed'; slot: number; digest: string }
  | { kind: 'snapshot-taken'; slot: number }
  | { kind: 'snapshot-installed'; slot: number; digest: string }
  | { kind: 'recovered'; view: number; slot: number }
  | { kind: 'rejected-input'; source: NodeId; reason: string }
  | { kind: 'behaviour'; name: string; detail: string }
  | { kind: 'note'; text: string };

export type ProtocolEventKind = ProtocolEvent['kind'];
