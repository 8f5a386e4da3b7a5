/**
 * `detail-type` of the guarded flag rollout events on EventBridge (source `cdk-zero-downtime`) and subject of its
 * notifications on SNS. The detail carries the service, the flag, the execution, the phase and the reason.
 */
export enum FlagRolloutEvent {
  /** The rollout read the deployed flags and is about to deploy its first phase. */
  STARTED = 'Flag Rollout Started',
  /** A phase passed its judgement (or its hold): the next phase is deployed. */
  PHASE_COMPLETED = 'Flag Rollout Phase Completed',
  /** A phase passed and waits for an operator: the detail's taskToken answers it (SendTaskSuccess promotes, SendTaskFailure aborts). */
  PAUSED = 'Flag Rollout Paused',
  /**
   * The rollout decided to roll the flag back (a regression, an abort, an error; or, trigger `execution-ended`, its
   * execution guard after the execution ended holding the lock); its previous definition is being deployed.
   */
  ROLLBACK_TRIGGERED = 'Flag Rollout Rollback Triggered',
  /** The flag is back to its definition before the rollout, deployed. */
  ROLLED_BACK = 'Flag Rollout Rolled Back',
  /** The rollback could not deploy the flag's previous definition. Page someone. */
  ROLLBACK_FAILED = 'Flag Rollout Rollback Failed',
  /** Every phase passed: the treatment is served to everyone the rollout's rule reaches. */
  COMPLETED = 'Flag Rollout Completed',
  /**
   * The execution guard failed to restore the flag after a rollout execution ended holding the flag's lock
   * (StopExecution, a timeout); it keeps trying (`GuardedFlagRollout.guardGaveUpAlarm` fires when it gives up). The
   * flag may serve the treatment to a share of users meanwhile. When the guard succeeds it sends ROLLBACK_TRIGGERED and
   * ROLLED_BACK with the trigger `execution-ended`.
   */
  GUARD_FAILED = 'Flag Rollout Guard Failed',
}
