/**
 * Error names of the rollout's handlers and of a failed rollout execution (the `error` of a Step Functions
 * execution): match on them to tell a rollback from a refusal or a rollback failure.
 */
export enum ErrorName {
  /** Throttling, 5xx, timeouts, network faults: safe to retry. */
  RETRYABLE = 'ZdtRetryableError',
  /** The read-back after a write does not show the desired state. Retryable. */
  WEIGHT_VERIFICATION_FAILED = 'ZdtWeightVerificationFailed',
  /** Another rollout of the same service holds the lock. */
  ROLLOUT_IN_PROGRESS = 'ZdtRolloutInProgress',
  /** The target group of the color about to receive traffic has no registered healthy targets. */
  TARGETS_UNHEALTHY = 'ZdtTargetsUnhealthy',
  /** An alarm the judge must watch does not exist. */
  ALARM_NOT_FOUND = 'ZdtAlarmNotFound',
  /** The live route is not in a shape the router understands (rule missing, foreign target groups). */
  ROUTE_INVALID = 'ZdtRouteInvalid',
  /** The requested target color already carries all production traffic. */
  ALREADY_LIVE = 'ZdtAlreadyLive',
  /** A request payload or configuration is malformed (a bug or a hand-edited input). */
  INVALID_REQUEST = 'ZdtInvalidRequest',
  /** The operator aborted a paused rollout. */
  ABORTED = 'ZdtAborted',
  /** Error of a rollout execution that rolled back: traffic is 100% on the stable color, verified. */
  ROLLED_BACK = 'ZdtRolledBack',
  /** Error of a rollout execution whose rollback could not restore traffic: it may still be split. */
  ROLLBACK_FAILED = 'ZdtRollbackFailed',
  /** A high-resolution alarm of the new color went to ALARM during a bake: the bake ended at once and rolled back. */
  HIGH_RESOLUTION_ALARM = 'ZdtHighResolutionAlarm',
}
