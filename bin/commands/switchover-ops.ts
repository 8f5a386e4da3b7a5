/**
 * Operator commands on a deployed BlueGreenDatabase state machine: `zdt switchover status | approve | abort`.
 * With `approval: 'manual'` the execution waits at AwaitApproval on a task token it put in a 'Database Switchover
 * Awaiting Approval' event; these commands read that token back from the execution's history (its TaskScheduled
 * parameters), so they need only the state machine ARN, as the rollout commands do.
 */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { BlueGreenEvent } from '../../lambda/database/blue-green-contract';
import { ErrorName } from '../../lambda/shared/contracts';
import { UsageError } from './args';
import { ExitCode, latestExecution, OpsContext, runningExecution, unansweredTask } from './rollout-ops';

/** How Step Functions names the approval task's resource in an execution's history. */
const APPROVAL_RESOURCE = 'putEvents.waitForTaskToken';
/** History events read, newest first: the approval is among the last few states of an execution. */
const HISTORY_PAGE = 200;

export interface SwitchoverSnapshot {
  readonly executionArn: string;
  readonly status: string;
  /** The state the execution is in (or last entered). */
  readonly stateName: string;
  readonly deploymentId?: string;
  /** Task token of an approval nobody has answered yet. */
  readonly approvalToken?: string;
}

/** The token of the newest approval nobody has answered, and its deployment. */
function unansweredApproval(newestFirst: readonly HistoryEvent[]): { token?: string; deploymentId?: string } {
  return unansweredTask(newestFirst, APPROVAL_RESOURCE, (parameters) => {
    const entry = (parameters.Entries as Array<{ DetailType?: string; Detail?: unknown }> | undefined)?.[0];
    if (entry?.DetailType !== BlueGreenEvent.AWAITING_APPROVAL) return undefined;
    const detail = (typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail) as { taskToken?: string; deploymentId?: string } | undefined;
    return { token: detail?.taskToken, deploymentId: detail?.deploymentId };
  }) ?? {};
}

export async function switchoverSnapshot(ctx: OpsContext, executionArn: string): Promise<SwitchoverSnapshot> {
  const execution = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
  const history = await ctx.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: HISTORY_PAGE, includeExecutionData: true }));
  const events = history.events ?? [];
  const entered = events.find((e) => e.stateEnteredEventDetails)?.stateEnteredEventDetails?.name ?? 'unknown';
  const approval = execution.status === 'RUNNING' ? unansweredApproval(events) : {};
  return { executionArn, status: execution.status ?? 'UNKNOWN', stateName: entered, deploymentId: approval.deploymentId, approvalToken: approval.token };
}

async function requireAwaitingApproval(ctx: OpsContext, stateMachineArn: string, verb: string): Promise<SwitchoverSnapshot & { approvalToken: string }> {
  const running = await runningExecution(ctx, stateMachineArn);
  if (!running) throw new UsageError(`no switchover is running on ${stateMachineArn}: nothing to ${verb}`);
  const s = await switchoverSnapshot(ctx, running);
  if (!s.approvalToken) throw new UsageError(`the switchover ${running} is not waiting for approval (it is at "${s.stateName}"): nothing to ${verb}`);
  return s as SwitchoverSnapshot & { approvalToken: string };
}

export async function switchoverStatus(ctx: OpsContext, stateMachineArn: string): Promise<number> {
  const execution = await runningExecution(ctx, stateMachineArn) ?? await latestExecution(ctx, stateMachineArn);
  if (!execution) {
    ctx.out(`no switchover has run on ${stateMachineArn}`);
    return ExitCode.SUCCEEDED;
  }
  const s = await switchoverSnapshot(ctx, execution);
  ctx.out(`${s.executionArn}: ${s.status} at "${s.stateName}"${s.approvalToken ? ` · WAITING FOR APPROVAL of ${s.deploymentId ?? 'the deployment'}: zdt switchover approve | abort` : ''}`);
  return ExitCode.SUCCEEDED;
}

/** Lets the waiting switchover go ahead (SendTaskSuccess with the approval's token). */
export async function approveSwitchover(ctx: OpsContext, stateMachineArn: string, by: string): Promise<number> {
  const s = await requireAwaitingApproval(ctx, stateMachineArn, 'approve');
  await ctx.sfn.send(new SendTaskSuccessCommand({ taskToken: s.approvalToken, output: JSON.stringify({ approved: true, by }) }));
  ctx.out(`approved ${s.executionArn}: ${s.deploymentId ?? 'the deployment'} switches over now`);
  return ExitCode.SUCCEEDED;
}

/** Stops the waiting switchover before anything is switched (SendTaskFailure ZdtAborted with the reason). */
export async function abortSwitchover(ctx: OpsContext, stateMachineArn: string, reason: string): Promise<number> {
  const s = await requireAwaitingApproval(ctx, stateMachineArn, 'abort');
  await ctx.sfn.send(new SendTaskFailureCommand({ taskToken: s.approvalToken, error: ErrorName.ABORTED, cause: reason }));
  ctx.out(`aborted ${s.executionArn}: nothing was switched over; the deployment ${s.deploymentId ?? ''} stays for you to inspect or delete`.trimEnd());
  return ExitCode.SUCCEEDED;
}
