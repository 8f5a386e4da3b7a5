/**
 * What a rehearsal produces: the contract between the simulation (deployer, traffic model, scenarios, rehearse())
 * and the presentation (terminal timeline, summary, chart, CLI, benchmark). Times are virtual milliseconds since
 * the rollout started (the state machine's first state).
 */
import type { Color, Verdict, Weights } from '../lambda/shared/contracts';

export type TimelineKind =
  /** The state machine entered a state. */
  | 'state'
  /** The live rule's weights (or the segment route) changed. */
  | 'weights'
  /** The judge returned a verdict. */
  | 'verdict'
  /** An alarm changed state. */
  | 'alarm'
  /** A rollout event reached EventBridge / SNS. */
  | 'event'
  /** An injected fault fired (throttling, API error...). */
  | 'fault'
  /** The traffic model changed (the regression started) or the operator acted. */
  | 'note';

export interface TimelineEntry {
  readonly atMs: number;
  readonly kind: TimelineKind;
  /** One line for a person. */
  readonly text: string;
  readonly state?: string;
  readonly weights?: Weights;
  readonly verdict?: Verdict;
}

/** One sample of the simulated service, per simulated second-resolution bucket (the traffic model's step). */
export interface SeriesPoint {
  readonly atMs: number;
  readonly weights: Weights;
  readonly requests: Record<Color, number>;
  readonly errors: Record<Color, number>;
  /** Percent of the color's requests that failed in this bucket, null without requests. */
  readonly errorRatePercent: Record<Color, number | null>;
  readonly latencyP99Ms: Record<Color, number | null>;
}

export type RehearsalOutcome =
  /** The new color carries 100% and is recorded live. */
  | 'RELEASED'
  /** Traffic restored to 100% stable, verified; the execution failed with ZdtRolledBack. */
  | 'ROLLED_BACK'
  /** Preflight refused before any weight moved (lock held, unhealthy targets, missing alarm, already live...). */
  | 'REFUSED'
  /** The rollback itself could not restore traffic. */
  | 'ROLLBACK_FAILED'
  /** Anything else (a bug: the rehearsal says so). */
  | 'FAILED';

export interface RolloutEventRecord {
  readonly atMs: number;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

export interface RehearsalSummary {
  readonly scenario: string;
  readonly strategy: string;
  readonly outcome: RehearsalOutcome;
  /** Step Functions execution status, error and cause as the state machine ended. */
  readonly executionStatus: string;
  readonly error?: string;
  readonly cause?: string;
  readonly durationMs: number;
  /** When the simulated regression began (absent in healthy scenarios). */
  readonly regressionStartedAtMs?: number;
  /** When the rollout decided to roll back (the trigger state was entered). */
  readonly detectedAtMs?: number;
  /** When 100% stable was written and read back. */
  readonly safeAtMs?: number;
  readonly timeToDetectMs?: number;
  readonly timeToSafeMs?: number;
  /** Requests that failed because of the regression (new color errors above its healthy baseline): the blast radius. */
  readonly failedRequests: number;
  readonly totalRequests: number;
  readonly finalWeights: Weights;
  readonly liveColor: Color | null;
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  /** Standard workflow transitions x price + Lambda requests and GB-seconds (prices stated in rehearsal/cost.ts). */
  readonly estimatedCostUsd: number;
  readonly events: readonly RolloutEventRecord[];
}

export interface RehearsalResult {
  readonly summary: RehearsalSummary;
  readonly timeline: readonly TimelineEntry[];
  readonly series: readonly SeriesPoint[];
}
