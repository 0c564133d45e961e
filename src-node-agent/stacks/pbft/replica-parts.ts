import type { Checkpoints } from './checkpoints';
import type { NormalCase } from './normal-case';
import type { RequestIntake } from './requests';
import type { ViewChanges } from './view-change';
import type { ViewTimer } from './view-timer';

/**
 * The parts of a replica, each one job of the protocol over the shared ReplicaState. They
 * call each other (execution takes checkpoints, a stable checkpoint lets the primary propose,
 * a new view re-issues pre-prepares), so each gets this table, filled once by PbftReplica.
 */
export interface ReplicaParts {
  readonly requests: RequestIntake;
  readonly normal: NormalCase;
  readonly checkpoints: Checkpoints;
  readonly views: ViewChanges;
  readonly timer: ViewTimer;
}
