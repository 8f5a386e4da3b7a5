/**
 * `zdt status` of a release plan (ReleasePlan): one line per part, read from the executions themselves (their
 * histories hold the state document at every step), so the state machine ARN is all it needs.
 *
 *   release plan RUNNING at "Flag Rollout new-checkout": <execution>
 *     migration  add_users_plan: validated, waiting at its gate (backfill 1000/1000 rows)
 *     traffic    SUCCEEDED (new version live)
 *     flag new-checkout  phase 2/5 (canary): 5% of users · at "Wait For Judgement"
 *     contract   not started
 *
 * Each part's execution is named after the plan's (lib/private/release-definition.ts), so its ARN is known from the
 * part's state machine ARN, which the plan's execution carries in $.release.
 */
import { DescribeExecutionCommand, DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import type { FlagPhase } from '../../lambda/flag-rollout/flag-rollout-contract';
import { RELEASE_PLAN_KIND, ReleasePlanParts } from '../../lambda/release/release-plan-contract';
import { hasStateAndOutput, newestHistory } from './execution-history';
import { describeSnapshot, ExitCode, latestExecution, OpsContext, runningExecution, snapshot, status } from './rollout-ops';

/** The newest state document of an execution and the state it is in. */
interface ExecutionState {
  readonly stateName: string;
  readonly doc: Record<string, any>;
}

async function newestState(ctx: OpsContext, executionArn: string): Promise<ExecutionState> {
  const events = await newestHistory(ctx, executionArn, hasStateAndOutput);
  const exited = events.find((e) => e.stateExitedEventDetails?.output);
  const entered = events.find((e) => e.stateEnteredEventDetails);
  return {
    stateName: entered?.stateEnteredEventDetails?.name ?? exited?.stateExitedEventDetails?.name ?? 'unknown',
    doc: exited ? JSON.parse(exited.stateExitedEventDetails!.output!) : {},
  };
}

/** DescribeExecution, or undefined when the part has not started (ExecutionDoesNotExist). */
async function describe(ctx: OpsContext, executionArn: string): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  }
}

/** The part's execution: the one of `stateMachineArn` named as the plan's execution. */
export function partExecutionArn(stateMachineArn: string, planExecutionArn: string): string {
  const name = planExecutionArn.split(':').pop();
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

function ended(d: DescribeExecutionCommandOutput): string {
  return `${d.status}${d.error ? ` (${d.error}${d.cause ? `: ${d.cause.slice(0, 200)}` : ''})` : ''}`;
}

async function migrationLine(ctx: OpsContext, parts: ReleasePlanParts, plan: string, planDoc: Record<string, any>): Promise<string> {
  const d = await describe(ctx, partExecutionArn(parts.migrationStateMachine, plan));
  if (!d) return 'not started';
  const m = planDoc.migrationStatus as { migration?: string; status?: string; waitingForGate?: boolean } | undefined;
  if (d.status !== 'RUNNING') return `${m?.migration ?? 'migration'} ${d.status === 'SUCCEEDED' ? 'SUCCEEDED (completed: contracted)' : ended(d)}`;
  const s = await newestState(ctx, d.executionArn!);
  const backfill = s.doc.backfill as { rowsDone?: number; rowsTotal?: number } | undefined;
  const rows = backfill?.rowsDone !== undefined ? ` (backfill ${backfill.rowsDone}/${backfill.rowsTotal ?? '?'} rows)` : '';
  const gate = s.stateName === 'WaitForRollout' ? ', waiting at its gate' : '';
  return `${m?.migration ?? 'migration'}: ${m?.status ?? 'running'}${gate}${rows} · at "${s.stateName}"`;
}

async function trafficLine(ctx: OpsContext, parts: ReleasePlanParts, plan: string): Promise<string> {
  const d = await describe(ctx, partExecutionArn(parts.trafficStateMachine, plan));
  if (!d) return 'not started';
  if (d.status === 'SUCCEEDED') return 'SUCCEEDED (new version live)';
  if (d.status !== 'RUNNING') return ended(d);
  return describeSnapshot(await snapshot(ctx, d.executionArn!));
}

async function flagLine(ctx: OpsContext, stateMachine: string, plan: string, restored: unknown): Promise<string> {
  const d = await describe(ctx, partExecutionArn(stateMachine, plan));
  if (!d) return 'not started';
  // The plan restores a completed flag when a later one fails (lib/private/release-definition.ts: $.flagRestore<i>).
  if (d.status === 'SUCCEEDED') return restored ? 'SUCCEEDED, then restored by the plan (a later flag failed): back to its definition before the plan' : 'SUCCEEDED (every phase passed)';
  if (d.status !== 'RUNNING') return ended(d);
  const s = await newestState(ctx, d.executionArn!);
  const phase = s.doc.cursor?.phase as FlagPhase | undefined;
  const count = (s.doc.plan?.phases as unknown[] | undefined)?.length;
  const who = phase?.segments ? `segments ${phase.segments.join(', ')}` : `${phase?.percent ?? 0}% of users`;
  return `${phase ? `phase ${phase.number}${count ? `/${count}` : ''} (${phase.name}): ${who} · ` : ''}at "${s.stateName}"`;
}

function contractLine(stateName: string, running: boolean, planDoc: Record<string, any>): string {
  if (planDoc.migrationRelease) return running ? 'released the gate: the migration contracts' : 'done';
  if (stateName === 'Wait For Approval') return 'WAITING FOR APPROVAL (the "Release Waiting For Approval" event carries the task token)';
  if (stateName === 'Soak') return 'soaking before the contract';
  return 'not started';
}

/** Prints every part of the plan's `executionArn`. */
export async function releaseStatus(ctx: OpsContext, executionArn: string, state: ExecutionState, running: boolean, outcome?: DescribeExecutionCommandOutput): Promise<void> {
  const parts = state.doc.release as ReleasePlanParts;
  ctx.out(`release plan ${running ? `RUNNING at "${state.stateName}"` : ended(outcome!)}: ${executionArn}`);
  ctx.out(`  migration  ${await migrationLine(ctx, parts, executionArn, state.doc)}`);
  ctx.out(`  traffic    ${await trafficLine(ctx, parts, executionArn)}`);
  for (const [i, flag] of parts.flagStateMachines.entries()) {
    ctx.out(`  flag ${flag.flagKey}  ${await flagLine(ctx, flag.stateMachine, executionArn, state.doc[`flagRestore${i}State`])}`);
  }
  ctx.out(`  contract   ${contractLine(state.stateName, running, state.doc)}`);
}

/**
 * `zdt status`: a release plan's state machine shows every part; any other state machine the rollout's status
 * (rollout-ops status).
 */
export async function statusCommand(ctx: OpsContext, stateMachineArn: string): Promise<number> {
  const running = await runningExecution(ctx, stateMachineArn);
  const execution = running ?? await latestExecution(ctx, stateMachineArn);
  if (!execution) return status(ctx, stateMachineArn);
  const state = await newestState(ctx, execution);
  if (state.doc.release?.kind !== RELEASE_PLAN_KIND) return status(ctx, stateMachineArn);
  const outcome = running ? undefined : await ctx.sfn.send(new DescribeExecutionCommand({ executionArn: execution }));
  await releaseStatus(ctx, execution, state, running !== undefined, outcome);
  return ExitCode.SUCCEEDED;
}
