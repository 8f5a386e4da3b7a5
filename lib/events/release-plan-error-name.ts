/** Error names of a failed release plan execution (the Step Functions execution's `error`). */
export enum ReleasePlanErrorName {
  /** The traffic rollout rolled back (verified) and the migration was rolled back after it. */
  ROLLED_BACK = 'ZdtReleaseRolledBack',
  /** A part failed after the traffic moved: the traffic stays, the migration stays expanded at its gate. */
  HALTED = 'ZdtReleaseHalted',
  /** The traffic rollout's own rollback failed, or the migration's rollback did not end rolled back. */
  ROLLBACK_FAILED = 'ZdtReleaseRollbackFailed',
  /** The migration failed before the traffic rollout (it rolled itself back), or its contract failed. */
  FAILED = 'ZdtReleaseFailed',
}
