/**
 * Named rehearsal scenarios: each one a traffic model, the behaviour of the stable and the released color, faults,
 * operator actions and what should happen. `SCENARIOS` is what the CLI's `--scenario <name>` and the tests run.
 *
 * Roles, not colors: `stable` is the color that carries production traffic when the rollout starts, `release`
 * the color being rolled out (input.targetColor, or the other one).
 */
import { Duration } from 'aws-cdk-lib';
import { ErrorName, HANDLER_METADATA_KEY, RolloutInput } from '../lambda/shared/contracts';
import { RolloutStrategy } from '../lib/rollout/rollout-strategy';
import type { StackTemplate } from './deployer';
import type { FaultSpec, TargetHealthCounts } from './fakes';
import type { RehearsalOutcome } from './result';
import type { Role, SimulationWorld } from './simulation-world';
import type { ProbeAnswer, SimulatedDatabase } from './simulation-probes';
import type { SimulatedTestSuite } from './fakes/codebuild';
import type { BehaviourProfile, RequestRate } from './traffic-model';
import { namedEntry, scenarioIn } from './scenario-registry';

export type { Role } from './simulation-world';

export interface ScenarioTraffic {
  /** @default 1000 */
  readonly requestsPerSecond?: RequestRate;
  /** Share of users (0-1) sending each segment header value. @default - none */
  readonly segments?: Readonly<Record<string, number>>;
}

/** A fault injected into the fakes; armed at the start or when the state machine first enters `whenState`. */
export interface ScenarioFault extends FaultSpec {
  /** @default - armed when the rollout starts */
  readonly whenState?: string;
}

export type OperatorAction =
  /**
   * `zdt promote`: answers the next manual pause after `thinkSeconds`; with `full` (`zdt promote --full`), the
   * remaining steps are skipped. With `atSeconds` (needs `full`), `zdt promote --full` at that time while a step bakes.
   */
  | { readonly kind: 'promote'; readonly thinkSeconds?: number; readonly full?: boolean; readonly atSeconds?: number }
  /**
   * `zdt abort`: with `atSeconds`, at that time (a paused rollout is failed through its task token; a running one
   * gets the abort flag on its state item and rolls back at its next judgement); without, it answers the next pause
   * after `thinkSeconds`.
   */
  | { readonly kind: 'abort'; readonly atSeconds?: number; readonly thinkSeconds?: number; readonly reason?: string }
  /**
   * StopExecution of the rollout at `atSeconds` (console, CLI): the execution ends ABORTED at its next state, without
   * its own rollback; Step Functions' "Execution Status Change" then reaches the ExecutionEnded rule and its guard.
   */
  | { readonly kind: 'stop'; readonly atSeconds: number; readonly error?: string; readonly cause?: string }
  /** Someone starts another rollout of the same service at `atSeconds`. */
  | { readonly kind: 'secondRollout'; readonly atSeconds: number; readonly input?: RolloutInput }
  /** `cdk deploy` of changed templates at `atSeconds` (Custom::ZdtLiveRoute Update through the real handler). */
  | { readonly kind: 'stackUpdate'; readonly atSeconds: number; readonly description: string; readonly transform: (stacks: StackTemplate[]) => StackTemplate[] };

export interface ScenarioExpectation {
  readonly outcome: RehearsalOutcome;
  /** `$.trigger.kind` of a rollback: judge-fail, inconclusive, circuit-breaker, aborted, step-error. */
  readonly trigger?: string;
  /** Error name of a refusal. */
  readonly error?: string;
}

export interface Scenario {
  readonly name: string;
  /** One line for a person. */
  readonly description: string;
  /** @default 1000 requests per second, no segments */
  readonly traffic?: ScenarioTraffic;
  /** @default - both colors healthy (0.1% errors, p50 40 ms, p99 180 ms) */
  readonly profiles?: Partial<Record<Role, BehaviourProfile>>;
  /** Target health of a role's target group. @default - the services' DesiredCount, all healthy */
  readonly targetHealth?: Partial<Record<Role, TargetHealthCounts>>;
  /** @default - none */
  readonly faults?: readonly ScenarioFault[];
  /** @default - none (a manual pause then times out) */
  readonly operator?: readonly OperatorAction[];
  /** Input of the rollout execution. @default {} */
  readonly input?: RolloutInput;
  /** Strategy the rollout runs instead of the synthesized one (see rehearse's `strategy`). @default - as synthesized */
  readonly strategy?: RolloutStrategy;
  /**
   * How paths answer the validation gates' requests, by role and path (e.g. `/api/projects`: status 503).
   * @default - every path answers from the role's behaviour profile (rehearsal/simulation-probes.ts)
   */
  readonly probes?: Partial<Record<Role, Readonly<Record<string, ProbeAnswer>>>>;
  /** The database the database gate checks. @default - reachable, SELECT 1 in 5 ms */
  readonly database?: SimulatedDatabase;
  /** The test suite a functional-test gate's build runs. @default - 20 cases on the example's core paths, 4 minutes */
  readonly functionalTests?: SimulatedTestSuite;
  /**
   * The application emits the per-color release signal (ReleaseMetrics: requests, 5xx, latency per second, through
   * EMF; rehearsal/release-signal-source.ts), read by the rollout's high-resolution alarms. @default false (the example
   * image emits nothing: ALB metrics only)
   */
  readonly releaseSignal?: boolean;
  /** Runs after the deploy, before traffic starts (e.g. delete an alarm). */
  readonly setup?: (world: SimulationWorld) => void | Promise<void>;
  readonly expect: ScenarioExpectation;
}

/** A regression that fails this share of the release's requests from its first request. */
const BAD_RELEASE = { regressions: [{ errorRatePercent: 20 }] } as const;
/** A short manual-gate strategy: 10% with a pause, then everyone. */
const PAUSED_STRATEGY = RolloutStrategy.steps([{ percent: 10, pause: true }, { percent: 100 }], { bake: Duration.minutes(3) });

export const SCENARIOS: Readonly<Record<string, Scenario>> = Object.fromEntries([
  namedEntry({
    name: 'healthy-release',
    description: 'A good release at 1,000 req/s: every step bakes healthy and the new color ends with 100%.',
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'error-rate-regression',
    description: 'The new release fails 20% of its requests from its first second: the canary catches it and rolls back.',
    profiles: { release: BAD_RELEASE },
    expect: { outcome: 'ROLLED_BACK', trigger: 'judge-fail' },
  }),
  namedEntry({
    name: 'latency-regression',
    description: 'The new release answers 3x slower (p99 540 ms against 180 ms): rolled back on relative latency.',
    profiles: { release: { regressions: [{ latencyFactor: 3 }] } },
    expect: { outcome: 'ROLLED_BACK', trigger: 'judge-fail' },
  }),
  namedEntry({
    name: 'regression-from-50-percent',
    description: 'The new release fails 20% of requests only under load, once it serves 50% or more: rolled back from 50%.',
    profiles: { release: { regressions: [{ errorRatePercent: 20, minWeightPercent: 50 }] } },
    expect: { outcome: 'ROLLED_BACK', trigger: 'judge-fail' },
  }),
  namedEntry({
    name: 'low-traffic',
    description: 'Half a request per second: the 1% canary sees too few requests, the judge says INCONCLUSIVE, and the policy (ROLLBACK) rolls back.',
    traffic: { requestsPerSecond: 0.5 },
    expect: { outcome: 'ROLLED_BACK', trigger: 'inconclusive' },
  }),
  namedEntry({
    name: 'healthy-moderate-traffic',
    description: 'A good release at 100 req/s with both colors at 0.5% 5xx: the canary sees about one 5xx in 200 requests, and the sequential judge releases it (fixed thresholds rolled it back on one 5xx in 60 requests).',
    traffic: { requestsPerSecond: 100 },
    profiles: { stable: { baselineErrorRatePercent: 0.5 }, release: { baselineErrorRatePercent: 0.5 } },
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'healthy-low-traffic',
    description: 'A good release at 10 req/s with both colors at 0.1% 5xx: a 1% step (6 requests a minute) cannot be cleared within its bake, so the judge merges it into the 5% step (step sizing) and the release completes instead of ending INCONCLUSIVE.',
    traffic: { requestsPerSecond: 10 },
    profiles: { stable: { baselineErrorRatePercent: 0.1 }, release: { baselineErrorRatePercent: 0.1 } },
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'baseline-degraded',
    description: 'At minute 10 a shared dependency fails: the stable color answers 5% 5xx and the new one 3%. The step holds (Rollout Baseline Degraded), then pauses for an operator, who aborts.',
    profiles: {
      stable: { regressions: [{ errorRatePercent: 5, fromSeconds: 600 }] },
      release: { regressions: [{ errorRatePercent: 3, fromSeconds: 600 }] },
    },
    operator: [{ kind: 'abort', thinkSeconds: 300, reason: 'both colors fail: incident, not the release' }],
    expect: { outcome: 'ROLLED_BACK', trigger: 'aborted' },
  }),
  namedEntry({
    name: 'elb-throttling',
    description: 'The ALB throttles the first two weight writes (ModifyRule): the shift is retried and the rollout completes.',
    faults: [{ service: 'elbv2', command: 'ModifyRule', error: 'ThrottlingException', times: 2 }],
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'judge-api-errors',
    description: 'CloudWatch GetMetricData fails for good: after 5 consecutive judge errors the circuit breaker rolls back.',
    faults: [{ service: 'cloudwatch', command: 'GetMetricData', error: 'InternalFailure', times: Infinity }],
    expect: { outcome: 'ROLLED_BACK', trigger: 'circuit-breaker' },
  }),
  namedEntry({
    name: 'rollback-write-transient',
    description: 'A bad release, and the rollback\'s first three weight writes are throttled: retried, restored, verified.',
    profiles: { release: BAD_RELEASE },
    faults: [{ service: 'elbv2', command: 'ModifyRule', error: 'ThrottlingException', times: 3, whenState: 'Rollback' }],
    expect: { outcome: 'ROLLED_BACK', trigger: 'judge-fail' },
  }),
  namedEntry({
    name: 'rollback-fails',
    description: 'A bad release, and every rollback write fails: "Rollout Rollback Failed", the traffic left split is reported.',
    profiles: { release: BAD_RELEASE },
    faults: [{ service: 'elbv2', command: 'ModifyRule', error: 'InternalFailure', times: Infinity, whenState: 'Rollback' }],
    expect: { outcome: 'ROLLBACK_FAILED', trigger: 'judge-fail' },
  }),
  namedEntry({
    name: 'concurrent-rollout',
    description: 'A second rollout starts while the first one bakes its canary: refused (lock held), the first goes on untouched.',
    operator: [{ kind: 'secondRollout', atSeconds: 90 }],
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'new-color-unhealthy',
    description: 'The new color\'s targets fail their health checks: refused before any weight moves.',
    targetHealth: { release: { healthy: 0, unhealthy: 2 } },
    expect: { outcome: 'REFUSED', error: ErrorName.TARGETS_UNHEALTHY },
  }),
  namedEntry({
    name: 'alarm-missing',
    description: 'The new color\'s health alarm was deleted: refused, a missing alarm is never "OK".',
    setup: (world) => {
      const names = world.judgeConfig.alarmsByColor[world.colors.release];
      if (names.length === 0) throw new Error('alarm-missing: the rollout watches no alarm of the released color');
      world.aws.cloudwatch.deleteAlarms({ AlarmNames: [names[0]] });
    },
    expect: { outcome: 'REFUSED', error: ErrorName.ALARM_NOT_FOUND },
  }),
  namedEntry({
    name: 'http-check-fails',
    description: 'The new release answers 503 on /api/projects (its migration is missing): the HTTP check before traffic fails and the rollout ends before any production traffic moves.',
    probes: { release: { '/api/projects': { status: 503 } } },
    setup: (world) => requireHandler(world, 'http-gate', 'http-check-fails needs a rollout with an HTTP gate (ValidationGate.http in preTrafficGates)'),
    expect: { outcome: 'ROLLED_BACK', trigger: 'hook-failed' },
  }),
  namedEntry({
    name: 'pause-promote',
    description: 'A manual gate after 10%: the operator looks for 5 minutes, then promotes; the release completes.',
    strategy: PAUSED_STRATEGY,
    operator: [{ kind: 'promote', thinkSeconds: 300 }],
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'pause-abort',
    description: 'A manual gate after 10%: the operator aborts; traffic returns to the stable color.',
    strategy: PAUSED_STRATEGY,
    operator: [{ kind: 'abort', thinkSeconds: 120, reason: 'release notes say no' }],
    expect: { outcome: 'ROLLED_BACK', trigger: 'aborted' },
  }),
  namedEntry({
    name: 'abort-while-baking',
    description: '`zdt abort` while the canary bakes: the rollout rolls back at its next judgement.',
    operator: [{ kind: 'abort', atSeconds: 150, reason: 'customer report' }],
    expect: { outcome: 'ROLLED_BACK', trigger: 'aborted' },
  }),
  namedEntry({
    name: 'promote-full',
    description: '`zdt promote --full` while the 1% step bakes (a hotfix): the remaining steps are skipped, 100% is judged, the release completes.',
    operator: [{ kind: 'promote', full: true, atSeconds: 150 }],
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'promote-full-bad-hotfix',
    description: '`zdt promote --full` of a release that fails 20% of its requests once it serves 50% or more: 100% is still judged and rolled back.',
    profiles: { release: { regressions: [{ errorRatePercent: 20, minWeightPercent: 50 }] } },
    operator: [{ kind: 'promote', full: true, atSeconds: 150 }],
    expect: { outcome: 'ROLLED_BACK', trigger: 'judge-fail' },
  }),
  namedEntry({
    name: 'pause-promote-full',
    description: 'A manual gate after 10% answered with `zdt promote --full`: the 50% step is skipped, 100% is judged, the release completes.',
    strategy: RolloutStrategy.steps([{ percent: 10, pause: true }, { percent: 50 }, { percent: 100 }], { bake: Duration.minutes(3) }),
    operator: [{ kind: 'promote', full: true, thinkSeconds: 60 }],
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'execution-stopped',
    description: 'Someone stops the execution (StopExecution) while 5% bakes: the ExecutionEnded rule runs the guard, which restores 100% to the stable color and releases the lock.',
    // 5% bakes from about 480 s (the 1% step's 5 minutes, plus its wait for its own metrics) to about 960 s.
    operator: [{ kind: 'stop', atSeconds: 700, cause: 'stopped from the console' }],
    expect: { outcome: 'ROLLED_BACK' },
  }),
  namedEntry({
    name: 'stack-update-during-rollout',
    description: 'A `cdk deploy` changes the live route (stickiness) while 5% bakes: the weights stay where the rollout put them.',
    operator: [{
      kind: 'stackUpdate',
      atSeconds: 700,
      description: 'live route stickiness 600 s -> 300 s',
      transform: (stacks) => stacks.map((s) => ({ ...s, template: changeLiveRouteStickiness(s.template, '300') })),
    }],
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'high-resolution-regression',
    description: 'The new release fails 20% of its requests; its service emits the per-color signal (ReleaseMetrics): the judge, reading the signal\'s 10-second periods every 30 s, fails it at its first judgement, rolled back in seconds.',
    profiles: { release: BAD_RELEASE },
    releaseSignal: true,
    expect: { outcome: 'ROLLED_BACK', trigger: 'judge-fail' },
  }),
  namedEntry({
    name: 'high-resolution-healthy',
    description: 'A good release at 1,000 req/s whose service emits the per-color signal: every step is judged on the signal\'s 10-second periods and passes; the new color ends with 100%.',
    releaseSignal: true,
    expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'high-resolution-latency-regression',
    description: 'The new release answers 10x slower (p99 1.8 s) and emits the per-color signal: the judge cannot compare p99 before the canary has served 1,000 requests, the 10-second p99 alarm fires first, its event ends the bake, rolled back in seconds.',
    profiles: { release: { regressions: [{ latencyFactor: 10 }] } },
    releaseSignal: true,
    expect: { outcome: 'ROLLED_BACK', trigger: 'high-resolution-alarm' },
  }),
  namedEntry({
    name: 'high-resolution-alarm-between-bakes',
    description: 'The new release answers 10x slower and emits the per-color signal; the first judgement\'s GetMetricData takes 12 s: the 10-second p99 alarm fires after the judge read the alarms (OK) and before the next bake, its handler flags the rollout, the next bake\'s token write is refused, the flag read back rolls back at once.',
    profiles: { release: { regressions: [{ latencyFactor: 10 }] } },
    releaseSignal: true,
    // A slow CloudWatch answer holds the judge (after its DescribeAlarms) across the alarm's first 10-second tick.
    faults: [{ service: 'cloudwatch', command: 'GetMetricData', delayMs: 12_000, times: 1, whenState: 'Judge' }],
    expect: { outcome: 'ROLLED_BACK', trigger: 'high-resolution-alarm' },
  }),
]);

/** Fails, saying `why`, unless the rollout's stack has a function running the library's handler `name`. */
function requireHandler(world: SimulationWorld, name: string, why: string): void {
  const template = world.deployer.template(world.stackName) as { Resources?: Record<string, { Type: string; Metadata?: Record<string, unknown> }> };
  const found = Object.values(template.Resources ?? {}).some((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[HANDLER_METADATA_KEY] === name);
  if (!found) throw new Error(`${why}; the rollout's stack ${world.stackName} has none`);
}

/** The scenario of this name; the error lists the names. */
export function scenarioNamed(name: string): Scenario {
  return scenarioIn(SCENARIOS, name);
}

/** A copy of the template whose Custom::ZdtLiveRoute resources have another StickinessSeconds. */
export function changeLiveRouteStickiness(template: StackTemplate['template'], seconds: string): StackTemplate['template'] {
  const copy = JSON.parse(JSON.stringify(template)) as { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
  for (const resource of Object.values(copy.Resources ?? {})) {
    if (resource.Type === 'Custom::ZdtLiveRoute' && resource.Properties) resource.Properties.StickinessSeconds = seconds;
  }
  return copy as StackTemplate['template'];
}
