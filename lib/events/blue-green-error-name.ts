/** Error names of the RDS Blue/Green handler and of a failed switchover execution (the Step Functions execution's `error`). */
export enum BlueGreenErrorName {
  /** The deployment cannot be switched over: INVALID_CONFIGURATION, PROVISIONING_FAILED, or a state that does not fit the step. */
  INVALID_STATE = 'ZdtBlueGreenInvalidState',
  /**
   * Preflight: green is not ready yet (a member not AVAILABLE, replica lag above the limit or unknown). Cleanup: the
   * deployment's deletion has not finished, so its old instance cannot be deleted yet. Retried.
   */
  NOT_READY = 'ZdtBlueGreenNotReady',
  /** The switchover did not complete: RDS rolled it back (SWITCHOVER_FAILED, or back to AVAILABLE). Blue is untouched. */
  SWITCHOVER_FAILED = 'ZdtBlueGreenSwitchoverFailed',
  /** The deployment did not reach the awaited status within the polls the state machine allows. */
  TIMED_OUT = 'ZdtBlueGreenTimedOut',
  /** The deployment the request names does not exist. */
  NOT_FOUND = 'ZdtBlueGreenNotFound',
}
