/** What the blue database of an RDS Blue/Green switchover is. */
export enum DatabaseSourceKind {
  /** An RDS DB instance (`arn:...:rds:...:db:<name>`). */
  INSTANCE = 'instance',
  /** An Aurora DB cluster (`arn:...:rds:...:cluster:<name>`). */
  CLUSTER = 'cluster',
}
