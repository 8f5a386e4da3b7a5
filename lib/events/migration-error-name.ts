/** Error names of the migration handler and of a failed migration execution (the Step Functions execution's `error`). */
export enum MigrationErrorName {
  /** The migration definition is malformed or does not match the database (names the operation and field). */
  INVALID = 'ZdtMigrationInvalid',
  /** Another migration is active on the schema, or another engine action holds the migration lock. */
  IN_PROGRESS = 'ZdtMigrationInProgress',
  /** The action does not fit the migration's lifecycle state (e.g. complete before validate). */
  WRONG_STATE = 'ZdtMigrationWrongState',
  /** Validation after backfill found differences (row counts, checksums, constraints, indexes). */
  VALIDATION_FAILED = 'ZdtMigrationValidationFailed',
  /** The plan has high-risk (data-dropping) steps and the caller did not acknowledge them. */
  ACKNOWLEDGEMENT_REQUIRED = 'ZdtMigrationAcknowledgementRequired',
  /** A DDL statement could not get its lock within lock_timeout after every retry. Safe to retry later. */
  LOCK_TIMEOUT = 'ZdtMigrationLockTimeout',
  /**
   * An operator cancelled the running action: `zdt migrate cancel`, or the migration Lambda's `cancel` action (an
   * execution's start or backfill that ends with it fails without rolling back; resume it or roll it back).
   */
  CANCELLED = 'ZdtMigrationCancelled',
  /** A release plan answered the gate with a rollback (its traffic rollout rolled back): the migration is rolled back. */
  ROLLBACK_REQUESTED = 'ZdtMigrationRollbackRequested',
}
