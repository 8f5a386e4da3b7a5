/**
 * rehearseReleasePlan(): run an app's ReleasePlan locally, its traffic rollout and flag rollouts included.
 *
 *   const result = await rehearseReleasePlan(app, { scenario: 'release-plan-traffic-regression' });
 *   result.outcome;         // 'ROLLED_BACK'
 *   result.parts.migration; // 'rolled back'
 *
 * The release plan's synthesized state machine runs with aws-local-stepfunctions on a virtual clock. Its two rollouts
 * are rehearsed for real where it starts them (.sync:2): the traffic rollout by rehearse() (the app's rollout state
 * machine, its real handlers, the simulated load balancer and CloudWatch), each flag rollout by rehearseFlagRollout();
 * each child's virtual duration then passes on the plan's clock and its outcome ends the task as Step Functions would
 * (a failed child: States.TaskFailed, its DescribeExecution as the cause). The migration is a model of its state
 * machine and handler (start, ready at its gate after `migrationReadyMinutes`, releaseGate -> completed, rejectGate ->
 * rolled back, the gate's timeout): its real ones need PostgreSQL, and run with the plan in
 * test/release/release-plan-execution.test.ts.
 */
import './polyfills';
import { MigrationErrorName } from '../lambda/database/errors';
import type { MigrationRequest } from '../lambda/database/migration-contract';
import { FlagRolloutErrorName } from '../lambda/flag-rollout/flag-rollout-contract';
import {
  RELEASE_PLAN_KIND, RELEASE_PLAN_METADATA_KEY, ReleasePlanDocument, ReleasePlanErrorName,
} from '../lambda/release/release-plan-contract';
import { ErrorName } from '../lambda/shared/contracts';
import type { AslDefinition } from './asl';
import { rehearseFlagRollout } from './flag-rehearsal';
import { FLAG_SCENARIOS } from './flag-scenarios';
import { functionNameOfArn } from './resources';
import { rehearse } from './rehearse';
import { LambdaFunctionHandler, runStateMachine } from './runner';
import { RehearsalTarget, stacksOf, stateMachinesOfKind } from './simulation-target';
import { CfnTemplate, stateMachineOf, TemplateResolver } from './template';
import { TextTimeline, TextTimelineEntry } from './text-timeline';
import { VirtualClock } from './virtual-clock';
import { namedEntry, scenarioIn } from './scenario-registry';

export type ReleaseRehearsalOutcome = 'RELEASED' | 'ROLLED_BACK' | 'HALTED' | 'ROLLBACK_FAILED' | 'FAILED';

export interface ReleaseScenario {
  readonly name: string;
  readonly description: string;
  /** Traffic scenario the traffic rollout is rehearsed with (rehearsal/scenarios.ts). */
  readonly traffic: string;
  /** Flag scenario every flag rollout is rehearsed with (rehearsal/flag-scenarios.ts). */
  readonly flag: string;
  /** Virtual minutes from the migration's start to its gate (expand, backfill, validate). @default 20 */
  readonly migrationReadyMinutes?: number;
  /** Virtual minutes the operator takes to approve the contract, when the plan asks. @default 30 */
  readonly approvalMinutes?: number;
  readonly expect: { readonly outcome: ReleaseRehearsalOutcome };
}

export const RELEASE_SCENARIOS: Readonly<Record<string, ReleaseScenario>> = Object.fromEntries([
  namedEntry({
    name: 'release-plan-healthy',
    description: 'Every part passes: the migration expands, the traffic rollout releases, the flag rollout reaches 100%, the contract runs last.',
    traffic: 'healthy-release', flag: 'flag-rollout-healthy', expect: { outcome: 'RELEASED' },
  }),
  namedEntry({
    name: 'release-plan-traffic-regression',
    description: 'The new version\'s error rate regresses: the traffic rollout rolls back, then the plan rolls the migration back; no flag rollout runs.',
    traffic: 'error-rate-regression', flag: 'flag-rollout-healthy', expect: { outcome: 'ROLLED_BACK' },
  }),
  namedEntry({
    name: 'release-plan-flag-regression',
    description: 'The flag\'s treatment regresses: the flag rolls back; the traffic stays on the new version and the migration stays expanded, not completed.',
    traffic: 'healthy-release', flag: 'flag-rollout-regression', expect: { outcome: 'HALTED' },
  }),
]);

/** True when `name` is a release plan scenario. */
export function isReleaseScenario(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(RELEASE_SCENARIOS, name);
}

export interface ReleaseRehearsalOptions {
  /** A release scenario or the name of one. @default 'release-plan-healthy' */
  readonly scenario?: ReleaseScenario | string;
  /** Construct path of the ReleasePlan when the app has several (or its tail). @default - the only one */
  readonly plan?: string;
  /** Called with each line of the timeline as it happens. */
  readonly onTimeline?: (entry: ReleaseTimelineEntry) => void;
}

/** One line of the timeline (virtual ms since the start, text). */
export type ReleaseTimelineEntry = TextTimelineEntry;

export interface ReleaseRehearsalResult {
  readonly scenario: string;
  readonly plan: string;
  readonly outcome: ReleaseRehearsalOutcome;
  readonly error?: string;
  readonly cause?: string;
  /** Where each part ended. */
  readonly parts: { readonly migration: string; readonly traffic: string; readonly flags: Readonly<Record<string, string>> };
  /** The detail-types of the plan's events, in order. */
  readonly events: readonly string[];
  readonly durationMs: number;
  readonly realDurationMs: number;
  readonly timeline: readonly ReleaseTimelineEntry[];
}

const MINUTE = 60_000;
const DEFAULTS = { migrationReadyMinutes: 20, approvalMinutes: 30 };
/** The model's gate timeout when the plan's migration does not say (SchemaMigration's default, 7 days). */
const DEFAULT_GATE_TIMEOUT_MS = 7 * 24 * 60 * MINUTE;

/** The migration's execution, as a model of its state machine and handler on the plan's clock. */
class MigrationModel {
  private startedAt?: number;
  private ended?: { status: 'SUCCEEDED' | 'FAILED'; error?: string; cause?: string };
  private gateAnswer?: 'released' | 'rejected';
  constructor(private readonly clock: VirtualClock, private readonly readyMs: number, private readonly gateTimeoutMs: number) {}
  start(): void { this.startedAt ??= this.clock.now(); }
  get state(): string {
    if (this.startedAt === undefined) return 'not started';
    if (this.gateAnswer === 'released') return 'completed (contracted)';
    if (this.gateAnswer === 'rejected') return 'rolled back';
    if (this.timedOut()) return 'gate timed out (expanded, not completed)';
    return this.atGate() ? 'expanded, waiting at its gate (not completed)' : 'expanding and backfilling';
  }
  private atGate(): boolean { return this.startedAt !== undefined && this.clock.now() >= this.startedAt + this.readyMs; }
  private timedOut(): boolean { return this.startedAt !== undefined && this.clock.now() >= this.startedAt + this.readyMs + this.gateTimeoutMs; }
  /** The handler's answer to a request (lambda/database/migration-handler.ts). */
  handle(request: MigrationRequest): unknown {
    switch (request.action) {
      case 'status':
        return { migration: 'migration', status: this.atGate() ? 'validated' : 'started', waitingForGate: this.atGate() && !this.gateAnswer && !this.timedOut() };
      case 'releaseGate':
      case 'rejectGate':
        if (!this.atGate() || this.gateAnswer || this.timedOut()) return { released: null };
        this.gateAnswer = request.action === 'releaseGate' ? 'released' : 'rejected';
        this.ended = request.action === 'releaseGate' ? { status: 'SUCCEEDED' }
          : { status: 'FAILED', error: MigrationErrorName.ROLLBACK_REQUESTED, cause: request.reason ?? 'rollback requested' };
        return request.action === 'releaseGate' ? { released: 'migration' } : { released: null, rejected: 'migration' };
      default:
        throw new Error(`the rehearsal's migration model does not serve action "${request.action}"`);
    }
  }
  /** DescribeExecution (Step Functions API Reference: Status, Error, Cause). */
  describe(executionArn: string): unknown {
    if (this.ended) return { ExecutionArn: executionArn, Status: this.ended.status, ...(this.ended.error ? { Error: this.ended.error, Cause: this.ended.cause } : {}) };
    if (this.timedOut()) return { ExecutionArn: executionArn, Status: 'FAILED', Error: 'States.Timeout', Cause: 'State "WaitForRollout" timed out' };
    return { ExecutionArn: executionArn, Status: 'RUNNING' };
  }
}

/** A failed .sync child: the task fails with States.TaskFailed, its DescribeExecution as the cause. */
function childFailed(executionArn: string, error: string, cause: string): Error {
  return Object.assign(new Error(JSON.stringify({ ExecutionArn: executionArn, Status: 'FAILED', Error: error, Cause: cause })), { name: 'States.TaskFailed' });
}

export async function rehearseReleasePlan(target: RehearsalTarget, options: ReleaseRehearsalOptions = {}): Promise<ReleaseRehearsalResult> {
  const s = typeof options.scenario === 'string' ? releaseScenarioNamed(options.scenario) : options.scenario ?? releaseScenarioNamed('release-plan-healthy');
  const stacks = stacksOf(target);
  const found = stateMachinesOfKind(stacks, RELEASE_PLAN_KIND)
    .map(({ stackName, template, logicalId, metadata }) => ({ stackName, template, logicalId, document: metadata[RELEASE_PLAN_METADATA_KEY] as ReleasePlanDocument }))
    .filter((p) => options.plan === undefined || p.document.path === options.plan || p.document.path.endsWith(`/${options.plan}`));
  if (found.length !== 1) {
    throw new Error(`rehearseReleasePlan: expected one ReleasePlan${options.plan ? ` at ${options.plan}` : ''}, found ${found.length}${found.length > 1 ? ` (${found.map((p) => p.document.path).join(', ')}); pass plan` : ''}`);
  }
  const { stackName, template, logicalId, document } = found[0];
  const machine = stateMachineOf(template, logicalId, { stackName, imports: exportsOf(stacks) });
  // With two flags or more the plan keeps each earlier flag's start record to restore it, and restores through the flag
  // rollout's handler: the rehearsal models neither (its flag children answer no record, its Lambdas are the
  // migration's), so it refuses rather than report a healthy plan as halted.
  const flagStates = Object.keys(machine.definition.States).filter((name) => name.startsWith('Flag Rollout '));
  if (flagStates.length > 1) {
    throw new Error(`rehearseReleasePlan: the plan ${document.path} has ${flagStates.length} flag rollouts; the rehearsal runs a plan with at most one (rehearse each flag rollout on its own: zdt rehearse --scenario <a flag scenario>)`);
  }
  // The parts' state machines, by the logical id in the ARN the plan starts (the rehearsal's placeholder ARNs end with it).
  const startedBy = (state: string): string => {
    const arn = (machine.definition.States as Record<string, { Parameters?: { StateMachineArn?: string } }>)[state]?.Parameters?.StateMachineArn;
    const id = arn?.split(':stateMachine:')[1];
    if (!id) throw new Error(`rehearseReleasePlan: the plan ${document.path} has no "${state}" state that starts a state machine`);
    return id;
  };
  const trafficRollout = startedBy('Traffic Rollout');
  const migrationMachine = startedBy('Start Migration');

  const clock = new VirtualClock();
  const startedAt = clock.now();
  const timeline = new TextTimeline(clock, startedAt, options.onTimeline);
  const emit = (text: string) => timeline.emit(text);
  const migration = new MigrationModel(clock, (s.migrationReadyMinutes ?? DEFAULTS.migrationReadyMinutes) * MINUTE, gateTimeoutOf(stacks, migrationMachine) ?? DEFAULT_GATE_TIMEOUT_MS);
  const parts = { traffic: 'not started', flags: {} as Record<string, string> };
  const events: string[] = [];
  const migrationLambda: LambdaFunctionHandler = (payload) => migration.handle(payload as MigrationRequest);
  const lambdas = new Map(functionNamesOf(machine.definition).map((name) => [name, migrationLambda]));
  const flagScenario = FLAG_SCENARIOS[s.flag];
  if (!flagScenario) throw new Error(`release scenario ${s.name}: unknown flag scenario "${s.flag}"`);

  const run = await runStateMachine({
    definition: machine.definition,
    stateMachineArn: machine.stateMachineArn,
    clock,
    lambdas,
    integrations: {
      'events:putEvents': (params) => {
        const entries = (params as { Entries: Array<{ DetailType: string; Detail: unknown }> }).Entries;
        for (const e of entries) {
          events.push(e.DetailType);
          const d = (typeof e.Detail === 'string' ? JSON.parse(e.Detail) : e.Detail) as { part?: string; error?: string };
          emit(`${e.DetailType}${d?.part ? `: ${d.part} (${d.error})` : ''}`);
        }
        return { Entries: entries.map((_, i) => ({ EventId: `release-event-${events.length}-${i}` })), FailedEntryCount: 0 };
      },
      'states:startExecution': (params) => {
        migration.start();
        emit('migration started (modelled: expand, backfill, validate)');
        return { ExecutionArn: executionArnOf(params), StartDate: new Date(clock.now()).toISOString() };
      },
      'aws-sdk:sfn:describeExecution': (params) => migration.describe((params as { ExecutionArn: string }).ExecutionArn),
      'states:startExecution.sync:2': async (params, context) => {
        const arn = executionArnOf(params);
        if (context.stateName === 'Traffic Rollout') {
          emit(`traffic rollout: rehearsing scenario ${s.traffic}`);
          const child = await rehearse(stacks, { rollout: trafficRollout, scenario: s.traffic });
          await clock.sleep(child.summary.durationMs);
          parts.traffic = child.summary.outcome;
          emit(`traffic rollout ${child.summary.outcome} after ${hours(child.summary.durationMs)} (${child.summary.failedRequests} failed requests)`);
          if (child.summary.outcome === 'RELEASED') return { ExecutionArn: arn, Status: 'SUCCEEDED', Output: {} };
          const error = child.summary.outcome === 'ROLLED_BACK' ? ErrorName.ROLLED_BACK : child.summary.outcome === 'ROLLBACK_FAILED' ? ErrorName.ROLLBACK_FAILED : child.summary.error ?? 'ZdtRolloutFailed';
          throw childFailed(arn, error, child.summary.cause ?? child.summary.outcome);
        }
        const flagKey = context.stateName.replace(/^Flag Rollout /, '');
        emit(`flag rollout of ${flagKey}: rehearsing scenario ${s.flag}`);
        const child = await rehearseFlagRollout(stacks, { scenario: flagScenario, flagKey });
        await clock.sleep(child.durationMs);
        parts.flags[flagKey] = child.outcome;
        emit(`flag rollout of ${flagKey} ${child.outcome} after ${hours(child.durationMs)}`);
        if (child.outcome === 'COMPLETED') return { ExecutionArn: arn, Status: 'SUCCEEDED', Output: {} };
        const error = child.outcome === 'ROLLED_BACK' ? FlagRolloutErrorName.ROLLED_BACK : child.outcome === 'ROLLBACK_FAILED' ? FlagRolloutErrorName.ROLLBACK_FAILED : child.error ?? 'ZdtFlagRolloutFailed';
        throw childFailed(arn, error, child.cause ?? child.outcome);
      },
    },
    // The operator approves the contract after a while.
    taskTokens: async () => {
      await clock.sleep((s.approvalMinutes ?? DEFAULTS.approvalMinutes) * MINUTE);
      emit('operator approved the contract');
      return { output: { approved: true } };
    },
  });
  const outcome: ReleaseRehearsalOutcome = run.status === 'SUCCEEDED' ? 'RELEASED'
    : run.error === ReleasePlanErrorName.ROLLED_BACK ? 'ROLLED_BACK'
      : run.error === ReleasePlanErrorName.HALTED ? 'HALTED'
        : run.error === ReleasePlanErrorName.ROLLBACK_FAILED ? 'ROLLBACK_FAILED' : 'FAILED';
  return {
    scenario: s.name,
    plan: document.path,
    outcome,
    error: run.error,
    cause: run.cause,
    parts: { migration: migration.state, traffic: parts.traffic, flags: parts.flags },
    events,
    durationMs: run.durationMs,
    realDurationMs: run.realDurationMs,
    timeline: timeline.entries,
  };
}

/** The scenario of this name; the error lists the names. */
export function releaseScenarioNamed(name: string): ReleaseScenario {
  return scenarioIn(RELEASE_SCENARIOS, name, 'release ');
}

/** A result for a person: outcome, the parts, the timeline, the cause. */
export function renderReleaseRehearsal(result: ReleaseRehearsalResult): string {
  const lines = [
    `Release plan rehearsal "${result.scenario}" of ${result.plan}: ${result.outcome}`,
    `Virtual duration ${hours(result.durationMs)}, rehearsed in ${(result.realDurationMs / 1000).toFixed(1)} s.`,
    `  migration: ${result.parts.migration}`,
    `  traffic:   ${result.parts.traffic}`,
    ...Object.entries(result.parts.flags).map(([k, v]) => `  flag ${k}: ${v}`),
    ...result.timeline.map((e) => `  +${hours(e.atMs).padStart(8)}  ${e.text}`),
  ];
  if (result.cause) lines.push(`Cause: ${result.cause}`);
  return lines.join('\n');
}

function hours(ms: number): string {
  return `${(ms / 3_600_000).toFixed(2)} h`;
}

function executionArnOf(params: unknown): string {
  const p = params as { StateMachineArn: string; Name: string };
  return `${String(p.StateMachineArn).replace(':stateMachine:', ':execution:')}:${p.Name}`;
}

/** The Lambda functions the plan's Tasks invoke (the migration handler's ARN as the Resource). */
function functionNamesOf(definition: AslDefinition): string[] {
  const names = new Set<string>();
  const visit = (states: Record<string, { Type: string; Resource?: string }>) => {
    for (const st of Object.values(states)) {
      const name = st.Type === 'Task' && st.Resource ? functionNameOfArn(st.Resource) : undefined;
      if (name) names.add(name);
    }
  };
  visit(definition.States as never);
  return [...names];
}

/** The migration's gateTimeout, from its state machine's WaitForRollout task (TimeoutSeconds). */
function gateTimeoutOf(stacks: ReturnType<typeof stacksOf>, logicalId: string): number | undefined {
  for (const { stackName, template } of stacks) {
    if (template.Resources?.[logicalId]?.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const gate = (stateMachineOf(template, logicalId, { stackName, imports: exportsOf(stacks) }).definition.States as Record<string, { TimeoutSeconds?: number }>).WaitForRollout;
    if (gate?.TimeoutSeconds) return gate.TimeoutSeconds * 1000;
  }
  return undefined;
}

/** Every stack's exports, by name, resolved as the rehearsal resolves its templates (placeholder physical ids). */
function exportsOf(stacks: ReadonlyArray<{ stackName: string; template: CfnTemplate }>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const { stackName, template } of stacks) {
    const resolver = new TemplateResolver(template, { stackName });
    for (const output of Object.values((template as { Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }> }).Outputs ?? {})) {
      if (output.Export) values[String(resolver.resolve(output.Export.Name))] = String(resolver.resolve(output.Value));
    }
  }
  return values;
}
