/**
 * `detail-type` of the rollout events on EventBridge (source `cdk-zero-downtime`) and subject of the rollout
 * notifications on SNS. The detail carries the service, the execution, the colors and the reason.
 */
export enum RolloutEvent {
  /** A rollout took the service's lock and is about to move traffic. */
  STARTED = 'Rollout Started',
  /**
   * A step's traffic share passed its judgement, or the step was merged into the next one because it is too small to
   * judge at the observed traffic; the detail's `reasons` say which.
   */
  STEP_COMPLETED = 'Rollout Step Completed',
  /** A step waits for an operator: promote continues, abort rolls back. */
  PAUSED = 'Rollout Paused',
  /** The rollout decided to roll back (a failed judgement, a hook, an abort, an error); traffic is being restored. */
  ROLLBACK_TRIGGERED = 'Rollout Rollback Triggered',
  /** Traffic is back on the stable color, 100%, verified. */
  ROLLED_BACK = 'Rollout Rolled Back',
  /** The rollback could not restore traffic: it may still be split. Page someone. */
  ROLLBACK_FAILED = 'Rollout Rollback Failed',
  /** The new color carries all production traffic and is recorded as live. */
  COMPLETED = 'Rollout Completed',
  /** Sent with COMPLETED when every judgement was INCONCLUSIVE and onInconclusive is PROCEED: nothing judged the release. */
  RELEASED_UNJUDGED = 'Rollout Released Unjudged',
  /**
   * The stable color breaks its own limits (its alarms, or its 5xx rate above the absolute limit) while a step bakes:
   * the step holds (its judgements do not count toward the bake), then follows the rollout's baseline policy.
   */
  BASELINE_DEGRADED = 'Rollout Baseline Degraded',
  /**
   * The execution guard failed to restore traffic after an execution ended holding the lock; it keeps trying
   * (`ProgressiveRollout.guardGaveUpAlarm` fires when it gives up). Traffic may be split meanwhile.
   */
  GUARD_FAILED = 'Rollout Guard Failed',
  /**
   * The operator promoted the rollout to full (`zdt promote --full`): the remaining steps are skipped, the new color
   * gets 100% next, and that step's bake is still judged (a bad release still rolls back).
   */
  PROMOTED_FULL = 'Rollout Promoted Full',
}
