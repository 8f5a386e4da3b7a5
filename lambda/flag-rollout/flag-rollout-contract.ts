/**
 * What the GuardedFlagRollout construct (lib/flags/guarded-flag-rollout.ts) shares with its handler
 * (lambda/flag-rollout/flag-rollout-handler.ts): the handler's configuration, the phases the state machine carries,
 * the requests and results of each action, and the event and error names; and what its execution guard
 * (lambda/flag-rollout/flag-guard-handler.ts) is configured with. Types and constants only.
 */

import type { LockConfig } from '../shared/contracts';

/** One phase of a flag rollout, as the state machine carries it (rendered by lib/flags/flag-rollout-plan.ts). */
export interface FlagPhase {
  /** 1-based, for people. */
  readonly number: number;
  /** Name for people (`canary`, `early adopters`, `beta`...). */
  readonly name: string;
  /**
   * Share of users (0-100, basis points) that get the treatment in this phase. Exactly one of `percent` and
   * `segments` is set.
   */
  readonly percent?: number;
  /** Segments that get the treatment in this phase (cumulative: the earlier phases' segments are included). */
  readonly segments?: readonly string[];
  /** How long the phase is judged (its bake), seconds; 0: not judged (preparation, or the final 100%). */
  readonly durationSeconds: number;
  /** Seconds between two judgements of this phase. */
  readonly intervalSeconds: number;
  /** Judge this phase's treatment against its control (false when one of them has no users). */
  readonly judge: boolean;
  /** Wait for an operator (promote / abort) once the phase has passed. */
  readonly pause: boolean;
}

/** Metric names and dimensions the application emits per flag and variant (lambda/flags/variant-metrics.ts). */
export const VariantMetric = {
  REQUESTS: 'Requests',
  ERRORS: 'Errors',
  LATENCY: 'Latency',
} as const;
export const VariantDimension = {
  SERVICE: 'Service',
  FLAG: 'Flag',
  VARIANT: 'Variant',
} as const;
/** Namespace of the variant metrics when the application sets none. */
export const DEFAULT_VARIANT_NAMESPACE = 'ZdtFlagVariants';

/** The sequential judge's settings for a flag rollout (rendered at synth). */
export interface VariantAnalysisConfig {
  /** CloudWatch namespace of the variant metrics. */
  readonly namespace: string;
  /** Value of the Service dimension. */
  readonly service: string;
  /** Treatment's errors-per-request at this many times the control's, or more, is a regression (> 1). */
  readonly errorRateFactor: number;
  /** Treatment's p99 at this many times the control's, or more, is a regression (absent: latency not judged). */
  readonly latencyFactor?: number;
  /** Share of the false-rollback budget each test of each judged phase spends (decides at ln(1/alpha)). */
  readonly alphaPerTest: number;
  /** Requests the treatment must serve in a phase for its pass to count (below: INCONCLUSIVE at the phase's end). */
  readonly minRequests: number;
  /** Requests the treatment must serve before its p99 is compared. */
  readonly latencyMinRequests: number;
  /** A judgement reads whole minutes that ended at least this long ago, seconds. */
  readonly metricDelaySeconds: number;
  /** Time the application's instances take to read a newly deployed document, seconds (data before is not counted). */
  readonly propagationSeconds: number;
}

/** ZDT_CONFIG of the flag-rollout handler. */
export interface FlagRolloutConfig {
  readonly applicationId: string;
  readonly environmentId: string;
  readonly configurationProfileId: string;
  /** Name of the configuration profile (ListDeployments names a deployment's profile by name). */
  readonly configurationProfileName: string;
  /** Id of the immediate deployment strategy (no growth, no bake) the phases are deployed with. */
  readonly deploymentStrategyId: string;
  readonly flagKey: string;
  /** The variant being rolled out (`on` for a boolean flag). */
  readonly treatment: string;
  readonly analysis: VariantAnalysisConfig;
}

/**
 * CloudFormation Metadata key (and value) on the flag rollout's state machine: the rehearsal and the CLI tell it from
 * a traffic rollout's by it.
 */
export const STATE_MACHINE_KIND_METADATA_KEY = 'cdk-zero-downtime:state-machine';
export const FLAG_ROLLOUT_KIND = 'flag-rollout';

/** Name of the rule the rollout owns in the flag (inserted after the flag's own rules). */
export const GUARDED_RULE_NAME = 'zdt-guarded-rollout';

export type FlagRolloutRequest =
  /** Read the deployed document, check the flag, remember its definition. */
  | { readonly action: 'start' }
  /** Deploy the document with the phase's percentage / segments (idempotent). */
  | { readonly action: 'setPhase'; readonly phase: FlagPhase }
  /** Has the deployment finished? Throws DEPLOYMENT_IN_PROGRESS (retried) or DEPLOYMENT_ROLLED_BACK. */
  | { readonly action: 'checkDeployment'; readonly deployment: SetPhaseResult }
  /** Judge the phase so far. */
  | { readonly action: 'judge'; readonly phase: FlagPhase; readonly bake: PhaseBake; readonly start: StartResult }
  /** Put the flag's definition from `start` back (idempotent). */
  | { readonly action: 'rollback'; readonly original: StartResult };

export interface StartResult {
  readonly flagKey: string;
  /** The flag's definition when the rollout started, JSON. */
  readonly originalFlag: string;
  /** Hosted configuration version deployed when the rollout started. */
  readonly baseVersion: number;
  readonly treatment: string;
  readonly control: string;
}

export interface SetPhaseResult {
  /** False when the deployed document already had this phase (nothing written). */
  readonly changed: boolean;
  /** The deployment started (absent when nothing changed). */
  readonly deploymentNumber?: number;
  readonly versionNumber: number;
}

/** What the state machine carries through a phase's bake (in $.bake). */
export interface PhaseBake {
  /** When the phase's document was deployed (ISO 8601). */
  readonly startedAt: string;
  readonly evidence?: VariantEvidence;
}

/** The sufficient statistics of the phase so far. */
export interface VariantEvidence {
  /** End (epoch ms) of the last whole minute counted. */
  readonly throughMs: number;
  /** Per alternative of the mixture, the summed log-likelihood ratio of treatment's errors against control's. */
  readonly errorLlrs: readonly number[];
  readonly treatment: { readonly requests: number; readonly errors: number };
  readonly control: { readonly requests: number; readonly errors: number };
}

export type FlagVerdict = 'WAIT' | 'PASS' | 'FAIL' | 'INCONCLUSIVE';

export interface FlagJudgeResult {
  readonly verdict: FlagVerdict;
  readonly reasons: readonly string[];
  readonly bake: PhaseBake;
}

/** detail-type of the flag rollout events on EventBridge (source cdk-zero-downtime). */
export const FlagRolloutEvent = {
  STARTED: 'Flag Rollout Started',
  PHASE_COMPLETED: 'Flag Rollout Phase Completed',
  PAUSED: 'Flag Rollout Paused',
  ROLLBACK_TRIGGERED: 'Flag Rollout Rollback Triggered',
  ROLLED_BACK: 'Flag Rollout Rolled Back',
  ROLLBACK_FAILED: 'Flag Rollout Rollback Failed',
  COMPLETED: 'Flag Rollout Completed',
  /**
   * The flag rollout's execution guard could not restore the flag after an execution ended holding the flag's lock
   * (an attempt failed; it is retried): the flag may still serve the treatment to a share of users.
   */
  GUARD_FAILED: 'Flag Rollout Guard Failed',
} as const;
export type FlagRolloutEventType = (typeof FlagRolloutEvent)[keyof typeof FlagRolloutEvent];

/**
 * `trigger.kind` of a flag rollout whose phase document AppConfig refused (its configuration profile's validators,
 * or a feature-flags profile's type check): the flag is put back as it was before the rollout (untouched when it
 * was the first phase).
 */
export const FLAG_VALIDATION_FAILED_TRIGGER = 'validation-failed';


/**
 * What a flag rollout records on its lock's item once it has read the flag (the state machine's "Record Flag Before
 * Rollout", a DynamoDB UpdateItem on condition that the execution holds the lock): the execution, and its StartResult's
 * fields, each an attribute (no JSON inside JSON). The guard restores the flag from them when that execution ends
 * holding the lock; a record of another execution is ignored (a renewal of the lock keeps it; the next rollout
 * overwrites it).
 */
export const FlagRolloutRecord = {
  /** The execution that wrote the record (ARN). */
  OWNER: 'flagRolloutOwner',
  /** StartResult.originalFlag: the flag's definition before the rollout, JSON. */
  ORIGINAL_FLAG: 'flagRolloutOriginalFlag',
  /** StartResult.baseVersion (N). */
  BASE_VERSION: 'flagRolloutBaseVersion',
  /** StartResult.control. */
  CONTROL: 'flagRolloutControl',
} as const;

/** ZDT_CONFIG of the flag rollout's execution guard (lambda/flag-rollout/flag-guard-handler.ts). */
export interface FlagGuardConfig {
  /** The flag rollout handler's configuration: the guard restores the flag with the same code. */
  readonly flagRollout: FlagRolloutConfig;
  /** The flag's lock (lambda/rollout/lock.ts, the flag's item as its "service"). */
  readonly lock: LockConfig;
  /** The rollout's serviceName (`detail.service` of its events, Service dimension of GuardFailures). */
  readonly service: string;
  /** Event bus of the rollout's events (absent: the default bus). */
  readonly eventBusName?: string;
}

/** What the flag guard did about an execution that ended. */
export interface FlagGuardResult {
  readonly executionArn: string;
  readonly status: string;
  /**
   * 'restored': the execution held the flag's lock; the flag is back to its definition before the rollout
   * (deployed, or it had not changed yet) and the lock is released. 'none': the execution had cleaned up.
   */
  readonly action: 'restored' | 'none';
  /** Whether the guard deployed the flag's previous definition (false: the flag already was, or was never changed). */
  readonly flagChanged?: boolean;
  /** The hosted configuration version the environment serves afterwards. */
  readonly versionNumber?: number;
  readonly reason: string;
}

/** Error names of the flag-rollout handler and of a failed flag rollout execution. */
export const FlagRolloutErrorName = {
  /** The flag, its variant or the deployed document does not allow the rollout (names what is wrong). */
  INVALID: 'ZdtFlagRolloutInvalid',
  /** AppConfig is deploying to the environment (one deployment at a time): retried. */
  DEPLOYMENT_CONFLICT: 'ZdtFlagDeploymentConflict',
  /** The phase's deployment has not finished yet: retried. */
  DEPLOYMENT_IN_PROGRESS: 'ZdtFlagDeploymentInProgress',
  /**
   * AppConfig refused the phase's document: the profile's validators at StartDeployment, or a feature-flags
   * profile's type check at CreateHostedConfigurationVersion (BadRequestException). The rollout rolls back.
   */
  VALIDATION_FAILED: 'ZdtFlagValidationFailed',
  /** AppConfig rolled the phase's deployment back (one of the environment's alarms). */
  DEPLOYMENT_ROLLED_BACK: 'ZdtFlagDeploymentRolledBack',
  /** Error of an execution that rolled the flag back to its definition before the rollout. */
  ROLLED_BACK: 'ZdtFlagRolledBack',
  /** Error of an execution whose rollback could not deploy the flag's previous definition. */
  ROLLBACK_FAILED: 'ZdtFlagRollbackFailed',
} as const;
export type FlagRolloutErrorNameType = (typeof FlagRolloutErrorName)[keyof typeof FlagRolloutErrorName];
