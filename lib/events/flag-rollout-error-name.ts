/** Error names of a failed guarded flag rollout execution (the Step Functions execution's `error`) and of its handler. */
export enum FlagRolloutErrorName {
  /** The flag, its variant or the deployed document does not allow the rollout (the cause names what is wrong). */
  INVALID = 'ZdtFlagRolloutInvalid',
  /** AppConfig was deploying to the environment (one deployment at a time); retried until the retries ran out. */
  DEPLOYMENT_CONFLICT = 'ZdtFlagDeploymentConflict',
  /** A phase's deployment had not finished within the polls the state machine allows. */
  DEPLOYMENT_IN_PROGRESS = 'ZdtFlagDeploymentInProgress',
  /**
   * AppConfig refused a phase's flags document (the configuration profile's validators at StartDeployment, or a
   * feature-flags profile's type check): the flag is rolled back (trigger `validation-failed`).
   */
  VALIDATION_FAILED = 'ZdtFlagValidationFailed',
  /** AppConfig rolled a phase's deployment back (one of the environment's alarms). */
  DEPLOYMENT_ROLLED_BACK = 'ZdtFlagDeploymentRolledBack',
  /** Error of an execution that rolled the flag back to its definition before the rollout. */
  ROLLED_BACK = 'ZdtFlagRolledBack',
  /** Error of an execution whose rollback could not deploy the flag's previous definition. */
  ROLLBACK_FAILED = 'ZdtFlagRollbackFailed',
}
