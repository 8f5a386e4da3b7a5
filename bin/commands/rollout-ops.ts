/**
 * Operator commands on a deployed rollout state machine: status, release, watch, promote, abort.
 * They read what the execution itself records (its history holds the whole state document at every step),
 * so they need only the state machine ARN. The same commands work on a GuardedFlagRollout's state machine
 * (lib/private/flag-rollout-definition.ts): its phase, percentage and last verdict, its pause (a task token in the
 * 'Flag Rollout Paused' event), and its abort flag on the flag's lock item; and `promote` / `abort` answer a
 * ReleasePlan's approval before the contract (the task token in its 'Release Waiting For Approval' event).
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand, DescribeExecutionCommandOutput, HistoryEvent, ListExecutionsCommand,
  SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { Color, ErrorName, isColor, PlannedStep, Weights } from '../../lambda/shared/contracts';
import { FlagPhase, FlagRolloutErrorName } from '../../lambda/flag-rollout/flag-rollout-contract';
import { UsageError } from './args';
import { abortRequest, promoteFullRequest } from '../../lambda/rollout/operator-request';
import { RELEASE_PLAN_KIND } from '../../lambda/release/release-plan-contract';
import { hasStateAndOutput, newestHistory } from './execution-history';

export interface OpsContext {
  readonly sfn: SFNClient;
  readonly ddb: DynamoDBClient;
  readonly out: (line: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
}

/** The parts of the state document (see lib/private/rollout-definition.ts) the CLI reads. */
export interface RolloutSnapshot {
  readonly stateName: string;
  readonly service?: string;
  readonly stateTable?: string;
  readonly stepCount?: number;
  readonly judgeIntervalSeconds?: number;
  readonly colors?: { target: Color; stable: Color };
  readonly step?: PlannedStep;
  readonly weights?: Weights;
  readonly bake?: { passes: number; required: number };
  readonly verdict?: string;
  /** Task token of an unanswered manual pause. */
  readonly pauseToken?: string;
  /** A guarded flag rollout's: the flag, its phases, the phase under way and the last judgement's reasons. */
  readonly flag?: { readonly key?: string; readonly phaseCount: number; readonly phase?: FlagPhase; readonly reasons?: string[] };
  /** A release plan's (ReleasePlan): its own pause is the approval before the contract; its parts run as their own executions. */
  readonly releasePlan?: boolean;
}

/** The ALB's metric period: a judge that reads it judges at most this often. */
const ALB_MINUTE_SECONDS = 60;

/** Exit codes of `watch` and `release --watch`, for pipelines. */
export const ExitCode = { SUCCEEDED: 0, ROLLED_BACK: 1, REFUSED_OR_FAILED: 2, ROLLBACK_FAILED: 3, USAGE: 64 } as const;

export async function runningExecution(ctx: OpsContext, stateMachineArn: string): Promise<string | undefined> {
  const running = await ctx.sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 10 }));
  return running.executions?.[0]?.executionArn;
}

export async function latestExecution(ctx: OpsContext, stateMachineArn: string): Promise<string | undefined> {
  const all = await ctx.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }));
  return all.executions?.[0]?.executionArn;
}

/** Reads the newest state document and any unanswered pause from the execution's history. */
export async function snapshot(ctx: OpsContext, executionArn: string): Promise<RolloutSnapshot> {
  const events = await newestHistory(ctx, executionArn, hasStateAndOutput);
  const exited = events.find((e) => e.stateExitedEventDetails?.output);
  const entered = events.find((e) => e.stateEnteredEventDetails);
  const doc = exited ? JSON.parse(exited.stateExitedEventDetails!.output!) : {};
  const stateName = entered?.stateEnteredEventDetails?.name ?? exited?.stateExitedEventDetails?.name ?? 'unknown';
  if (Array.isArray(doc.plan?.phases)) return flagSnapshot(doc, stateName, events);
  if (doc.release?.kind === RELEASE_PLAN_KIND) return { stateName, releasePlan: true, pauseToken: unansweredEventToken(events) };
  return {
    stateName,
    service: doc.plan?.service,
    stateTable: doc.stateTable,
    stepCount: doc.plan?.stepCount,
    judgeIntervalSeconds: doc.plan?.judgeIntervalSeconds,
    colors: doc.colors,
    step: doc.cursor?.step,
    weights: doc.shift?.after ?? doc.route?.weights,
    bake: doc.bake,
    verdict: doc.verdict?.verdict,
    pauseToken: unansweredPause(events),
  };
}

/**
 * The parameters of the newest task on `resource` (as the history names it, e.g. "invoke.waitForTaskToken") that
 * nothing has ended yet: not succeeded, failed, timed out, nor failed to start or submit. `pick` reads what the
 * caller needs from them; a task it returns undefined for is passed over. Undefined when nothing waits.
 */
export function unansweredTask<T>(newestFirst: readonly HistoryEvent[], resource: string, pick: (parameters: Record<string, unknown>) => T | undefined): T | undefined {
  for (const e of newestFirst) {
    const ended = e.taskSucceededEventDetails?.resource ?? e.taskFailedEventDetails?.resource ?? e.taskTimedOutEventDetails?.resource
      ?? e.taskSubmitFailedEventDetails?.resource ?? e.taskStartFailedEventDetails?.resource;
    if (ended === resource) return undefined;
    if (e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.resource === resource) {
      const picked = pick(JSON.parse(e.taskScheduledEventDetails.parameters ?? '{}'));
      if (picked !== undefined) return picked;
    }
  }
  return undefined;
}

/** The token of the newest manual pause nobody has answered. */
function unansweredPause(newestFirst: HistoryEvent[]): string | undefined {
  return unansweredTask(newestFirst, 'invoke.waitForTaskToken', (p) => (p.Payload as { taskToken?: string } | undefined)?.taskToken);
}

/**
 * The token of the newest unanswered pause that waits on an event (EventBridge PutEvents .waitForTaskToken: a flag
 * rollout's 'Flag Rollout Paused', a release plan's 'Release Waiting For Approval'); the history shows the event's
 * Detail as an object or as its JSON.
 */
function unansweredEventToken(newestFirst: HistoryEvent[]): string | undefined {
  return unansweredTask(newestFirst, 'putEvents.waitForTaskToken', (p) => {
    const detail = (p.Entries as Array<{ Detail?: unknown }> | undefined)?.[0]?.Detail;
    const parsed = typeof detail === 'string' ? JSON.parse(detail) : detail;
    return (parsed as { taskToken?: string } | undefined)?.taskToken;
  });
}

/** The parts of a flag rollout's state document (lib/private/flag-rollout-definition.ts) the CLI reads. */
interface FlagStateDocument {
  readonly plan: { readonly phases: FlagPhase[]; readonly lockTable?: string; readonly lockKey?: string };
  readonly start?: { readonly flagKey?: string };
  readonly cursor?: { readonly phase?: FlagPhase };
  readonly verdict?: { readonly verdict?: string; readonly reasons?: string[] };
}

/**
 * A flag rollout's state document: the phase under way ($.cursor.phase of $.plan.phases), the last verdict, the lock
 * item (the abort flag's table and key), and its pause: the 'Flag Rollout Paused' event's task token
 * (EventBridge PutEvents .waitForTaskToken; the history shows the event's Detail as an object or as its JSON).
 */
function flagSnapshot(doc: FlagStateDocument, stateName: string, newestFirst: HistoryEvent[]): RolloutSnapshot {
  const phase: FlagPhase | undefined = doc.cursor?.phase;
  return {
    stateName,
    service: doc.plan.lockKey,
    stateTable: doc.plan.lockTable,
    judgeIntervalSeconds: phase?.intervalSeconds,
    verdict: doc.verdict?.verdict,
    pauseToken: unansweredEventToken(newestFirst),
    flag: { key: doc.start?.flagKey, phaseCount: doc.plan.phases.length, phase, reasons: doc.verdict?.reasons },
  };
}

export function describeSnapshot(s: RolloutSnapshot): string {
  const parts: string[] = [];
  if (s.flag) {
    const p = s.flag.phase;
    if (s.flag.key) parts.push(`flag ${s.flag.key}`);
    if (p) parts.push(`phase ${p.number}/${s.flag.phaseCount} (${p.name})`, p.segments !== undefined ? `treatment for segments ${p.segments.join(', ')}` : `treatment for ${p.percent}% of users`);
    if (s.verdict) parts.push(`last verdict ${s.verdict}${s.flag.reasons?.length ? ` (${s.flag.reasons.join('; ')})` : ''}`);
    if (s.pauseToken) parts.push('PAUSED: zdt promote | zdt abort');
    parts.push(`at "${s.stateName}"`);
    return parts.join(' · ');
  }
  if (s.step && s.stepCount) parts.push(`step ${s.step.number}/${s.stepCount}${s.step.segments.length ? ` (segments ${s.step.segments.join(', ')})` : ''}`);
  if (s.weights) parts.push(`blue ${s.weights.blue}% · green ${s.weights.green}%`);
  if (s.bake) parts.push(`bake ${progressBar(s.bake.passes, s.bake.required)} ${s.bake.passes}/${s.bake.required}`);
  if (s.verdict) parts.push(`verdict ${s.verdict}`);
  if (s.pauseToken) parts.push('PAUSED: zdt promote | zdt abort');
  parts.push(`at "${s.stateName}"`);
  return parts.join(' · ');
}

export function progressBar(done: number, total: number, width = 10): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export async function status(ctx: OpsContext, stateMachineArn: string): Promise<number> {
  const running = await runningExecution(ctx, stateMachineArn);
  if (running) {
    ctx.out(`running: ${running}`);
    ctx.out(`  ${describeSnapshot(await snapshot(ctx, running))}`);
    return ExitCode.SUCCEEDED;
  }
  const latest = await latestExecution(ctx, stateMachineArn);
  if (!latest) { ctx.out('no rollout has run yet'); return ExitCode.SUCCEEDED; }
  const d = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn: latest }));
  ctx.out(`idle; last rollout ${outcome(d)}: ${latest}`);
  return ExitCode.SUCCEEDED;
}

export async function release(ctx: OpsContext, stateMachineArn: string, options: { target?: string; reason?: string; watch?: boolean; intervalMs?: number }): Promise<number> {
  if (options.target !== undefined && !isColor(options.target)) throw new UsageError(`--target must be "blue" or "green", got "${options.target}"`);
  const input = { ...(options.target ? { targetColor: options.target } : {}), ...(options.reason ? { reason: options.reason } : {}) };
  const started = await ctx.sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  ctx.out(`started ${started.executionArn}`);
  return options.watch ? watch(ctx, started.executionArn!, { intervalMs: options.intervalMs }) : ExitCode.SUCCEEDED;
}

export async function watch(ctx: OpsContext, executionArn: string, options: { intervalMs?: number } = {}): Promise<number> {
  let last = '';
  for (;;) {
    const d = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') {
      ctx.out(`${outcome(d)}${d.cause ? `: ${d.cause}` : ''}`);
      return exitCodeOf(d);
    }
    const line = describeSnapshot(await snapshot(ctx, executionArn));
    if (line !== last) { ctx.out(line); last = line; }
    await ctx.sleep(options.intervalMs ?? 5000);
  }
}

export async function promote(ctx: OpsContext, stateMachineArn: string, options: { full?: boolean } = {}): Promise<number> {
  const running = await requireRunning(ctx, stateMachineArn);
  const s = await snapshot(ctx, running);
  if (options.full && (s.releasePlan || s.flag)) {
    throw new UsageError(`--full skips a traffic rollout's remaining steps; ${running} is a ${s.releasePlan ? 'release plan' : 'flag rollout'}: promote it without --full, or promote its traffic rollout (zdt status --state-machine <the plan's> lists its parts)`);
  }
  const last = s.stepCount !== undefined && s.step?.number !== undefined && s.step.number >= s.stepCount;
  if (options.full && last) throw new UsageError(`the rollout ${running} is at its last step (${s.step!.number} of ${s.stepCount}): nothing left to skip${s.pauseToken ? '; promote it without --full' : ''}`);
  const toFull = 'the remaining steps are skipped, the new color gets 100% next; that step still bakes and is judged';
  if (s.pauseToken) {
    await ctx.sfn.send(new SendTaskSuccessCommand({ taskToken: s.pauseToken, output: JSON.stringify({ promoted: true, ...(options.full ? { full: true } : {}) }) }));
    ctx.out(`promoted ${running} past ${s.releasePlan ? 'its approval: the migration contracts next' : s.flag ? `phase ${s.flag.phase?.number ?? '?'}` : `step ${s.step?.number ?? '?'}`}${options.full ? `: ${toFull}` : ''}`);
    return ExitCode.SUCCEEDED;
  }
  if (!options.full) throw new UsageError(`the ${s.releasePlan ? 'release plan' : 'rollout'} ${running} is not paused (it is at "${s.stateName}"): nothing to promote (zdt promote --full skips a rollout's remaining steps)`);
  if (!s.service || !s.stateTable) throw new UsageError(`the rollout ${running} has not finished its preflight yet; try again in a few seconds`);
  await ctx.ddb.send(new UpdateItemCommand(promoteFullRequest(s.stateTable, s.service, running)));
  ctx.out(`full promotion requested for ${running}: at its next judgement (within ${Math.max(s.judgeIntervalSeconds ?? ALB_MINUTE_SECONDS, ALB_MINUTE_SECONDS)} s) ${toFull}`);
  return ExitCode.SUCCEEDED;
}

export async function abort(ctx: OpsContext, stateMachineArn: string, reason: string): Promise<number> {
  const running = await requireRunning(ctx, stateMachineArn);
  const s = await snapshot(ctx, running);
  if (s.pauseToken) {
    await ctx.sfn.send(new SendTaskFailureCommand({ taskToken: s.pauseToken, error: ErrorName.ABORTED, cause: reason }));
    ctx.out(s.releasePlan ? `aborted ${running}: the approval is refused, the release halts without the contract` : `aborted ${running}: it rolls back now`);
    return ExitCode.SUCCEEDED;
  }
  if (s.releasePlan) {
    throw new UsageError(`the release plan ${running} is not waiting for its approval (it is at "${s.stateName}"): abort the part that runs, with zdt abort --state-machine <its state machine> (zdt status --state-machine <the plan's> lists them)`);
  }
  if (!s.service || !s.stateTable) throw new UsageError(`the rollout ${running} has not finished its preflight yet; try again in a few seconds`);
  await ctx.ddb.send(new UpdateItemCommand(abortRequest(s.stateTable, s.service, running, reason)));
  // A judge that reads the release signal every 30 s but falls back to the ALB waits for the next readable ALB minute.
  ctx.out(`abort requested for ${running}: it rolls back at its next judgement (within ${Math.max(s.judgeIntervalSeconds ?? ALB_MINUTE_SECONDS, ALB_MINUTE_SECONDS)} s)`);
  return ExitCode.SUCCEEDED;
}

export { abortRequest };

async function requireRunning(ctx: OpsContext, stateMachineArn: string): Promise<string> {
  const running = await runningExecution(ctx, stateMachineArn);
  if (!running) throw new UsageError(`no rollout is running on ${stateMachineArn}`);
  return running;
}

function outcome(d: DescribeExecutionCommandOutput): string {
  if (d.status === 'SUCCEEDED') return 'SUCCEEDED (new color live, or the flag at 100%)';
  if (d.error === ErrorName.ROLLED_BACK || d.error === FlagRolloutErrorName.ROLLED_BACK) return 'ROLLED BACK';
  if (d.error === ErrorName.ROLLBACK_FAILED || d.error === FlagRolloutErrorName.ROLLBACK_FAILED) return 'ROLLBACK FAILED';
  return `${d.status}${d.error ? ` (${d.error})` : ''}`;
}

function exitCodeOf(d: DescribeExecutionCommandOutput): number {
  if (d.status === 'SUCCEEDED') return ExitCode.SUCCEEDED;
  if (d.error === ErrorName.ROLLED_BACK || d.error === FlagRolloutErrorName.ROLLED_BACK) return ExitCode.ROLLED_BACK;
  if (d.error === ErrorName.ROLLBACK_FAILED || d.error === FlagRolloutErrorName.ROLLBACK_FAILED) return ExitCode.ROLLBACK_FAILED;
  return ExitCode.REFUSED_OR_FAILED;
}
