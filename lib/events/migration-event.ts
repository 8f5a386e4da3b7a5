/** `detail-type` of the schema migration events on EventBridge (source `cdk-zero-downtime`). */
export enum MigrationEvent {
  /** The expand phase ran: the new version's schema exists beside the old one. */
  STARTED = 'Migration Started',
  /** Every existing row has been backfilled. */
  BACKFILLED = 'Migration Backfilled',
  /** Validation passed; the migration waits at its gate for the application rollout. */
  WAITING_FOR_ROLLOUT = 'Migration Waiting For Rollout',
  /** The contract phase ran: the old version's schema is gone. */
  COMPLETED = 'Migration Completed',
  /** A failure before the gate rolled the migration back. */
  ROLLED_BACK = 'Migration Rolled Back',
  /** The migration failed and could not be rolled back by the state machine. */
  FAILED = 'Migration Failed',
}
