/** `detail-type` of the RDS Blue/Green switchover events on EventBridge (source `cdk-zero-downtime`). */
export enum BlueGreenEvent {
  /** The green environment is ready and checked; the execution waits for an operator (task token in the detail). */
  AWAITING_APPROVAL = 'Database Switchover Awaiting Approval',
  /** Production runs on the green environment. */
  COMPLETED = 'Database Switchover Completed',
  /** The switchover failed; the blue environment is untouched (RDS rolls a timed-out switchover back itself). */
  FAILED = 'Database Switchover Failed',
  /** The switchover completed (Completed went out) but deleting the deployment (or the old instances) failed. */
  CLEANUP_FAILED = 'Database Switchover Cleanup Failed',
}
