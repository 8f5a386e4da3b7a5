/** How an RDS Blue/Green switchover is approved. */
export enum SwitchoverApproval {
  /** Switch over at once after the preflight. */
  NONE = 'none',
  /** Wait for an operator: the execution puts its task token on EventBridge and waits for SendTaskSuccess. */
  MANUAL = 'manual',
}
