/**
 * Benchmark of a bad release: our default canary (rehearsed: the real state machine, handlers and judge against
 * the simulated ALB and CloudWatch) against a model of CodeDeploy's ECSCanary10Percent5Minutes with alarm rollback
 * on 60-second ALB metrics. Also the state transitions and cost of a healthy ~30-minute rollout, judged on the
 * release signal and on ALB metrics only.
 * Run: `npm run bench` (= `tsx bench/rollout.bench.ts`).
 *
 * It rewrites only its own section of BENCHMARKS.md (between <!-- bench:rollout:start --> and <!-- bench:rollout:end -->).
 */
import '../rehearsal/polyfills';
// The SDK's Node 20 end-of-support notice is noise here (the Lambda runtime is Node 22+).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { RolloutStrategy } from '../lib/rollout/rollout-strategy';
import { synthesizeExample } from '../bin/commands/rehearse';
import type { StackTemplate } from '../rehearsal/deployer';
import { formatCount, formatDuration, formatUsd } from '../rehearsal/render-format';
import { rehearse } from '../rehearsal/rehearse';
import { METRIC_INGESTION_DELAY_SECONDS } from '../rehearsal/simulation';
import { API_LATENCY_MS } from '../rehearsal/simulation';
import type { RehearsalResult } from '../rehearsal/result';
import { SCENARIOS, type Scenario } from '../rehearsal/scenarios';
import { RELEASE_SIGNAL_INGESTION_DELAY_SECONDS } from '../rehearsal/release-signal-source';
import { ALARM_EVENT_DELAY_MS } from '../rehearsal/simulation-alarm-events';
import { EVENT_DELIVERY_MS } from '../rehearsal/simulation-events';

/** Bake of each of the canary's five steps in the healthy-rollout figure: 5 x 6 min = 30 min. */
const HEALTHY_BAKE_MINUTES = 6;
const MARK_START = '<!-- bench:rollout:start -->';
const MARK_END = '<!-- bench:rollout:end -->';
const BENCHMARKS_FILE = join(__dirname, '..', 'BENCHMARKS.md');

/** The incident both contenders face. */
export const INCIDENT = {
  requestsPerSecond: 1_000,
  /** The new release fails this percent of its requests from its first second. */
  errorRatePercent: 20,
} as const;

/**
 * CodeDeploy ECSCanary10Percent5Minutes with alarm-based automatic rollback, modelled analytically. Every figure
 * below is an assumption, printed next to the result.
 */
export const CODEDEPLOY_MODEL = {
  canaryPercent: 10,
  canaryBakeSeconds: 5 * 60,
  /** The alarm: a CloudWatch alarm on the green target group's 5xx (Sum or rate), Period 60 s, 1 of 1 datapoints. */
  alarmPeriodSeconds: 60,
  /**
   * Seconds from the traffic shift until the end of the first (partial) 60-second period that contains failures:
   * the shift lands at a uniformly random second of the minute, so on average half a period.
   */
  meanPartialPeriodSeconds: 30,
  /**
   * ALB metrics reach CloudWatch this long after the period ends, and the alarm goes to ALARM when they land: the
   * same ingestion delay the rehearsal gives our judge and alarms (typical; AWS does not publish a bound).
   */
  alarmDelaySeconds: METRIC_INGESTION_DELAY_SECONDS,
  /**
   * CodeDeploy notices the alarm on its next poll of the deployment's alarms. AWS does not document the interval;
   * we assume once a minute, so half a minute on average.
   */
  meanPollWaitSeconds: 30,
  /**
   * From the stop to 100% on the original task set: CodeDeploy modifies the listener back (seconds). We assume
   * the same as our own rollback's measured time to safe, so the comparison isolates detection.
   */
} as const;

/** The incident as a rehearsal scenario. */
const INCIDENT_SCENARIO: Scenario = {
  name: 'bench-incident',
  description: `${INCIDENT.requestsPerSecond} req/s; the new release fails ${INCIDENT.errorRatePercent}% of its requests from its first second`,
  traffic: { requestsPerSecond: INCIDENT.requestsPerSecond },
  profiles: { release: { regressions: [{ errorRatePercent: INCIDENT.errorRatePercent }] } },
  expect: { outcome: 'ROLLED_BACK' },
};

/** The same incident, the release's service emitting the per-color signal (ReleaseMetrics) the 10-second alarms read. */
const INCIDENT_WITH_SIGNAL: Scenario = { ...INCIDENT_SCENARIO, name: 'bench-incident-signal', releaseSignal: true };

/** Before the high-resolution signal (issue 11): the default canary on ALB metrics, as BENCHMARKS.md recorded it. */
const BEFORE_SIGNAL = { detect: '3 min 01 s', failedRequests: 359, healthyTransitions: 382, healthyInvocations: 59 } as const;

/**
 * With the signal's 10 s alarms and event-driven rollback, but the judge reading ALB minutes only (every minute, the
 * bake's token stored by a Lambda), as BENCHMARKS.md recorded it before the judge read the signal.
 */
const BEFORE_JUDGE_READ_SIGNAL = { exposure: '41.8 s', failedRequests: 81, healthyTransitions: 392, healthyInvocations: 106 } as const;

/** The healthy rollout's cost when issue 11 was written (its budget: within 2x of this). */
const ISSUE_11_BASELINE = { transitions: 347, invocations: 54 } as const;

/** CodeDeploy's traffic steps (10% for 5 minutes, then everyone) as a rehearsal strategy. */
const CODEDEPLOY_STEPS = RolloutStrategy.steps([
  { percent: CODEDEPLOY_MODEL.canaryPercent, bake: Duration.seconds(CODEDEPLOY_MODEL.canaryBakeSeconds) },
  { percent: 100 },
], { bake: Duration.minutes(1) });

/** Series resolution of the rehearsals, seconds (1 s so the blast radius is counted per second). */
const SERIES_STEP_SECONDS = 1;

const SIMULATION_NOTES = 'The example app (bin/everjust.ts: `RolloutStrategy.canary()` with its default 5-minute bakes, '
  + 'ProgressiveRollout defaults: the sequential judge; metric analysis min 50 requests, max 1% 5xx and above 2× stable; '
  + 'health alarms at 5% 5xx) synthesized and rehearsed: the real state machine, router, judge and lock code against the simulated ALB '
  + `and CloudWatch (60 s metric periods, each visible ${METRIC_INGESTION_DELAY_SECONDS} s after it ends, to the judge and the alarms alike; `
  + 'the judge reads whole minutes that ended 2 min before (metricDelay) and clears a step only on data from after its shift), '
  + 'on a virtual clock; the healthy color fails 0.1% (baseline).';

interface Contender {
  readonly name: string;
  readonly canaryPercent: number;
  readonly detectMs: number;
  readonly safeMs: number;
  readonly failedRequests: number;
  readonly how: string;
}

function codeDeployModel(ourTimeToSafeMs: number): Contender {
  const m = CODEDEPLOY_MODEL;
  const detectSeconds = m.meanPartialPeriodSeconds + m.alarmDelaySeconds + m.meanPollWaitSeconds;
  const safeSeconds = ourTimeToSafeMs / 1000;
  const failedPerSecond = INCIDENT.requestsPerSecond * (m.canaryPercent / 100) * (INCIDENT.errorRatePercent / 100);
  return {
    name: '(b) CodeDeploy ECSCanary10Percent5Minutes + alarm rollback on 60 s ALB metrics (analytic model)',
    canaryPercent: m.canaryPercent,
    detectMs: detectSeconds * 1000,
    safeMs: ourTimeToSafeMs,
    failedRequests: Math.round(failedPerSecond * (detectSeconds + safeSeconds)),
    how: `${INCIDENT.requestsPerSecond} req/s × ${m.canaryPercent}% × ${INCIDENT.errorRatePercent}% = ${failedPerSecond} failed req/s for `
      + `${m.meanPartialPeriodSeconds} s (partial period) + ${m.alarmDelaySeconds} s (metric + alarm delay) + ${m.meanPollWaitSeconds} s (poll) + ${safeSeconds} s (rollback)`,
  };
}

function ours(result: RehearsalResult, name?: string, how?: string): Contender {
  const s = result.summary;
  if (s.outcome !== 'ROLLED_BACK' || s.timeToDetectMs === undefined || s.timeToSafeMs === undefined) {
    throw new Error(`bench: expected the rehearsed incident to roll back with detection and safe times, got ${s.outcome} (${s.error ?? ''} ${s.cause ?? ''})`);
  }
  return {
    name: name ?? `(a) cdk-zero-downtime default canary (rehearsed: ${s.strategy})`,
    canaryPercent: s.events.length > 0 ? firstPercent(result) : 0,
    detectMs: s.timeToDetectMs,
    safeMs: s.timeToSafeMs,
    failedRequests: s.failedRequests,
    how: how ?? 'measured: failed requests above the healthy baseline, from the traffic model of the rehearsal',
  };
}

function firstPercent(result: RehearsalResult): number {
  const shifted = result.timeline.find((e) => e.weights && e.weights.green > 0 && e.weights.green < 100);
  return shifted?.weights?.green ?? 0;
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim().split(/\s+/).slice(0, 3).join(' ') ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, `
    + `${platform()} ${release()}, Node ${process.version}`;
}

interface HealthyRun {
  readonly label: string;
  readonly result: RehearsalResult;
}

function healthyLine(run: HealthyRun): string {
  const h = run.result.summary;
  return `- ${run.label} (scenario \`${h.scenario}\`, ${h.strategy}): ${formatDuration(h.durationMs)} of virtual time, `
    + `**${formatCount(h.stateTransitions)} state transitions** (×${(h.stateTransitions / ISSUE_11_BASELINE.transitions).toFixed(2)} of ${ISSUE_11_BASELINE.transitions}), `
    + `**${formatCount(h.lambdaInvocations)} Lambda invocations** (×${(h.lambdaInvocations / ISSUE_11_BASELINE.invocations).toFixed(2)} of ${ISSUE_11_BASELINE.invocations}), `
    + `estimated **${formatUsd(h.estimatedCostUsd)}** per rollout.`;
}

function section(args: {
  incident: RehearsalResult; withSignal: RehearsalResult; codeDeploySteps: RehearsalResult; healthySignal: RehearsalResult; healthyAlb: RehearsalResult;
  realMs: number; when: string;
}): string {
  const a = ours(args.incident, '(a) cdk-zero-downtime default canary, ALB metrics only (the application emits nothing: the judge falls back to ALB minutes; rehearsed)');
  const c = ours(args.withSignal, '(c) cdk-zero-downtime default canary + the per-color high-resolution signal (the judge reads its 10 s periods every 30 s; 10 s alarms, event-driven rollback; rehearsed)');
  const b = codeDeployModel(a.safeMs);
  const b2 = ours(args.codeDeploySteps, "(b') CodeDeploy's steps (10% for 5 min, then 100%) judged by our judge (rehearsed)", 'measured like (a)');
  const ratio = b.failedRequests / Math.max(1, a.failedRequests);
  const row = (x: Contender) => `| ${x.name} | ${x.canaryPercent}% | ${formatDuration(x.detectMs)} | ${formatDuration(x.safeMs)} | ${formatDuration(x.detectMs + x.safeMs)} | **${formatCount(x.failedRequests)}** |`;
  const trigger = (r: RehearsalResult) => /\(([a-z-]+)\)/.exec(r.summary.cause ?? '')?.[1] ?? 'unknown';
  return [
    '## Rollout: blast radius of a bad release, ours vs. CodeDeploy canary',
    '',
    `Command: \`npm run bench\` (\`tsx bench/rollout.bench.ts\`), run ${args.when}, ${formatDuration(args.realMs)} in all.`,
    '',
    `Machine: ${machine()}. Rehearsal: virtual time, so the figures do not depend on the machine.`,
    '',
    `Incident: ${formatCount(INCIDENT.requestsPerSecond)} req/s; the new release (green) fails ${INCIDENT.errorRatePercent}% of its requests from its first second.`,
    '',
    '| contender | first share | regression → detected | detected → safe | exposure | failed requests (blast radius) |',
    '|---|---:|---:|---:|---:|---:|',
    row(c),
    row(a),
    row(b),
    row(b2),
    '',
    `With the signal (c): regression → 100% stable, verified, in **${formatDuration(c.detectMs + c.safeMs)}** (rolled back by: ${trigger(args.withSignal)}); CodeDeploy model (b) / (c) = **${(b.failedRequests / Math.max(1, c.failedRequests)).toFixed(1)}×** the failed requests. `
      + `Before the judge read the signal (the 10 s alarms and their event only, the judge on ALB minutes): ${BEFORE_JUDGE_READ_SIGNAL.exposure} and ${BEFORE_JUDGE_READ_SIGNAL.failedRequests} failed requests. `
      + `ALB metrics only (a): ${formatDuration(a.detectMs)} to detect and ${formatCount(a.failedRequests)} failed requests (rolled back by: ${trigger(args.incident)}); before the signal existed ${BEFORE_SIGNAL.detect} and ${BEFORE_SIGNAL.failedRequests}.`,
    '',
    `Ratio: CodeDeploy model (b) / ours (a) = **${ratio.toFixed(1)}×** the failed requests`
      + ` (detection-to-safe: ${formatDuration(b.safeMs)} vs. ${formatDuration(a.safeMs)}, assumed equal; regression-to-safe: ${formatDuration(b.detectMs + b.safeMs)} vs. ${formatDuration(a.detectMs + a.safeMs)}).`
      + ` With CodeDeploy's 10% step but our judge (b'), ${(b2.failedRequests / Math.max(1, a.failedRequests)).toFixed(1)}×: the canary size alone.`,
    '',
    `Healthy ~30-minute rollouts of the default canary with ${HEALTHY_BAKE_MINUTES}-minute bakes (Step Functions Standard transitions + Lambda requests and GB-seconds, prices in rehearsal/cost.ts; CodeDeploy itself is free for ECS deployments, its alarms cost the same as ours). The budget: within 2× of the ${ISSUE_11_BASELINE.transitions} transitions / ${ISSUE_11_BASELINE.invocations} invocations issue 11 started from.`,
    '',
    healthyLine({ label: 'With the signal, the judge reading it every 30 s', result: args.healthySignal }),
    healthyLine({ label: 'ALB metrics only (the example app with the signal configured, its application emitting nothing: the judge falls back to ALB minutes and judges as each becomes readable)', result: args.healthyAlb }),
    `- Before the judge read the signal (judged every minute on ALB minutes, the bake's token stored by a Lambda invocation per judgement): ${BEFORE_JUDGE_READ_SIGNAL.healthyTransitions} transitions, ${BEFORE_JUDGE_READ_SIGNAL.healthyInvocations} invocations; before the signal existed: ${BEFORE_SIGNAL.healthyTransitions} and ${BEFORE_SIGNAL.healthyInvocations}.`,
    '',
    'The event-driven bake stores its task token with an AWS SDK DynamoDB UpdateItem task (`.waitForTaskToken`), not a Lambda: a judgement costs one invocation (the judge), and twice as many judgements (every 30 s) cost about what one a minute did with the Lambda token. On ALB minutes the judge sets its next wait to when the next minute is readable (`waitSeconds`), so a fallback costs what a rollout without the signal does.',
    '',
    'Assumptions and method:',
    '',
    `- Ours (a), (c): ${a.how}. ${SIMULATION_NOTES} The example app has \`highResolutionSignal\` on (5% 5xx or p99 above 800 ms in 2 of 2 10-second periods, at least 50 requests a period), so its judge interval is 30 s and its bake waits on a task token whose timeout is that interval; in (a) the application emits nothing, the alarms stay OK and the judge reads the ALB's minutes as each becomes readable (it says so in its reasons).`,
    `- (c): the release's service emits the signal (rehearsal/release-signal-source.ts: the traffic model's own per-color numbers). Stated delays: a period's datapoint reaches CloudWatch ${RELEASE_SIGNAL_INGESTION_DELAY_SECONDS} s after it ends (EmfWriter's 1 s, a log driver flushing every 5 s as AWS recommends for high-resolution EMF metrics (User Guide, "Setting alarms on metrics created with the embedded metric format"; moby's awslogs batchPublishFrequency), an assumed 5 s of EMF extraction, undocumented); the judge reads 10-second periods that ended 20 s before (\`highResolutionSignal.metricDelay\`); the alarms are evaluated every 10 s (CloudWatch User Guide, "Evaluating an alarm"); their "CloudWatch Alarm State Change" event reaches EventBridge ${ALARM_EVENT_DELAY_MS} ms after the change (delivery guaranteed, latency undocumented: assumed) and its target ${EVENT_DELIVERY_MS} ms later.`,
    `- CodeDeploy (b), analytic model, not a simulation: ${b.how}.`,
    `  - ECSCanary10Percent5Minutes shifts ${CODEDEPLOY_MODEL.canaryPercent}% to the replacement task set, bakes ${CODEDEPLOY_MODEL.canaryBakeSeconds / 60} min, then shifts the rest; the regression is caught during the canary, so only the 10% phase matters.`,
    `  - Alarm: green target group 5xx, Period ${CODEDEPLOY_MODEL.alarmPeriodSeconds} s, 1 of 1 datapoints, a threshold that ${INCIDENT.errorRatePercent}% of ${CODEDEPLOY_MODEL.canaryPercent}% of ${INCIDENT.requestsPerSecond} req/s breaches in the first period.`,
    `  - The shift lands at a random second of the minute: on average ${CODEDEPLOY_MODEL.meanPartialPeriodSeconds} s until the first period with failures closes.`,
    `  - ALB metrics arrive and the alarm evaluates about ${CODEDEPLOY_MODEL.alarmDelaySeconds} s after the period ends (typical, not a documented bound).`,
    `  - CodeDeploy polls the alarms about once a minute (undocumented): on average ${CODEDEPLOY_MODEL.meanPollWaitSeconds} s more.`,
    '  - Its rollback (listener back to the original task set) is assumed to take as long as ours did, so the ratio isolates detection and the canary size.',
    "- (b') is a rehearsal of the same app with CodeDeploy's traffic steps (`RolloutStrategy.steps([{ percent: 10, bake: 5 min }, { percent: 100 }])`) and our judge: it is not CodeDeploy, it separates the effect of the first step's size from that of detection.",
    `- Every AWS API call takes a stated latency on the virtual clock (rehearsal/simulation.ts API_LATENCY_MS: ${Object.entries(API_LATENCY_MS).map(([service, ms]) => `${service} ${ms} ms`).join(', ')}), so detection → safe is the rollback's write plus its verifying read. Lambda cold starts and Step Functions' own transition latency are not modelled. CodeDeploy's rollback is assumed to take as long as ours.`,
    '- Exposure = detection + time to safe; blast radius counts only failures above the healthy baseline.',
    '- One run; the rehearsal is deterministic (fixed virtual epoch), so reruns give the same figures.',
  ].join('\n');
}

function writeSection(body: string): void {
  const block = `${MARK_START}\n${body}\n${MARK_END}`;
  const current = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(MARK_START);
  const end = current.indexOf(MARK_END);
  const next = start >= 0 && end > start
    ? `${current.slice(0, start)}${block}${current.slice(end + MARK_END.length)}`
    : `${current.replace(/\s*$/, '')}\n\n${block}\n`;
  writeFileSync(BENCHMARKS_FILE, next);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const when = new Date().toISOString();
  process.stderr.write('rehearsing the incident with the default canary...\n');
  const stacks: StackTemplate[] = synthesizeExample();
  const incident = await rehearse(stacks, { scenario: INCIDENT_SCENARIO, seriesStepSeconds: SERIES_STEP_SECONDS });
  process.stderr.write('rehearsing the incident with the per-color high-resolution signal...\n');
  const withSignal = await rehearse(stacks, { scenario: INCIDENT_WITH_SIGNAL, seriesStepSeconds: SERIES_STEP_SECONDS });
  process.stderr.write('rehearsing the incident with CodeDeploy\'s traffic steps...\n');
  const codeDeploySteps = await rehearse(stacks, { scenario: INCIDENT_SCENARIO, strategy: CODEDEPLOY_STEPS, seriesStepSeconds: SERIES_STEP_SECONDS });
  // The issue asks for a healthy 30-minute rollout: the default canary's five steps with 6-minute bakes.
  const healthyStrategy = RolloutStrategy.canary({ bake: Duration.minutes(HEALTHY_BAKE_MINUTES) });
  process.stderr.write('rehearsing a healthy rollout with the signal...\n');
  const healthySignal = await rehearse(stacks, { scenario: SCENARIOS['high-resolution-healthy'], strategy: healthyStrategy, seriesStepSeconds: SERIES_STEP_SECONDS });
  process.stderr.write('rehearsing a healthy rollout on ALB metrics only...\n');
  const healthyAlb = await rehearse(stacks, { scenario: SCENARIOS['healthy-release'], strategy: healthyStrategy, seriesStepSeconds: SERIES_STEP_SECONDS });
  const body = section({ incident, withSignal, codeDeploySteps, healthySignal, healthyAlb, realMs: performance.now() - t0, when });
  writeSection(body);
  process.stdout.write(`${body}\n\nwrote ${BENCHMARKS_FILE}\n`);
}

if (require.main === module) {
  main().catch((e) => { process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`); process.exitCode = 1; });
}
