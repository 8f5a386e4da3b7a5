/**
 * Contract between the BlueGreenDatabase construct (lib/database) and the blue/green Lambda
 * (lambda/database/blue-green-handler.ts): its ZDT_CONFIG, the requests its state machine sends and what they return.
 * Types and constants only.
 */

/** detail-type of the database switchover events (EventBridge, source EVENT_SOURCE). */
export const BlueGreenEvent = {
  /** The green environment is ready and checked; the execution waits for an operator (task token in the detail). */
  AWAITING_APPROVAL: 'Database Switchover Awaiting Approval',
  COMPLETED: 'Database Switchover Completed',
  FAILED: 'Database Switchover Failed',
  /** The switchover completed (Completed went out) but deleting the deployment (or the old instances) failed. */
  CLEANUP_FAILED: 'Database Switchover Cleanup Failed',
} as const;
export type BlueGreenEventType = (typeof BlueGreenEvent)[keyof typeof BlueGreenEvent];

/**
 * Error names of the blue/green handler (Error.name), caught and retried by the state machine. The handler also throws
 * ZdtError(ErrorName.RETRYABLE) and ZdtError(ErrorName.INVALID_REQUEST).
 */
export const BlueGreenErrorName = {
  /** The deployment cannot be switched over: INVALID_CONFIGURATION, PROVISIONING_FAILED, or a state that does not fit the step. */
  INVALID_STATE: 'ZdtBlueGreenInvalidState',
  /**
   * Preflight: green is not ready yet (a member not AVAILABLE, replica lag above the limit or unknown). Cleanup: the
   * deployment's deletion has not finished, so its old instance cannot be deleted yet. Retried.
   */
  NOT_READY: 'ZdtBlueGreenNotReady',
  /** The switchover did not complete: RDS rolled it back (SWITCHOVER_FAILED, or back to AVAILABLE). Blue is untouched. */
  SWITCHOVER_FAILED: 'ZdtBlueGreenSwitchoverFailed',
  /** The deployment did not reach the awaited status within the polls the state machine allows. */
  TIMED_OUT: 'ZdtBlueGreenTimedOut',
  /** The deployment the request names does not exist. */
  NOT_FOUND: 'ZdtBlueGreenNotFound',
} as const;
export type BlueGreenErrorNameType = (typeof BlueGreenErrorName)[keyof typeof BlueGreenErrorName];

/** Statuses of a blue/green deployment (DescribeBlueGreenDeployments Status). */
export const DeploymentStatus = {
  PROVISIONING: 'PROVISIONING',
  AVAILABLE: 'AVAILABLE',
  SWITCHOVER_IN_PROGRESS: 'SWITCHOVER_IN_PROGRESS',
  SWITCHOVER_COMPLETED: 'SWITCHOVER_COMPLETED',
  INVALID_CONFIGURATION: 'INVALID_CONFIGURATION',
  SWITCHOVER_FAILED: 'SWITCHOVER_FAILED',
  PROVISIONING_FAILED: 'PROVISIONING_FAILED',
  DELETING: 'DELETING',
} as const;

/** Statuses of one member pair (SwitchoverDetails Status). */
export const MemberStatus = {
  PROVISIONING: 'PROVISIONING',
  AVAILABLE: 'AVAILABLE',
  SWITCHOVER_IN_PROGRESS: 'SWITCHOVER_IN_PROGRESS',
  SWITCHOVER_COMPLETED: 'SWITCHOVER_COMPLETED',
  SWITCHOVER_FAILED: 'SWITCHOVER_FAILED',
  MISSING_SOURCE: 'MISSING_SOURCE',
  MISSING_TARGET: 'MISSING_TARGET',
} as const;

/** RDS accepts a switchover timeout from 30 s to one hour; it defaults to 300 s. */
export const MIN_SWITCHOVER_TIMEOUT_SECONDS = 30;
export const MAX_SWITCHOVER_TIMEOUT_SECONDS = 3600;
export const DEFAULT_SWITCHOVER_TIMEOUT_SECONDS = 300;

/** What the source is: an RDS DB instance (`:db:` ARN) or an Aurora DB cluster (`:cluster:` ARN). */
export type SourceKind = 'instance' | 'cluster';

/** The replica-lag check of the preflight, from a CloudWatch metric of namespace AWS/RDS. */
export interface ReplicaLagCheck {
  /** ReplicaLag (RDS instances, dimension DBInstanceIdentifier) or AuroraBinlogReplicaLag (Aurora, DBClusterIdentifier). */
  readonly metricName: string;
  readonly dimensionName: 'DBInstanceIdentifier' | 'DBClusterIdentifier';
  /** Most lag, seconds, that the green environment may have (Maximum over the window). */
  readonly maxSeconds: number;
  /** Window read back from now, seconds. */
  readonly windowSeconds: number;
}

/** ZDT_CONFIG of the blue/green Lambda. */
export interface BlueGreenHandlerConfig {
  /** ARN of the blue DB instance or cluster. */
  readonly sourceArn: string;
  readonly sourceKind: SourceKind;
  /** BlueGreenDeploymentName: create reuses a deployment of this name and source. */
  readonly deploymentName: string;
  readonly targetEngineVersion?: string;
  /** TargetDBParameterGroupName (instances, and the instances of a cluster). */
  readonly targetDBParameterGroupName?: string;
  /** TargetDBClusterParameterGroupName (clusters). */
  readonly targetDBClusterParameterGroupName?: string;
  /** SwitchoverTimeout, seconds (30-3600). */
  readonly switchoverTimeoutSeconds: number;
  /** Absent: no replica-lag check (RDS's own guardrail still applies). */
  readonly replicaLag?: ReplicaLagCheck;
  /** After a completed switchover, delete the old (blue) DB instances, with a final snapshot. */
  readonly deleteOldAfter: boolean;
}

/** Which status a poll waits for: the green environment provisioned, or the switchover ended. */
export type AwaitedPhase = 'provisioned' | 'switched';

export type BlueGreenRequest =
  /** Creates the deployment, or reuses the one of the same name and source. */
  | { readonly action: 'create' }
  /**
   * Reads the deployment. `waiting` is true while it is PROVISIONING (phase provisioned) or SWITCHOVER_IN_PROGRESS
   * (phase switched). `polls` counts the polls so far; at `maxPolls` a still waiting deployment fails with TIMED_OUT.
   */
  | { readonly action: 'status'; readonly deploymentId: string; readonly phase: AwaitedPhase; readonly polls?: number; readonly maxPolls?: number }
  /** Fails with NOT_READY unless the deployment and every member are AVAILABLE and the replica lag is within limits. */
  | { readonly action: 'preflight'; readonly deploymentId: string }
  /** SwitchoverBlueGreenDeployment with the configured timeout. */
  | { readonly action: 'switchover'; readonly deploymentId: string }
  /** Fails with SWITCHOVER_FAILED unless the deployment and every member are SWITCHOVER_COMPLETED. */
  | { readonly action: 'verify'; readonly deploymentId: string }
  /**
   * DeleteBlueGreenDeployment (keeping both environments), then the old primary instance when deleteOldAfter: while
   * RDS still shows the deployment (DELETING), that fails with NOT_READY and a later attempt deletes the instance.
   * `members`: the switched-over members as verify saw them, so that a retried cleanup still knows the old instance
   * after its first attempt deleted the deployment.
   */
  | { readonly action: 'cleanup'; readonly deploymentId: string; readonly members?: readonly BlueGreenMember[] };

export interface BlueGreenMember {
  readonly source: string;
  readonly target: string;
  readonly status: string;
}

export interface BlueGreenDeploymentView {
  readonly deploymentId: string;
  readonly name: string;
  readonly source: string;
  readonly target: string;
  readonly status: string;
  readonly statusDetails?: string;
  readonly members: readonly BlueGreenMember[];
}

export interface BlueGreenCreateResult extends BlueGreenDeploymentView {
  /** False when an existing deployment of the same name and source was reused. */
  readonly created: boolean;
}

export interface BlueGreenStatusResult extends BlueGreenDeploymentView {
  readonly waiting: boolean;
  /** Polls so far, this one included. */
  readonly polls: number;
}

export interface BlueGreenPreflightResult extends BlueGreenDeploymentView {
  /** Highest replica lag in the window, seconds, when the check is configured. */
  readonly replicaLagSeconds?: number;
}

export interface BlueGreenCleanupResult {
  readonly deploymentId: string;
  /** RDS still showed the deployment to this attempt, which deleted it (or found it being deleted). */
  readonly deleted: boolean;
  /** Identifiers of the old DB instances deleted (deleteOldAfter), with their final snapshots. */
  readonly deletedOld: readonly { readonly identifier: string; readonly finalSnapshot: string }[];
}
