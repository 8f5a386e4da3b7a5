/**
 * rehearseFlagRollout(): run a GuardedFlagRollout of a synthesized app locally, days of phases in seconds.
 *
 *   const result = await rehearseFlagRollout(app, { scenario: 'flag-rollout-regression' });
 *   result.outcome;        // 'ROLLED_BACK'
 *   result.phases;         // the phases that passed, with their virtual times
 *
 * The app's stacks are deployed into the AWS fakes (AppConfig's application, environment, profile, hosted version
 * and deployment included), the flag rollout's state machine runs with aws-local-stepfunctions on a virtual clock
 * with its handler bound to the real code, and FlagTraffic answers the application's per-variant metrics from the
 * document AppConfig holds at each minute. The clock and the SDK clients are always restored.
 */
import './polyfills';
import type { FlagPhase, FlagRolloutConfig } from '../lambda/flag-rollout/flag-rollout-contract';
import { FLAG_ROLLOUT_KIND, FlagRolloutErrorName, FlagRolloutEvent, GUARDED_RULE_NAME } from '../lambda/flag-rollout/flag-rollout-contract';
import { parseFlagsDocument } from '../lambda/flags/validate';
import { ErrorName, LockConfig, StateTable } from '../lambda/shared/contracts';
import { abortRequest } from '../lambda/rollout/operator-request';
import { Deployer } from './deployer';
import { bindLibraryHandlers, openLocalAws, runInLocalAws } from './local-aws';
import type { AwsFakes } from './fakes';
import { FLAG_SCENARIOS, FlagRolloutOutcome, FlagScenario } from './flag-scenarios';
import { FlagTraffic } from './flag-traffic';
import { functionsInvokedBy, handlerConfigOf, handlerFunctionsOf } from './handlers';
import { RehearsalTarget, rollbackTriggerStatesOf, stacksOf, stateMachinesOfKind } from './simulation-target';
import { stateMachineOf } from './template';
import { TextTimeline, TextTimelineEntry } from './text-timeline';
import { VirtualClock } from './virtual-clock';
import { scenarioIn } from './scenario-registry';

const FLAG_ROLLOUT_HANDLER = 'flag-rollout';
const LOCK_HANDLER = 'lock';
/** The flag rollout's rollback task (lib/private/flag-rollout-definition.ts): its triggers go there. */
const ROLLBACK_STATE = 'Roll Back Flag';
/** How long the lock of a scenario's other execution (lockHeldBy) still holds when the rollout starts. */
const OTHER_LEASE_SECONDS = 86_400;
/** AppConfig's own deployment of the stack's document (its strategy: up to 20 minutes + 10 of bake) ends before the rollout. */
const WARMUP_MS = 60 * 60_000;

export interface FlagRehearsalOptions {
  /** A flag scenario or the name of one. @default 'flag-rollout-healthy' */
  readonly scenario?: FlagScenario | string;
  /** The GuardedFlagRollout when the app has several: the flag key. @default - the only one */
  readonly flagKey?: string;
  /**
   * Seed of the stochastic variant traffic (rehearsal/flag-traffic.ts: Poisson requests, binomial errors, sampled
   * latency percentiles), as `zdt rehearse --seed`. @default - the deterministic model
   */
  readonly seed?: number;
  /** Handler log level (ZDT_LOG_LEVEL). @default 'silent' */
  readonly logLevel?: string;
  /** Called with each line of the timeline as it happens. */
  readonly onTimeline?: (entry: FlagTimelineEntry) => void;
  /** Called with the AWS fakes once the rollout has ended, before they are restored (the events put, the tables...). */
  readonly inspect?: (aws: AwsFakes) => void;
}

/** One line of the timeline (virtual ms since the start, text). */
export type FlagTimelineEntry = TextTimelineEntry;

export interface FlagRehearsalResult {
  readonly scenario: string;
  readonly flagKey: string;
  readonly outcome: FlagRolloutOutcome;
  readonly executionStatus: string;
  readonly error?: string;
  readonly cause?: string;
  /** `$.trigger.kind` of a rollback. */
  readonly trigger?: string;
  /** Virtual duration of the rollout, ms. */
  readonly durationMs: number;
  /** When the treatment first served requests with a regression active (virtual ms since the start), if ever. */
  readonly regressionStartedAtMs?: number;
  /** When the rollout decided to roll back (entered a rollback trigger), virtual ms since the start. */
  readonly detectedAtMs?: number;
  /** From the regression's first bad request to the decision to roll back, when both happened. */
  readonly timeToDetectMs?: number;
  /** Requests of the treatment's users failed by its regression (above its baseline) during the rollout: the blast radius. */
  readonly failedRequests: number;
  /** Requests of every variant during the rollout. */
  readonly totalRequests: number;
  /** Real duration of the rehearsal, ms. */
  readonly realDurationMs: number;
  /** Phases that passed, with the virtual time (ms since the start) each completed at. */
  readonly phases: ReadonlyArray<{ readonly number: number; readonly name: string; readonly completedAtMs: number }>;
  /** The rollout's rule in the document AppConfig holds at the end (absent: the flag has none, as before the rollout). */
  readonly finalRule?: { readonly percent?: number; readonly segments?: readonly string[] };
  /** AppConfig deployments the rollout started. */
  readonly deployments: number;
  /** Who holds the flag's lock at the end (absent: nobody, it was released). */
  readonly lockOwnerAfter?: string;
  /** The detail-types of the events the rollout put, in order. */
  readonly events: readonly string[];
  readonly timeline: readonly FlagTimelineEntry[];
}

/** The scenario of this name; the error lists the names. */
export function flagScenarioNamed(name: string): FlagScenario {
  return scenarioIn(FLAG_SCENARIOS, name, 'flag ');
}

export async function rehearseFlagRollout(target: RehearsalTarget, options: FlagRehearsalOptions = {}): Promise<FlagRehearsalResult> {
  const scenario = typeof options.scenario === 'string' ? flagScenarioNamed(options.scenario) : options.scenario ?? flagScenarioNamed('flag-rollout-healthy');
  const clock = new VirtualClock();
  // The deployer runs the live-route handler in-process: quiet, as the handlers bound below.
  const local = openLocalAws(clock, { logLevel: options.logLevel ?? process.env.ZDT_LOG_LEVEL });
  const aws = local.aws;
  try {
    const deployer = new Deployer(aws);
    const stacks = stacksOf(target);
    await deployer.deploy(stacks);
    // The app's guarded flag rollouts (their state machines' kind), each with the configuration of the handlers it invokes.
    const found = stateMachinesOfKind(stacks, FLAG_ROLLOUT_KIND).map(({ stackName, logicalId }) => {
      const template = deployer.template(stackName);
      const resolverOptions = deployer.resolverOptions(stackName);
      const machine = stateMachineOf(template, logicalId, resolverOptions);
      const functions = functionsInvokedBy(machine.definition, handlerFunctionsOf(template, resolverOptions));
      const what = `the flag rollout ${logicalId} of ${stackName}`;
      return {
        stackName, template, resolverOptions, machine,
        config: handlerConfigOf<FlagRolloutConfig>(functions, FLAG_ROLLOUT_HANDLER, what),
        lock: handlerConfigOf<LockConfig>(functions, LOCK_HANDLER, what),
      };
    }).filter((f) => options.flagKey === undefined || f.config.flagKey === options.flagKey);
    if (found.length !== 1) {
      throw new Error(`rehearseFlagRollout: expected one GuardedFlagRollout${options.flagKey ? ` of flag ${options.flagKey}` : ''}, found ${found.length}${found.length > 1 ? ` (flags: ${found.map((f) => f.config.flagKey).join(', ')}); pass flagKey` : ''}`);
    }
    const { template, resolverOptions, machine, config, lock } = found[0];
    const lockKey = lock.service;
    const lockItem = () => aws.dynamodb.items(lock.tableName).find((i) => i[StateTable.PARTITION_KEY]?.S === lockKey);

    clock.advance(WARMUP_MS);
    if (scenario.lockHeldBy) {
      aws.dynamodb.putItem({
        TableName: lock.tableName,
        Item: {
          [StateTable.PARTITION_KEY]: { S: lockKey },
          [StateTable.LOCK_OWNER]: { S: scenario.lockHeldBy },
          [StateTable.LOCK_EXPIRES_AT]: { N: String(Math.floor(clock.now() / 1000) + OTHER_LEASE_SECONDS) },
        },
      });
    }
    const traffic = new FlagTraffic({
      appconfig: aws.appconfig,
      config,
      requestsPerSecond: scenario.requestsPerSecond,
      seed: options.seed,
      originMs: clock.now(),
      variants: { ...(scenario.control ? { [controlName(aws, config)]: scenario.control } : {}), ...(scenario.treatment ? { [config.treatment]: scenario.treatment } : {}) },
    });
    aws.cloudwatch.addMetricSource(traffic);
    const deploymentsBefore = aws.appconfig.deployments(config.applicationId, config.environmentId).length;
    const startedAt = clock.now();
    const timeline = new TextTimeline(clock, startedAt, options.onTimeline);
    const emit = (text: string) => timeline.emit(text);
    const phases: Array<{ number: number; name: string; completedAtMs: number }> = [];
    const events: string[] = [];
    // What started the rollback, as the state machine's own rollback events say it ($.trigger.kind).
    let trigger: string | undefined;
    const stopEvents = aws.events.onDeliver((_params, _result, accepted) => {
      for (const entry of accepted) {
        events.push(entry.detailType);
        const detail = entry.detail as { phase?: FlagPhase; trigger?: { kind?: string; reason?: string } };
        trigger ??= detail.trigger?.kind;
        if (entry.detailType === FlagRolloutEvent.PHASE_COMPLETED && detail.phase) {
          phases.push({ number: detail.phase.number, name: detail.phase.name, completedAtMs: clock.now() - startedAt });
        }
        emit(`${entry.detailType}${detail.phase ? `: phase ${detail.phase.number} (${detail.phase.name})` : ''}${detail.trigger?.reason ? `: ${detail.trigger.reason}` : ''}`);
      }
    });
    let aborted = false;
    let run;
    try {
      run = await runInLocalAws(aws, {
        definition: machine.definition,
        clock,
        stateMachineArn: machine.stateMachineArn,
        lambdas: bindLibraryHandlers(template, resolverOptions),
        seed: options.seed,
        onEvent: (event) => {
          if (event.type === 'StateEntered' && (event.state === 'Deploy Phase' || event.state === ROLLBACK_STATE)) emit(`${event.state}`);
          // The operator's `zdt abort` (the CLI's write) once the scenario's phase is being judged (or held).
          const owner = lockItem()?.[StateTable.LOCK_OWNER]?.S;
          if (scenario.abortInPhase !== undefined && !aborted && event.type === 'StateEntered' && (event.state === 'Wait For Judgement' || event.state === 'Hold Interval')
            && phases.length === scenario.abortInPhase - 1 && owner !== undefined) {
            aborted = true;
            aws.dynamodb.updateItem(abortRequest(lock.tableName, lockKey, owner, 'aborted by the operator (zdt abort)'));
            emit('zdt abort');
          }
        },
      });
    } finally {
      stopEvents();
    }
    options.inspect?.(aws);
    const content = aws.appconfig.deployedContent(config.applicationId, config.environmentId, config.configurationProfileId);
    const flag = content === undefined ? undefined : parseFlagsDocument(content).flags[config.flagKey];
    const rule = flag?.rules?.find((r) => r.name === GUARDED_RULE_NAME);
    let outcome: FlagRolloutOutcome;
    if (run.status === 'SUCCEEDED') outcome = rule?.percent === 100 ? 'COMPLETED' : 'FAILED';
    else if (run.error === FlagRolloutErrorName.ROLLED_BACK) outcome = 'ROLLED_BACK';
    else if (run.error === FlagRolloutErrorName.ROLLBACK_FAILED) outcome = 'ROLLBACK_FAILED';
    else if (run.error === FlagRolloutErrorName.INVALID || run.error === ErrorName.ROLLOUT_IN_PROGRESS) outcome = 'REFUSED';
    else outcome = 'FAILED';
    // Detection: the rollout entered one of its rollback triggers; the blast radius: the treatment's requests failed
    // above its baseline from the start to the end of the execution (the rollback's deployment included).
    const triggers = rollbackTriggerStatesOf(machine.definition, ROLLBACK_STATE);
    const detected = run.events.find((e) => e.type === 'StateEntered' && triggers.has(e.state ?? ''));
    const regressionAt = traffic.regressionStartedAt(startedAt, run.stoppedAt, [config.treatment]);
    return {
      scenario: scenario.name,
      flagKey: config.flagKey,
      outcome,
      executionStatus: run.status,
      error: run.error,
      cause: run.cause,
      trigger,
      durationMs: run.durationMs,
      realDurationMs: run.realDurationMs,
      regressionStartedAtMs: regressionAt === undefined ? undefined : regressionAt - startedAt,
      detectedAtMs: detected ? detected.at - startedAt : undefined,
      timeToDetectMs: detected && regressionAt !== undefined ? Math.max(0, detected.at - regressionAt) : undefined,
      failedRequests: traffic.failedRequests(startedAt, run.stoppedAt, [config.treatment]),
      totalRequests: traffic.totalRequests(startedAt, run.stoppedAt),
      phases,
      finalRule: rule ? { percent: rule.percent, segments: rule.segments } : undefined,
      deployments: aws.appconfig.deployments(config.applicationId, config.environmentId).length - deploymentsBefore,
      lockOwnerAfter: lockItem()?.[StateTable.LOCK_OWNER]?.S,
      events,
      timeline: timeline.entries,
    };
  } finally {
    local.close();
  }
}

/** The flag's default variant in the deployed document (the control). */
function controlName(aws: AwsFakes, config: FlagRolloutConfig): string {
  const content = aws.appconfig.deployedContent(config.applicationId, config.environmentId, config.configurationProfileId);
  const flag = content === undefined ? undefined : parseFlagsDocument(content).flags[config.flagKey];
  if (!flag) return 'off';
  return typeof flag.default === 'string' ? flag.default : flag.default ? 'on' : 'off';
}

/** A result for a person: outcome, phases, cause. */
export function renderFlagRehearsal(result: FlagRehearsalResult): string {
  const lines = [
    `Flag rollout rehearsal "${result.scenario}" of flag ${result.flagKey}: ${result.outcome}${result.trigger ? ` (${result.trigger})` : ''}`,
    `Virtual duration ${(result.durationMs / 3_600_000).toFixed(1)} h, rehearsed in ${(result.realDurationMs / 1000).toFixed(1)} s; ${result.deployments} AppConfig deployment(s).`,
    ...result.timeline.map((e) => `  +${(e.atMs / 3_600_000).toFixed(2)} h  ${e.text}`),
  ];
  if (result.cause) lines.push(`Cause: ${result.cause}`);
  return lines.join('\n');
}
