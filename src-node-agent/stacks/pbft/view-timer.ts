import type { TimerName } from '../../core/ids';
import type { ReplicaState } from './replica-state';

/** A backup's timer on a pending request, and the timer on an unfinished view change. */
export const VIEW_TIMER: TimerName = 'view-change';

/** The view-change timer: when it runs, and how long (paper, sections 4.4 and 4.5.2). */
export class ViewTimer {
  constructor(private readonly s: ReplicaState) {}

  /**
   * Liveness rule of the paper (section 4.5.2): the timer for a new view starts only once
   * 2f+1 replicas asked for it, so a replica cut off from the others waits in its view
   * instead of racing to ever higher views the others can never catch up with. Each
   * consecutive view then gets twice as long.
   *
   * A replica asking for a later view counts too: it gave up on this one. Counting only
   * requests for exactly this view deadlocked (seed 532 of `npm run sim -- --stack pbft
   * --byzantine random`, n4 silent): n1 timed out of view 1 into 2 before its VIEW-CHANGE
   * for 1 reached n2, so n2 and n3 held two for view 1 and never started the timer, and n1
   * alone in view 2 was not the f+1 that would pull them along.
   */
  armOnQuorum(): void {
    const s = this.s;
    if (!s.inViewChange || s.viewTimerArmed) return;
    const asking = new Set<string>();
    for (const [view, senders] of s.viewChanges) {
      if (view >= s.view) for (const node of senders.keys()) asking.add(node);
    }
    if (asking.size < 2 * s.f + 1) return;
    this.arm();
    s.viewTimeout_ms = Math.min(s.viewTimeout_ms * 2, s.config.viewChangeTimeoutMax_ms);
  }

  arm(): void {
    this.s.viewTimerArmed = true;
    this.s.ctx.setTimer(VIEW_TIMER, this.s.viewTimeout_ms);
  }

  disarm(): void {
    this.s.viewTimerArmed = false;
    this.s.ctx.cancelTimer(VIEW_TIMER);
  }

  /** Progress was made: restart the timer if requests are still waiting. */
  rearm(): void {
    if (this.s.inViewChange) return;
    if (this.s.pending.size > 0) this.arm();
    else this.disarm();
  }
}
