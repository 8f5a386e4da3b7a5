/** What a notification is about: the rollout's events (EventBridge source `cdk-zero-downtime`) as a person sees them. */
export enum RolloutEventKind {
  /** A rollout began (detail-type 'Rollout Started'). */
  STARTED = 'STARTED',
  /**
   * A traffic step passed its judgement, or was merged into the next one because it is too small to judge at the
   * observed traffic (detail-type 'Rollout Step Completed'; its `reasons` say which). A flag rollout's phase passed.
   */
  STEP_COMPLETED = 'STEP_COMPLETED',
  /** The rollout waits for an operator's promote or abort (detail-type 'Rollout Paused'). */
  PAUSED = 'PAUSED',
  /**
   * A validation gate or traffic hook failed, so the rollout rolls back ('Rollout Rollback Triggered' whose
   * trigger is a failed hook). A channel that gets this does not get the same rollback again as ROLLBACK_TRIGGERED.
   */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /**
   * The rollout rolls back, whatever the reason (detail-type 'Rollout Rollback Triggered'); for a channel that also
   * gets VALIDATION_FAILED, every reason but a failed gate (which that message tells).
   */
  ROLLBACK_TRIGGERED = 'ROLLBACK_TRIGGERED',
  /** Traffic is back on the stable color, verified (detail-type 'Rollout Rolled Back'). */
  ROLLED_BACK = 'ROLLED_BACK',
  /** The rollback could not restore traffic: it may still be split (detail-type 'Rollout Rollback Failed'). */
  ROLLBACK_FAILED = 'ROLLBACK_FAILED',
  /** The new color carries all traffic and is recorded live (detail-type 'Rollout Completed'). */
  COMPLETED = 'COMPLETED',
  /**
   * An operator skipped the remaining steps (`zdt promote --full`, detail-type 'Rollout Promoted Full'): the new color
   * gets 100% next, still judged. A traffic rollout's only: routed for a flag rollout, it adds no rule (a flag rollout sends none).
   */
  PROMOTED_FULL = 'PROMOTED_FULL',
}
