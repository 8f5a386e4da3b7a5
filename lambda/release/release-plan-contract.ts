/**
 * The release plan's wire contract (lib/release/release-plan.ts builds the state machine, bin/commands/plan.ts and
 * the status command read it): its event names, its execution's error names, and the plan document the construct
 * writes into the template (CloudFormation Metadata of the state machine); each execution's state holds the parts'
 * state machines at $.release (ReleasePlanParts).
 */

/** `detail-type` of a release plan's events on EventBridge (source cdk-zero-downtime). */
export const ReleasePlanEvent = {
  /** The plan started: the migration's execution is being started. */
  STARTED: 'Release Started',
  /** The migration is expanded, backfilled and validated, and waits at its gate: the traffic rollout starts. */
  MIGRATION_READY: 'Release Migration Ready',
  /** The traffic rollout completed: the new version carries all traffic. */
  TRAFFIC_COMPLETED: 'Release Traffic Completed',
  /** A flag rollout completed. */
  FLAG_COMPLETED: 'Release Flag Completed',
  /** Every part passed; the plan waits for an operator before the contract (detail.taskToken answers it). */
  WAITING_FOR_APPROVAL: 'Release Waiting For Approval',
  /** The plan rolls back earlier parts (the detail names the part that failed and, in `rollingBack`, what is rolled back). */
  ROLLBACK_TRIGGERED: 'Release Rollback Triggered',
  /** The traffic rolled back and the migration with it: nothing of the release remains. */
  ROLLED_BACK: 'Release Rolled Back',
  /**
   * A part failed where undoing the earlier parts is not safe (a flag rolled back while the new version carries
   * traffic, an abort before the contract): the traffic stays, the migration stays expanded at its gate, not completed.
   * After a flag's failure the flags that completed earlier in the plan are restored first (FLAG_ROLLED_BACK; detail
   * `flagsRestored: true`), unless the plan keeps them.
   */
  HALTED: 'Release Halted',
  /** A rollback did not end in a known state (the traffic's or the migration's): page someone. */
  ROLLBACK_FAILED: 'Release Rollback Failed',
  /** The migration failed before any traffic moved (it rolled itself back), or its contract failed. */
  FAILED: 'Release Failed',
  /** Traffic, flags and the migration's contract all done. */
  COMPLETED: 'Release Completed',
  /**
   * A later flag rollout of the plan failed, and this flag, whose rollout had completed earlier in the plan, is back
   * to its definition before the plan (deployed): the detail's `flag` and `flagRollout` name it. Flags are restored
   * latest first, then the plan halts (ReleasePlan `keepCompletedFlags` leaves them rolled out instead).
   */
  FLAG_ROLLED_BACK: 'Release Flag Rolled Back',
} as const;
export type ReleasePlanEventType = (typeof ReleasePlanEvent)[keyof typeof ReleasePlanEvent];

/** Error names of a failed release plan execution (the Step Functions execution's `error`). */
export const ReleasePlanErrorName = {
  /** The traffic rollout rolled back (verified) and the migration was rolled back after it. */
  ROLLED_BACK: 'ZdtReleaseRolledBack',
  /** A part failed after the traffic moved: the traffic stays, the migration stays expanded (see ReleasePlanEvent.HALTED). */
  HALTED: 'ZdtReleaseHalted',
  /** The traffic rollout's own rollback failed, or the migration's rollback did not end rolled back. */
  ROLLBACK_FAILED: 'ZdtReleaseRollbackFailed',
  /** The migration failed before the traffic rollout (it rolled itself back), or its contract failed. */
  FAILED: 'ZdtReleaseFailed',
} as const;

/** CloudFormation Metadata key of the plan document on the release plan's state machine (read by `zdt plan`). */
export const RELEASE_PLAN_METADATA_KEY = 'cdk-zero-downtime:release-plan';
/** Value of STATE_MACHINE_KIND_METADATA_KEY on a release plan's state machine. */
export const RELEASE_PLAN_KIND = 'release-plan';

/** One step of a release plan, in order. */
export interface ReleasePlanStep {
  readonly number: number;
  /** 'migration' | 'traffic' | 'flag' | 'gate' */
  readonly part: string;
  /** What the step does, for a person. */
  readonly action: string;
  /** Construct path of the part it runs. */
  readonly construct?: string;
  /** The part's own plan, a line each (the traffic rollout's steps, the flag rollout's phases). */
  readonly details?: readonly string[];
  /** What the step waits for before the next one starts. */
  readonly waitsFor: string;
  /** What the plan does when this step fails. */
  readonly onFailure: string;
}

/** The plan document: what `zdt plan` prints (from the template's Metadata). */
export interface ReleasePlanDocument {
  readonly kind: typeof RELEASE_PLAN_KIND;
  /** Construct path of the ReleasePlan. */
  readonly path: string;
  readonly steps: readonly ReleasePlanStep[];
  /** The rollback story, one sentence a line. */
  readonly rollback: readonly string[];
}

/** What an execution's state holds at $.release: the state machines of its parts (for `zdt status`). */
export interface ReleasePlanParts {
  readonly kind: typeof RELEASE_PLAN_KIND;
  readonly migrationStateMachine: string;
  readonly trafficStateMachine: string;
  readonly flagStateMachines: readonly { readonly flagKey: string; readonly stateMachine: string }[];
}

/** The plan for a person: steps, then the rollback story. */
export function describePlan(document: ReleasePlanDocument): string[] {
  const lines = [`Release plan ${document.path}`];
  for (const s of document.steps) {
    lines.push(`${s.number}. [${s.part}] ${s.action}${s.construct ? ` (${s.construct})` : ''}`);
    for (const d of s.details ?? []) lines.push(`     ${d}`);
    lines.push(`   waits for: ${s.waitsFor}`);
    if (s.onFailure !== '-') lines.push(`   on failure: ${s.onFailure}`);
  }
  lines.push('Rollback:');
  for (const r of document.rollback) lines.push(`  - ${r}`);
  return lines;
}
