/** What a rollout does once the stable color has been degraded for longer than `baselineHoldTimeout`. */
export enum BaselineDegradedAction {
  /** Wait for an operator (`zdt promote` completes the step, `zdt abort` rolls back), up to `pauseTimeout`. */
  PAUSE = 'PAUSE',
  /** Roll back to the stable color anyway (it is degraded, but it is the release you know). */
  ROLLBACK = 'ROLLBACK',
}
