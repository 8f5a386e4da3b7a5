/**
 * One rehearsal world: a virtual clock, the AWS fakes installed behind the SDK clients, the stacks deployed into
 * them, the traffic model as CloudWatch's source of ALB metrics, and the rollout state machine bound to the real
 * handlers. `rehearse()` is create + run + summarize + dispose; tests that need several executions in one world
 * (a crashed execution, then another after its lock expired) use a Simulation directly.
 */
import { liveColorOf, toPercentages } from '../lambda/routing/weights';
import { abortRequest, promoteFullRequest } from '../lambda/rollout/operator-request';
import { BAKE_TOKEN_WRITE, Color, CONFIG_ENV, ErrorName, GuardResult, JudgeConfig, otherColor, RolloutInput, RouterConfig, StateTable } from '../lambda/shared/contracts';
import type { RolloutStrategy } from '../lib/rollout/rollout-strategy';
import type { AslDefinition } from './asl';
import { estimateCost, lambdaUsageOf } from './cost';
import { Deployer, DeployedLiveRoute, StackTemplate } from './deployer';
import { AwsFakes, forwardWeightsOf } from './fakes';
import { bindFunctions, functionsInvokedBy, handlerConfigOf, handlerFunctionsOf, HandlerFunctionInfo, lambdaFunctionsOf } from './handlers';
import type { RehearsalOutcome, RehearsalResult, RehearsalSummary, TimelineEntry } from './result';
import type { LambdaFunctionHandler, RunResult, TaskTokenDecision, TaskTokenHandler, TimelineEvent } from './runner';
import type { OperatorAction, Scenario } from './scenarios';
import type { Role, SimulationWorld } from './simulation-world';
export type { SimulationWorld } from './simulation-world';
import { ScheduledClock } from './simulation-clock';
import { SimulatedProbes } from './simulation-probes';
import type { TestReportGateConfig } from '../lambda/gates/gate-contract';
import { setHttpTransport } from '../lambda/gates/http-probe';
import { setDatabaseProbe } from '../lambda/gates/database-probe';
import { asyncRetryAttemptsOf, eventRulesOf, EXECUTION_STATUS_CHANGE, RuleInvocation, SimulatedEventBridge, STATES_EVENT_SOURCE } from './simulation-events';
import { describePlan, planOf, RehearsalTarget, rollbackTriggerStatesOf, selectRollout, stacksOf, withStrategy } from './simulation-target';
import { CfnTemplate, stateMachineOf } from './template';
import { Random } from './random';
import { TrafficModel } from './traffic-model';
import { RELEASE_SIGNAL_INGESTION_DELAY_SECONDS, ReleaseSignalSource, releaseSignalEnvironmentOf } from './release-signal-source';
import { AlarmEventPublisher } from './simulation-alarm-events';
import { DEFAULT_VIRTUAL_EPOCH_MS, VirtualClock } from './virtual-clock';
import { bindLibraryHandlers, openLocalAws, runInLocalAws } from './local-aws';

const MS_PER_SECOND = 1000;

/**
 * Assumed time of one AWS API call from a Lambda in the same region (a typical median; the rehearsal has no network).
 * They make "detection -> safe" a duration instead of 0: a rollback is a describe, a write and a verifying read.
 */
export const API_LATENCY_MS = { elbv2: 100, cloudwatch: 50, dynamodb: 10, events: 30, sns: 30 } as const;
/**
 * Assumed delay before a minute of ALB metrics is visible in CloudWatch, to the judge and to alarms alike (ALB
 * reports every 60 s; the data typically lands within a minute or two). Less than ProgressiveRollout's default
 * metricDelay (2 minutes), as it must be in production too.
 */
export const METRIC_INGESTION_DELAY_SECONDS = 90;

/** Traffic runs this long before the rollout starts, so that alarms have settled on the stable color. */
export const DEFAULT_WARMUP_SECONDS = 600;
/** Step of the chart's series. */
export const DEFAULT_SERIES_STEP_SECONDS = 10;
const DEFAULT_REQUESTS_PER_SECOND = 1000;
const ROLLBACK_STATE = 'Rollback';
const JUDGE_STATE = 'Judge';
/** Handler (cdk-zero-downtime:handler) of the rollout's guard, the ExecutionEnded rule's target. */
const GUARD_HANDLER = 'guard';
/** Errors a preflight refusal ends with. */
const REFUSAL_ERRORS: ReadonlySet<string> = new Set([ErrorName.ROLLOUT_IN_PROGRESS, ErrorName.TARGETS_UNHEALTHY, ErrorName.ALARM_NOT_FOUND,
  ErrorName.ALREADY_LIVE, ErrorName.ROUTE_INVALID, ErrorName.INVALID_REQUEST]);
/** Methods of FakeAlb that change routing or target health: the traffic model re-reads the ALB after each. */
const ALB_WRITES = ['createRule', 'modifyRule', 'deleteRule', 'setRulePriorities', 'modifyListener', 'createListener', 'deleteListener',
  'registerTargets', 'deregisterTargets', 'setTargetHealth'] as const;

export interface SimulationOptions {
  /** The state machine to run when the app has several: logical id, <stack>/<logicalId> or construct path. */
  readonly rollout?: string;
  readonly scenario: Scenario;
  /**
   * Strategy to run instead of the synthesized one. The rehearsal rewrites the plan the state machine carries (its
   * Plan state), as a redeploy with that strategy would; judge interval, inconclusive policy and circuit breaker
   * stay as synthesized. @default - the synthesized strategy (or the scenario's)
   */
  readonly strategy?: RolloutStrategy;
  /** Epoch ms at which the rollout starts. @default 2026-01-05T09:00:00Z */
  readonly startAtMs?: number;
  /** @default 600 */
  readonly warmupSeconds?: number;
  /** Delay before a minute of metrics is visible in CloudWatch. @default METRIC_INGESTION_DELAY_SECONDS (90) */
  readonly metricIngestionDelaySeconds?: number;
  /** @default 10 */
  readonly seriesStepSeconds?: number;
  /** Called with every timeline entry as it happens (live output). */
  readonly onTimeline?: (entry: TimelineEntry) => void;
  /** Handler logs on stdout (ZDT_LOG_LEVEL). @default 'silent' */
  readonly logLevel?: string;
  /**
   * Your own Lambda functions the rollout invokes (traffic hooks), by the logical id of their
   * AWS::Lambda::Function in the rollout's stack, as in-process implementations. The library's handlers are bound
   * from the template already. @default - none
   */
  readonly functions?: Readonly<Record<string, LambdaFunctionHandler>>;
  /**
   * Seed of the stochastic traffic model (rehearsal/traffic-model.ts: Poisson requests, binomial errors, sampled
   * latencies) and of the retry jitter. @default - the deterministic traffic model (and jitter seed 1)
   */
  readonly seed?: number;
}


/** Result of one execution in the world, with what the rehearsal saw around it. */
export interface ExecutionRecord {
  readonly run: RunResult;
  readonly input: RolloutInput;
}

export class Simulation implements SimulationWorld {
  static async create(target: RehearsalTarget, options: SimulationOptions): Promise<Simulation> {
    const sim = new Simulation(stacksOf(target), options);
    try {
      await sim.setUp();
    } catch (err) {
      sim.dispose();
      throw err;
    }
    return sim;
  }

  readonly clock: ScheduledClock;
  readonly aws: AwsFakes;
  readonly deployer: Deployer;
  readonly originMs: number;
  readonly timeline: TimelineEntry[] = [];
  /** Executions started in this world, in start order. */
  readonly executions: ExecutionRecord[] = [];
  model!: TrafficModel;
  stackName!: string;
  routerConfig!: RouterConfig;
  judgeConfig!: JudgeConfig;
  liveRoute!: DeployedLiveRoute;
  tableName!: string;
  service!: string;
  colors!: Record<Role, Color>;
  definition!: AslDefinition;
  stateMachineArn!: string;
  private lambdas!: Map<string, LambdaFunctionHandler>;
  private functions: HandlerFunctionInfo[] = [];
  private readonly restorers: Array<() => void> = [];
  private seen = { alarmChanges: 0, events: 0, calls: 0 };
  private armed = new Set<number>();
  private lastWeights = '';
  private readonly pauseDecisions: OperatorAction[];
  private readonly scenario: Scenario;
  /** The rules of the deployed stacks, honoured (rehearsal/simulation-events.ts). */
  bus!: SimulatedEventBridge;
  /** CloudWatch's alarm events to the bus, ticking while an execution runs (when a rule listens to them). */
  private alarmEvents?: AlarmEventPublisher;
  /** StopExecution calls, by execution ARN: when and why. */
  private readonly stops = new Map<string, { at: number; error?: string; cause?: string }>();

  private constructor(readonly stacks: readonly StackTemplate[], private readonly options: SimulationOptions) {
    this.scenario = options.scenario;
    this.originMs = options.startAtMs ?? DEFAULT_VIRTUAL_EPOCH_MS;
    this.clock = new ScheduledClock(new VirtualClock(this.originMs - (options.warmupSeconds ?? DEFAULT_WARMUP_SECONDS) * MS_PER_SECOND));
    const local = openLocalAws(this.clock, {
      logLevel: options.logLevel,
      aws: { latencyMs: API_LATENCY_MS, metricIngestionDelaySeconds: options.metricIngestionDelaySeconds ?? METRIC_INGESTION_DELAY_SECONDS },
    });
    this.aws = local.aws;
    this.restorers.push(local.close);
    this.deployer = new Deployer(this.aws);
    this.pauseDecisions = (this.scenario.operator ?? []).filter((a) => (a.kind === 'promote' || a.kind === 'abort') && a.atSeconds === undefined);
  }

  /** This world itself (what rehearse()'s `inspect` gets). */
  get simulation(): Simulation {
    return this;
  }

  /** Puts the clock, SDK clients and environment back as they were. Idempotent. */
  dispose(): void {
    while (this.restorers.length > 0) this.restorers.pop()!();
  }

  private async setUp(): Promise<void> {
    const candidate = selectRollout(this.stacks, this.options.rollout);
    this.stackName = candidate.stackName;
    this.observeAlbWrites();
    await this.deployer.deploy(this.stacks);
    const template = this.deployer.template(this.stackName);
    const resolverOptions = this.deployer.resolverOptions(this.stackName);
    const machine = stateMachineOf(template, candidate.logicalId, resolverOptions);
    const strategy = this.options.strategy ?? this.scenario.strategy;
    this.definition = strategy ? withStrategy(machine.definition, strategy) : machine.definition;
    this.stateMachineArn = machine.stateMachineArn;
    this.functions = functionsInvokedBy(this.definition, handlerFunctionsOf(template, resolverOptions));
    const config = <T>(handler: string): T => handlerConfigOf<T>(this.functions, handler, `the rollout ${candidate.logicalId}`);
    this.routerConfig = config<RouterConfig>('router');
    this.judgeConfig = config<JudgeConfig>('judge');
    const lockConfig = config<{ tableName: string; service: string; initialLiveColor: Color }>('lock');
    this.tableName = lockConfig.tableName;
    this.service = lockConfig.service;
    const route = this.deployer.liveRoutes().find((r) => r.ruleArn === this.routerConfig.liveRuleArn)
      // A routing imported by ARN (another app's BlueGreenRouting): it exists in the account before the rehearsal.
      ?? (this.routerConfig.liveRuleArn.startsWith('arn:') ? this.deployer.importLiveRoute({
        stackName: this.stackName,
        ruleArn: this.routerConfig.liveRuleArn,
        listenerArn: this.routerConfig.listenerArn,
        targetGroupArns: this.routerConfig.targetGroupArns,
        priority: this.routerConfig.segmentRulePriority + 1,
        initialColor: lockConfig.initialLiveColor,
      }) : undefined);
    if (!route) throw new Error(`rehearse: the router's live rule ${this.routerConfig.liveRuleArn} is neither a deployed Custom::ZdtLiveRoute nor an imported rule's ARN`);
    this.liveRoute = route;
    const stable = liveColorOf(this.albWeights()) ?? 'blue';
    const release = this.scenario.input?.targetColor ?? otherColor(stable);
    this.colors = { stable: release === stable ? otherColor(release) : stable, release };

    for (const role of ['stable', 'release'] as const) {
      const health = this.scenario.targetHealth?.[role];
      if (health) this.aws.alb.setTargetHealth(route.targetGroupArns[this.colors[role]], health);
    }
    await this.scenario.setup?.(this);
    const profiles = this.scenario.profiles ?? {};
    this.model = new TrafficModel({
      clock: this.clock,
      alb: this.aws.alb,
      listenerArn: route.listenerArn,
      loadBalancerArn: route.loadBalancerArn,
      targetGroupArns: route.targetGroupArns,
      originMs: this.originMs,
      requestsPerSecond: this.scenario.traffic?.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
      profiles: { [this.colors.stable]: profiles.stable ?? {}, [this.colors.release]: profiles.release ?? {} } as Record<Color, never>,
      segments: this.scenario.traffic?.segments,
      segmentHeader: this.routerConfig.segmentHeader,
      seed: this.options.seed,
    });
    this.restorers.push(this.aws.cloudwatch.addMetricSource(this.model));
    // The application's own per-color signal (ReleaseMetrics), when the scenario's application emits it and the color
    // stacks told it its service and color (rehearsal/release-signal-source.ts).
    const signal = this.scenario.releaseSignal ? releaseSignalEnvironmentOf(this.stacks) : undefined;
    if (signal) {
      this.restorers.push(this.aws.cloudwatch.addMetricSource(new ReleaseSignalSource({
        ...signal, alb: this.model, loadBalancerArn: route.loadBalancerArn, targetGroupArns: route.targetGroupArns,
      })));
      this.aws.cloudwatch.setIngestionDelay(signal.namespace, RELEASE_SIGNAL_INGESTION_DELAY_SECONDS);
    }
    // The validation gates' requests and database checks, answered by this world (rehearsal/simulation-probes.ts).
    const probes = new SimulatedProbes({
      clock: this.clock,
      alb: this.aws.alb,
      loadBalancerArn: route.loadBalancerArn,
      targetGroupArns: route.targetGroupArns,
      profiles: { [this.colors.stable]: profiles.stable ?? {}, [this.colors.release]: profiles.release ?? {} },
      answers: { [this.colors.stable]: this.scenario.probes?.stable ?? {}, [this.colors.release]: this.scenario.probes?.release ?? {} },
      weightOf: (color) => this.model.weightsAt(this.clock.now())[color],
      originMs: this.originMs,
      // Its own stream: the gates' draws never shift the retry jitter's or the traffic's.
      random: Random.seeded(this.options.seed ?? 0, 'gate-probes'),
      database: this.scenario.database,
    });
    this.restorers.push(setHttpTransport(probes), setDatabaseProbe(probes));
    // The functional-test gate's build runs the scenario's suite through the same simulated service.
    const testGate = this.functions.find((f) => f.handlerName === 'test-report-gate');
    this.aws.codebuild.runSuite({
      transport: probes,
      reportGroupArn: testGate && (JSON.parse(testGate.environment[CONFIG_ENV]) as TestReportGateConfig).reportGroupArn,
      suite: this.scenario.functionalTests,
    });
    await this.clock.advanceTo(this.originMs);
    this.aws.cloudwatch.evaluateAlarms();
    this.seen = { alarmChanges: this.aws.cloudwatch.stateChanges().length, events: this.aws.events.events().length, calls: this.aws.calls.length };
    this.lastWeights = JSON.stringify(this.model.weightsAt(this.originMs));
    this.lambdas = new Map([
      ...bindLibraryHandlers(template, resolverOptions),
      ...bindFunctions(template, this.options.functions ?? {}, resolverOptions),
    ]);
    this.setUpEventBridge();
    // Rules on CloudWatch's alarm events (event-driven rollback) hear them as CloudWatch sends them.
    if (AlarmEventPublisher.wanted(this.bus)) {
      this.alarmEvents = new AlarmEventPublisher({ clock: this.clock, cloudwatch: this.aws.cloudwatch, bus: this.bus, region: this.aws.region, accountId: this.aws.accountId });
    }
    for (const [i, fault] of (this.scenario.faults ?? []).entries()) {
      if (!fault.whenState) this.armFault(i);
    }
    this.scheduleOperator();
  }

  /**
   * Runs one execution of the rollout (concurrent runs share the world). When it has ended, Step Functions'
   * "Execution Status Change" reaches EventBridge and the rules it matches run their targets (the guard); this
   * returns once they are done.
   */
  async run(input: RolloutInput = this.scenario.input ?? {}, options: { signal?: AbortSignal; executionName?: string } = {}): Promise<RunResult> {
    const first = this.executions.length === 0;
    const stop = !options.signal && first ? this.scheduleStop() : undefined;
    this.alarmEvents?.start();
    let run: RunResult;
    try {
      run = await runInLocalAws(this.aws, {
        definition: this.definition,
        input,
        clock: this.clock,
        stateMachineArn: this.stateMachineArn,
        executionName: options.executionName,
        lambdas: this.lambdas,
        // Tokens are also open on the SFN API: a handler, a rule's target or the CLI may answer first (first answer wins).
        taskTokens: this.taskTokens(),
        onEvent: (event) => this.onEvent(event, first),
        signal: options.signal ?? stop?.controller.signal,
        // Retry jitter from a seeded PRNG, so every rehearsal of a scenario and seed is identical.
        seed: this.options.seed,
      });
    } finally {
      this.alarmEvents?.stop();
    }
    this.executions.push({ run, input });
    if (stop?.stopped && run.status === 'ABORTED') this.stops.set(run.executionArn, stop.stopped);
    if (stop) stop.ended = true;
    this.publishStatusChange(run, input);
    await this.bus.drain();
    this.poll();
    return run;
  }

  /** Rule target invocations about an execution (its status change, its events). */
  ruleInvocations(run?: RunResult): RuleInvocation[] {
    return this.bus.invocations.filter((i) => run === undefined || i.executionArn === run.executionArn);
  }

  /** The live rule's weights by color, as the fake ALB holds them. */
  albWeights(): Record<Color, number> {
    const rule = this.aws.alb.describeRules({ RuleArns: [this.liveRoute.ruleArn] }).Rules![0];
    const weights = forwardWeightsOf(rule.Actions ?? []) ?? {};
    const raw = { blue: weights[this.liveRoute.targetGroupArns.blue] ?? 0, green: weights[this.liveRoute.targetGroupArns.green] ?? 0 };
    // The router's own rounding: a trickle never reads as 0 or 100, so a 1/999 split is not reported as released.
    return raw.blue + raw.green === 0 ? raw : toPercentages(raw, this.liveRoute.ruleArn);
  }

  /** The state item of the service in the fake table (attribute name -> string or number). */
  stateItem(): Record<string, string | number> {
    const item = this.aws.dynamodb.items(this.tableName).find((i) => i[StateTable.PARTITION_KEY]?.S === this.service) ?? {};
    return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.S ?? Number(v.N)]));
  }

  /** The RehearsalResult of an execution of this world (by default the first). */
  result(run: RunResult = this.executions[0].run): RehearsalResult {
    this.poll();
    const startedAt = run.startedAt;
    const stoppedAt = run.stoppedAt;
    const rel = (t: number) => t - this.originMs;
    const of = run.events;
    const triggers = rollbackTriggerStatesOf(this.definition, ROLLBACK_STATE);
    const stateDetected = of.find((e) => e.type === 'StateEntered' && triggers.has(e.state ?? ''));
    const caughtRollback = of.some((e) => e.type === 'StateCaught' && e.state === ROLLBACK_STATE);
    const stateSafe = caughtRollback ? undefined : [...of].reverse().find((e) => e.type === 'StateExited' && e.state === ROLLBACK_STATE);
    // What the rules did once the execution ended (the guard restoring traffic after a StopExecution...).
    const invocations = this.ruleInvocations(run);
    const settledAt = Math.max(stoppedAt, ...invocations.map((i) => i.endedAt));
    const guard = [...invocations].reverse().find((i) => i.handlerName === GUARD_HANDLER && !i.error && (i.result as GuardResult | undefined)?.action === 'restored');
    const guardColor = (guard?.result as GuardResult | undefined)?.liveColor;
    const stop = this.stops.get(run.executionArn);
    const weightChanges = this.aws.alb.weightHistory(this.liveRoute.ruleArn).filter((c) => c.time >= startedAt && c.time <= stoppedAt);
    const finalWeights = this.albWeights();
    const liveColor = liveColorOf(finalWeights);
    let outcome: RehearsalOutcome;
    if (run.status === 'SUCCEEDED') outcome = liveColor === this.colors.release ? 'RELEASED' : 'FAILED';
    else if (run.error === ErrorName.ROLLED_BACK) outcome = 'ROLLED_BACK';
    else if (run.error === ErrorName.ROLLBACK_FAILED) outcome = 'ROLLBACK_FAILED';
    else if (run.error !== undefined && REFUSAL_ERRORS.has(run.error) && weightChanges.length === 0) outcome = 'REFUSED';
    else outcome = 'FAILED';
    // The execution could not clean up (stopped, timed out, rollback failed) but the guard restored the stable color.
    const guardRolledBack = guard !== undefined && (outcome === 'FAILED' || outcome === 'ROLLBACK_FAILED') && liveColor !== null && liveColor === guardColor;
    if (guardRolledBack) outcome = 'ROLLED_BACK';
    const detected = stateDetected ? { at: stateDetected.at } : guardRolledBack ? { at: stop?.at ?? stoppedAt } : undefined;
    const safe = stateSafe ? { at: stateSafe.at } : guardRolledBack ? { at: guard!.endedAt } : undefined;
    const ended = run.cause ?? (stop ? `Stopped by StopExecution${stop.cause ? `: ${stop.cause}` : ''}` : `The execution ended ${run.status}`);
    const cause = guardRolledBack
      ? `${ended}; then rule ${guard!.ruleLogicalId} ran the guard (${guard!.functionName}), which restored 100% to ${guardColor} (verified) and released the lock`
      : run.cause;
    const regressionAt = this.model.regressionStartedAt(stoppedAt);
    const stateTransitions = run.stateTransitions;
    const lambdaInvocations = Object.values(run.taskInvocations.byFunction).reduce((a, b) => a + b, 0) + invocations.length;
    // Each function billed at its own memory and architecture: the state machine's tasks (its stack), the rules' targets (theirs).
    // Only the invoked functions are sized: one nobody called is never resolved.
    const usageOf = (stackName: string, counts: Readonly<Record<string, number>>) => lambdaUsageOf(
      lambdaFunctionsOf(this.deployer.template(stackName), this.deployer.resolverOptions(stackName), new Set(Object.keys(counts))), counts, `stack ${stackName}`);
    const ruleInvocationsOf = (stackName: string) => invocations.filter((i) => i.stackName === stackName)
      .reduce<Record<string, number>>((counts, i) => ({ ...counts, [i.functionName]: (counts[i.functionName] ?? 0) + 1 }), {});
    const lambdaUsage = [
      ...usageOf(this.stackName, run.taskInvocations.byFunction),
      ...[...new Set(invocations.map((i) => i.stackName))].flatMap((stackName) => usageOf(stackName, ruleInvocationsOf(stackName))),
    ];
    const plan = planOf(this.definition);
    const summary: RehearsalSummary = {
      scenario: this.scenario.name,
      strategy: describePlan(plan),
      outcome,
      executionStatus: run.status,
      error: run.error,
      cause,
      durationMs: run.durationMs,
      regressionStartedAtMs: regressionAt === undefined ? undefined : rel(regressionAt),
      detectedAtMs: detected ? rel(detected.at) : undefined,
      safeAtMs: safe ? rel(safe.at) : undefined,
      timeToDetectMs: detected && regressionAt !== undefined ? Math.max(0, detected.at - regressionAt) : undefined,
      timeToSafeMs: detected && safe ? safe.at - detected.at : undefined,
      failedRequests: this.model.failedRequests(startedAt, settledAt),
      totalRequests: this.model.totalRequests(startedAt, settledAt),
      finalWeights,
      liveColor,
      stateTransitions,
      lambdaInvocations,
      estimatedCostUsd: estimateCost({ stateTransitions, lambdas: lambdaUsage }).totalUsd,
      events: this.aws.events.events().filter((e) => e.time >= startedAt && e.time <= settledAt && (e.detail as { execution?: string }).execution === run.executionArn)
        .map((e) => ({ atMs: rel(e.time), detailType: e.detailType, detail: e.detail })),
    };
    const timeline = [...this.timeline];
    if (regressionAt !== undefined) {
      timeline.push({ atMs: rel(regressionAt), kind: 'note', text: 'regression starts: the new release serves its first bad requests' });
    }
    timeline.sort((a, b) => a.atMs - b.atMs);
    const step = (this.options.seriesStepSeconds ?? DEFAULT_SERIES_STEP_SECONDS) * MS_PER_SECOND;
    return { summary, timeline, series: this.model.series(startedAt, settledAt, step) };
  }

  // -- internals ------------------------------------------------------------------------------------------------

  private emit(entry: TimelineEntry): void {
    if (entry.atMs < 0) return;
    this.timeline.push(entry);
    this.options.onTimeline?.(entry);
  }

  private observeAlbWrites(): void {
    const alb = this.aws.alb as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const name of ALB_WRITES) {
      const original = alb[name];
      alb[name] = (...args: unknown[]) => {
        const out = original.apply(this.aws.alb, args);
        this.afterAlbWrite();
        return out;
      };
      this.restorers.push(() => { delete alb[name]; });
    }
  }

  private afterAlbWrite(): void {
    if (!this.model) return;
    this.model.observe();
    const now = this.clock.now();
    const weights = this.model.weightsAt(now);
    const key = JSON.stringify(weights);
    if (key === this.lastWeights) return;
    this.lastWeights = key;
    this.emit({ atMs: now - this.originMs, kind: 'weights', text: `weights blue ${weights.blue}% / green ${weights.green}%`, weights });
  }

  private armFault(index: number): void {
    if (this.armed.has(index)) return;
    this.armed.add(index);
    const { whenState: _whenState, ...spec } = this.scenario.faults![index];
    this.aws.faults.add(spec);
  }

  /** Alarm changes, events and injected faults since the last poll, onto the timeline. */
  private poll(): void {
    this.aws.cloudwatch.evaluateAlarms();
    const changes = this.aws.cloudwatch.stateChanges();
    for (const c of changes.slice(this.seen.alarmChanges)) {
      this.emit({ atMs: c.time - this.originMs, kind: 'alarm', text: `alarm ${c.alarmName}: ${c.from} -> ${c.to}` });
    }
    const events = this.aws.events.events();
    for (const e of events.slice(this.seen.events)) {
      this.emit({ atMs: e.time - this.originMs, kind: 'event', text: describeEvent(e.detailType, e.detail) });
    }
    const calls = this.aws.calls;
    for (const c of calls.slice(this.seen.calls)) {
      if (c.injected) this.emit({ atMs: c.time - this.originMs, kind: 'fault', text: `${c.service} ${c.command} failed: ${c.error} (injected)` });
      if (c.delayedMs) this.emit({ atMs: c.time - this.originMs, kind: 'fault', text: `${c.service} ${c.command} slowed down: ${c.delayedMs} ms more (injected)` });
    }
    this.seen = { alarmChanges: changes.length, events: events.length, calls: calls.length };
  }

  private onEvent(event: TimelineEvent, primary: boolean): void {
    if (event.type === 'StateEntered' && event.state) {
      (this.scenario.faults ?? []).forEach((f, i) => { if (f.whenState === event.state) this.armFault(i); });
    }
    this.poll();
    const atMs = event.at - this.originMs;
    const prefix = primary ? '' : '[second rollout] ';
    if (event.type === 'StateEntered') {
      this.emit({ atMs, kind: 'state', text: `${prefix}${event.state}`, state: event.state });
    } else if (event.type === 'StateExited' && event.state === JUDGE_STATE) {
      const verdict = (event.output as { verdict?: { verdict?: string; reasons?: string[] } } | undefined)?.verdict;
      if (verdict?.verdict) {
        this.emit({ atMs, kind: 'verdict', state: event.state, verdict: verdict.verdict as never,
          text: `${prefix}judge: ${verdict.verdict}${verdict.reasons?.length ? ` (${verdict.reasons.join('; ')})` : ''}` });
      }
    } else if (event.type === 'ExecutionFailed' || event.type === 'ExecutionSucceeded' || event.type === 'ExecutionAborted' || event.type === 'ExecutionTimedOut') {
      this.emit({ atMs, kind: 'state', text: `${prefix}execution ${event.type.replace('Execution', '').toLowerCase()}${event.error ? `: ${event.error}` : ''}` });
    }
  }

  /**
   * The operator at a manual pause: the scenario's next promote / abort, or a timed abort, or the pause times out.
   * When the token was answered through the SFN API meanwhile (request.signal), the operator answers nothing.
   */
  private taskTokens(): TaskTokenHandler {
    return async (_token, request): Promise<TaskTokenDecision | undefined> => {
      if ((request.payload as { UpdateExpression?: string } | undefined)?.UpdateExpression === BAKE_TOKEN_WRITE.UPDATE) {
        // An event-driven bake: only a high-resolution alarm's handler answers it (through the SFN API, which aborts
        // this wait); otherwise its timeout, one judge interval, is the ordinary "judge now". Not the operator's.
        await this.clock.sleep((request.timeoutSeconds ?? 0) * MS_PER_SECOND, request.signal);
        if (request.signal.aborted) return undefined;
        return { error: 'States.Timeout', cause: `The bake's judge interval (${request.timeoutSeconds} s) is over` };
      }
      const decision = this.pauseDecisions.shift();
      const note = (text: string) => this.emit({ atMs: this.clock.now() - this.originMs, kind: 'note', text });
      if (decision?.kind === 'promote') {
        await this.clock.sleep((decision.thinkSeconds ?? 0) * MS_PER_SECOND, request.signal);
        if (request.signal.aborted) return undefined;
        note(decision.full ? 'operator: zdt promote --full' : 'operator: promote');
        return { output: { promoted: true, ...(decision.full ? { full: true } : {}) } };
      }
      if (decision?.kind === 'abort') {
        await this.clock.sleep((decision.thinkSeconds ?? 0) * MS_PER_SECOND, request.signal);
        if (request.signal.aborted) return undefined;
        note('operator: abort');
        return { error: ErrorName.ABORTED, cause: decision.reason ?? 'aborted by the operator' };
      }
      const timed = (this.scenario.operator ?? []).find((a): a is Extract<OperatorAction, { kind: 'abort' }> =>
        a.kind === 'abort' && a.atSeconds !== undefined && this.originMs + a.atSeconds * MS_PER_SECOND >= this.clock.now());
      const timeoutMs = (request.timeoutSeconds ?? 0) * MS_PER_SECOND;
      if (timed && this.originMs + timed.atSeconds! * MS_PER_SECOND - this.clock.now() <= timeoutMs) {
        await this.clock.sleep(this.originMs + timed.atSeconds! * MS_PER_SECOND - this.clock.now(), request.signal);
        if (request.signal.aborted) return undefined;
        return { error: ErrorName.ABORTED, cause: timed.reason ?? 'aborted by the operator' };
      }
      await this.clock.sleep(timeoutMs, request.signal);
      if (request.signal.aborted) return undefined;
      note('nobody answered the pause: it times out');
      return { error: 'States.Timeout', cause: `No promote or abort within ${request.timeoutSeconds} seconds` };
    };
  }

  /**
   * The rules of every deployed stack on the simulated EventBridge; every PutEvents the fakes accept (the guard's
   * SDK client, the state machine's integration) reaches them.
   */
  private setUpEventBridge(): void {
    const bound = new Map<string, { lambdas: Map<string, LambdaFunctionHandler>; functions: HandlerFunctionInfo[] } | undefined>();
    const lambdasOf = (stackName: string) => {
      if (!bound.has(stackName)) {
        const template: CfnTemplate = this.deployer.template(stackName);
        const options = this.deployer.resolverOptions(stackName);
        try {
          const lambdas = stackName === this.stackName ? this.lambdas : bindLibraryHandlers(template, options);
          bound.set(stackName, { lambdas, functions: handlerFunctionsOf(template, options) });
        } catch {
          bound.set(stackName, undefined);
        }
      }
      return bound.get(stackName);
    };
    const retries = new Map<string, Map<string, number>>();
    const rules = this.deployer.stackNames().flatMap((stackName) => {
      const template = this.deployer.template(stackName);
      const options = this.deployer.resolverOptions(stackName);
      retries.set(stackName, asyncRetryAttemptsOf(template, options));
      return eventRulesOf(stackName, template, options);
    });
    this.bus = new SimulatedEventBridge({
      clock: this.clock,
      region: this.aws.region,
      accountId: this.aws.accountId,
      rules,
      lambda: (stackName, functionName) => {
        const stack = lambdasOf(stackName);
        const handler = stack?.lambdas.get(functionName);
        return handler && { handler, handlerName: stack!.functions.find((f) => f.functionName === functionName)?.handlerName };
      },
      asyncRetryAttempts: (stackName, functionName) => retries.get(stackName)?.get(functionName),
      onTimeline: (at, kind, text) => this.emit({ atMs: at - this.originMs, kind, text }),
    });
    this.restorers.push(this.aws.events.onDeliver((_params, _result, accepted) => this.bus.accepted(accepted)));
  }

  /** What Step Functions sends to the default bus when an execution ends ("Step Functions Execution Status Change"). */
  private publishStatusChange(run: RunResult, input: RolloutInput): void {
    const stop = this.stops.get(run.executionArn);
    const output = run.output === undefined ? null : JSON.stringify(run.output);
    this.bus.publish(this.bus.envelope(STATES_EVENT_SOURCE, EXECUTION_STATUS_CHANGE, {
      executionArn: run.executionArn,
      stateMachineArn: this.stateMachineArn,
      name: run.executionArn.split(':').pop(),
      status: run.status,
      startDate: run.startedAt,
      stopDate: run.stoppedAt,
      input: JSON.stringify(input),
      output,
      inputDetails: { included: true },
      outputDetails: output === null ? null : { included: true },
      error: run.error ?? stop?.error ?? null,
      cause: run.cause ?? stop?.cause ?? null,
    }, [run.executionArn]));
  }

  /** The scenario's StopExecution of the first execution: an abort signal raised at its time (the runner's ABORTED). */
  private scheduleStop(): { controller: AbortController; ended: boolean; stopped?: { at: number; error?: string; cause?: string } } | undefined {
    const action = (this.scenario.operator ?? []).find((a): a is Extract<OperatorAction, { kind: 'stop' }> => a.kind === 'stop');
    if (!action) return undefined;
    const handle: { controller: AbortController; ended: boolean; stopped?: { at: number; error?: string; cause?: string } } = { controller: new AbortController(), ended: false };
    this.clock.schedule({
      at: this.originMs + action.atSeconds * MS_PER_SECOND,
      label: 'StopExecution',
      run: () => {
        if (handle.ended) return;
        handle.stopped = { at: this.clock.now(), error: action.error, cause: action.cause };
        this.emit({ atMs: this.clock.now() - this.originMs, kind: 'note', text: `operator: StopExecution${action.cause ? ` (${action.cause})` : ''}` });
        handle.controller.abort();
      },
    });
    return handle;
  }

  private scheduleOperator(): void {
    for (const action of this.scenario.operator ?? []) {
      if (action.kind === 'secondRollout') {
        this.clock.schedule({
          at: this.originMs + action.atSeconds * MS_PER_SECOND,
          label: 'second rollout',
          run: async () => {
            this.emit({ atMs: action.atSeconds * MS_PER_SECOND, kind: 'note', text: 'operator: a second rollout of the same service starts' });
            const second = await this.run(action.input ?? {}, { executionName: 'second-rollout' });
            this.emit({ atMs: second.stoppedAt - this.originMs, kind: 'note', text: `second rollout ended ${second.status}: ${second.error ?? ''} ${second.cause ?? ''}`.trim() });
          },
        });
      } else if (action.kind === 'stackUpdate') {
        this.clock.schedule({
          at: this.originMs + action.atSeconds * MS_PER_SECOND,
          label: 'stack update',
          run: async () => {
            const report = await this.deployer.update(action.transform(this.stacks.map((s) => ({ stackName: s.stackName, template: this.deployer.template(s.stackName) }))));
            this.emit({ atMs: action.atSeconds * MS_PER_SECOND, kind: 'note', text: `cdk deploy (${action.description}): updated ${report.updated.join(', ') || 'nothing'}` });
          },
        });
      } else if (action.kind === 'promote' && action.atSeconds !== undefined) {
        this.clock.schedule({
          at: this.originMs + action.atSeconds * MS_PER_SECOND,
          label: 'zdt promote --full',
          run: () => {
            if (!action.full) throw new Error(`operator action promote at ${action.atSeconds} s: a timed promote needs full: true (zdt promote --full); a plain promote answers a pause (thinkSeconds)`);
            const owner = this.stateItem()[StateTable.LOCK_OWNER];
            if (typeof owner !== 'string') return;
            // The CLI's own write (zdt promote --full while baking).
            this.aws.dynamodb.updateItem(promoteFullRequest(this.tableName, this.service, owner));
            this.emit({ atMs: action.atSeconds! * MS_PER_SECOND, kind: 'note', text: 'operator: zdt promote --full' });
          },
        });
      } else if (action.kind === 'abort' && action.atSeconds !== undefined) {
        this.clock.schedule({
          at: this.originMs + action.atSeconds * MS_PER_SECOND,
          label: 'zdt abort',
          run: () => {
            const item = this.stateItem();
            const owner = item[StateTable.LOCK_OWNER];
            if (typeof owner !== 'string' || item[StateTable.PAUSE_TOKEN] !== undefined) return;
            // The CLI's own write (zdt abort while baking), so the scenario proves the command, not a copy of it.
            this.aws.dynamodb.updateItem(abortRequest(this.tableName, this.service, owner, action.reason ?? 'aborted by the operator'));
            this.emit({ atMs: action.atSeconds! * MS_PER_SECOND, kind: 'note', text: `operator: zdt abort (${action.reason ?? 'no reason'})` });
          },
        });
      }
    }
  }
}

/** "Rollout Step Completed: step 2 (5%)", "Rollout Rolled Back: judge-fail": the event and what it is about. */
function describeEvent(detailType: string, detail: Record<string, unknown>): string {
  const d = detail as { step?: { number?: number; percent?: number }; trigger?: { kind?: string } };
  if (d.step?.number !== undefined) return `${detailType}: step ${d.step.number} (${d.step.percent}%)`;
  if (d.trigger?.kind) return `${detailType}: ${d.trigger.kind}`;
  return detailType;
}
