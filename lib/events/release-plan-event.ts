/**
 * `detail-type` of a release plan's events on EventBridge (source `cdk-zero-downtime`). The detail carries the plan
 * (its construct path), the execution, and for a failure the part that failed and its error and cause.
 */
export enum ReleasePlanEvent {
  /** The plan started: the migration's execution is being started. */
  STARTED = 'Release Started',
  /** The migration is expanded, backfilled and validated, and waits at its gate: the traffic rollout starts. */
  MIGRATION_READY = 'Release Migration Ready',
  /** The traffic rollout completed: the new version carries all traffic. */
  TRAFFIC_COMPLETED = 'Release Traffic Completed',
  /** A flag rollout completed. */
  FLAG_COMPLETED = 'Release Flag Completed',
  /** Every part passed; the plan waits for an operator before the contract (the detail's taskToken answers it). */
  WAITING_FOR_APPROVAL = 'Release Waiting For Approval',
  /** The plan rolls back earlier parts (the detail names the part that failed and what is rolled back). */
  ROLLBACK_TRIGGERED = 'Release Rollback Triggered',
  /** The traffic rolled back and the migration with it: nothing of the release remains. */
  ROLLED_BACK = 'Release Rolled Back',
  /**
   * A part failed where undoing the earlier parts is not safe (a flag rolled back while the new version carries
   * traffic, an abort before the contract): the traffic stays, the migration stays expanded at its gate.
   */
  HALTED = 'Release Halted',
  /** A rollback did not end in a known state (the traffic's or the migration's): page someone. */
  ROLLBACK_FAILED = 'Release Rollback Failed',
  /** The migration failed before any traffic moved (it rolled itself back), or its contract failed. */
  FAILED = 'Release Failed',
  /** Traffic, flags and the migration's contract all done. */
  COMPLETED = 'Release Completed',
  /**
   * A later flag rollout of the plan failed, and this flag (`detail.flag`), whose rollout had completed earlier in the
   * plan, is back to its definition before the plan, deployed. Flags are restored the latest first, then the plan
   * halts (`ReleasePlan` `keepCompletedFlags` leaves them rolled out instead).
   */
  FLAG_ROLLED_BACK = 'Release Flag Rolled Back',
}
