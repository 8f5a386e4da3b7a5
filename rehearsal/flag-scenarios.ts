/**
 * Named rehearsals of a guarded flag rollout (GuardedFlagRollout): how the users served each variant behave, and
 * what should happen. `zdt rehearse --scenario <name>` runs them like the traffic scenarios (rehearsal/scenarios.ts).
 */
import type { BehaviourProfile } from './traffic-model';
import { namedEntry } from './scenario-registry';

export type FlagRolloutOutcome = 'COMPLETED' | 'ROLLED_BACK' | 'ROLLBACK_FAILED' | 'REFUSED' | 'FAILED';

export interface FlagScenario {
  readonly name: string;
  /** One line for a person. */
  readonly description: string;
  /** @default 50 */
  readonly requestsPerSecond?: number;
  /**
   * Behaviour of the users the treatment is served to, as a traffic scenario's color (rehearsal/flag-traffic.ts: a
   * regression's window counts from the rollout's start, its minWeightPercent is the treatment's share of the users).
   * @default 0.2% errors, p50 40 ms, p99 180 ms
   */
  readonly treatment?: BehaviourProfile;
  /** Behaviour of the users the control is served to. @default as the treatment's default */
  readonly control?: BehaviourProfile;
  /** Another execution (this ARN) holds the flag's lock when the rollout starts, for a day more. @default - nobody */
  readonly lockHeldBy?: string;
  /**
   * The operator runs `zdt abort` while this phase (its number) is judged: the abort flag on the flag's lock item,
   * read before the phase's next judgement. @default - no abort
   */
  readonly abortInPhase?: number;
  readonly expect: { readonly outcome: FlagRolloutOutcome; readonly trigger?: string };
}

export const FLAG_SCENARIOS: Readonly<Record<string, FlagScenario>> = Object.fromEntries([
  namedEntry({
    name: 'flag-rollout-healthy',
    description: 'The treatment behaves like the control: every phase of the plan passes (days of phases in seconds) and the flag ends at 100%.',
    expect: { outcome: 'COMPLETED' },
  }),
  namedEntry({
    name: 'flag-rollout-regression',
    description: 'Users served the treatment see 3% errors against 0.2% for the control: the first judged phase fails and the flag is rolled back to its previous definition.',
    treatment: { regressions: [{ errorRatePercent: 3 }] },
    expect: { outcome: 'ROLLED_BACK', trigger: 'judge-fail' },
  }),
  namedEntry({
    name: 'flag-rollout-aborted',
    description: 'The operator runs `zdt abort` during the canary (the abort flag on the flag\'s lock item): its next judgement rolls the flag back.',
    abortInPhase: 2,
    expect: { outcome: 'ROLLED_BACK', trigger: 'aborted' },
  }),
  namedEntry({
    name: 'flag-rollout-locked',
    description: 'Another rollout of the same flag is running (its execution holds the flag\'s lock): this one is refused, naming it, and the flag is untouched.',
    lockHeldBy: 'arn:aws:states:us-east-1:111111111111:execution:OtherFlagRollout:first',
    expect: { outcome: 'REFUSED' },
  }),
]);

/** True when `name` is a flag rollout scenario. */
export function isFlagScenario(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(FLAG_SCENARIOS, name);
}
