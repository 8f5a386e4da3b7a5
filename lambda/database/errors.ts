/**
 * Named errors of the migration engine. Like ZdtError (lambda/shared/errors.ts), `name` is what Step Functions
 * retries and catches on; the engine also throws ZdtError(ErrorName.RETRYABLE) and ZdtError(ErrorName.INVALID_REQUEST).
 */
import { NamedError } from '../shared/errors';

export const MigrationErrorName = {
  /** The migration definition is malformed or does not match the database (names the operation and field). */
  INVALID: 'ZdtMigrationInvalid',
  /** Another migration is active on the schema, or another engine action holds the migration lock. */
  IN_PROGRESS: 'ZdtMigrationInProgress',
  /** The action does not fit the migration's lifecycle state (e.g. complete before validate). */
  WRONG_STATE: 'ZdtMigrationWrongState',
  /** Validation after backfill found differences (row counts, checksums, constraints, indexes). */
  VALIDATION_FAILED: 'ZdtMigrationValidationFailed',
  /** The plan has high-risk (data-dropping) steps and the caller did not acknowledge them. */
  ACKNOWLEDGEMENT_REQUIRED: 'ZdtMigrationAcknowledgementRequired',
  /** A DDL statement could not get its lock within lock_timeout after every retry. Safe to retry later. */
  LOCK_TIMEOUT: 'ZdtMigrationLockTimeout',
  /** The action was stopped by a cancel request (migrate cancel); what it committed stays, so it can be resumed or rolled back. */
  CANCELLED: 'ZdtMigrationCancelled',
  /**
   * The gate was answered with a rollback (the migration handler's rejectGate, sent by a ReleasePlan whose traffic
   * rollout rolled back: the application version that needed the expand carries no traffic): the execution rolls
   * the migration back.
   */
  ROLLBACK_REQUESTED: 'ZdtMigrationRollbackRequested',
} as const;
export type MigrationErrorNameType = (typeof MigrationErrorName)[keyof typeof MigrationErrorName];

export class MigrationError extends NamedError<MigrationErrorNameType> {}
