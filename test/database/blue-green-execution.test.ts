/**
 * The BlueGreenDatabase state machine, executed: the synthesized definition runs in the rehearsal runner on a virtual
 * clock, with the real blue/green handler bound in-process against the stateful RDS fake (FakeRdsBlueGreen), and the
 * rehearsal's AWS fakes behind EventBridge (the events) and Step Functions (an operator answering the approval's task
 * token through the SFN API, as `grantApproval` allows).
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { clock, setClock } from '../../lambda/shared/clock';
import { EVENT_SOURCE } from '../../lambda/shared/contracts';
import { BlueGreenErrorName, BlueGreenEvent } from '../../lambda/database/blue-green-contract';
import { BlueGreenDatabase, BlueGreenDatabaseProps } from '../../lib/database/blue-green-database';
import { DatabaseSource } from '../../lib/database/database-source';
import { SwitchoverApproval } from '../../lib/database/switchover-approval';
import { bindHandlers, CfnTemplate, RunResult, runStateMachine, stateMachineOf, TaskTokenHandler, TimelineEvent, VirtualClock } from '../../rehearsal';
import { AwsFakes, CallRecord, FakeDatabase, PutEventsParams } from '../../rehearsal/fakes';

const MINUTE = 60_000;
const SOURCE_ARN = 'arn:aws:rds:us-east-1:123456789012:db:orders';
/** How long the fake takes to provision the green environment, and to switch over (virtual). */
const PROVISIONING_MS = 20 * MINUTE;
const SWITCHOVER_MS = 45_000;
/** How long the operator takes to answer the approval (virtual). */
const OPERATOR_MS = 30 * MINUTE;

function synth(props: Partial<BlueGreenDatabaseProps> = {}): CfnTemplate {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Data');
  new BlueGreenDatabase(stack, 'Upgrade', { source: DatabaseSource.fromArn(SOURCE_ARN), deploymentName: 'orders-pg17', targetEngineVersion: '17.2', ...props });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

interface Execution {
  readonly result: RunResult;
  readonly events: { readonly detailType: string; readonly detail: Record<string, unknown>; readonly time: number }[];
  /** The RDS calls, as the fakes logged them. */
  readonly rdsCalls: CallRecord[];
  readonly databases: FakeDatabase[];
}

/** Runs the state machine on a virtual clock; `prepare` arms the fake's faults, `operator` answers task tokens. */
async function execute(template: CfnTemplate, options: { prepare?: (aws: AwsFakes) => void; operator?: TaskTokenHandler } = {}): Promise<Execution> {
  const virtual = new VirtualClock();
  const restoreClock = setClock(virtual);
  const aws = new AwsFakes({ clock: virtual, rds: { provisioningMs: PROVISIONING_MS, switchoverMs: SWITCHOVER_MS } }).install();
  aws.rds.addInstance('orders', { engineVersion: '16.4' });
  options.prepare?.(aws);
  try {
    const result = await runStateMachine({
      definition: stateMachineOf(template).definition,
      clock: virtual,
      lambdas: bindHandlers(template, {}, { environment: { ZDT_LOG_LEVEL: 'silent' } }),
      integrations: { 'events:putEvents': (params) => aws.events.putEvents(params as PutEventsParams) },
      stepFunctions: aws.stepfunctions,
      taskTokens: options.operator,
    });
    const events = aws.events.events().map((e) => ({ detailType: e.detailType, detail: e.detail, time: e.time }));
    for (const e of aws.events.events()) expect(e.source).toBe(EVENT_SOURCE);
    return { result, events, rdsCalls: aws.calls.filter((c) => c.service === 'rds'), databases: aws.rds.databaseList() };
  } finally {
    aws.restore();
    restoreClock();
  }
}

/** The states in order, consecutive repeats of a poll loop folded into "State×n". */
function path(events: readonly TimelineEvent[]): string[] {
  const out: string[] = [];
  const counts: number[] = [];
  for (const s of events.filter((e) => e.type === 'StateEntered').map((e) => e.state!)) {
    if (s.endsWith('Done?') || s.startsWith('WaitFor') || s.startsWith('Start')) continue;
    if (out[out.length - 1] === s) counts[counts.length - 1] += 1;
    else { out.push(s); counts.push(1); }
  }
  return out.map((s, i) => (counts[i] > 1 ? `${s}×${counts[i]}` : s));
}

function entered(result: RunResult, state: string): TimelineEvent {
  return result.events.find((e) => e.type === 'StateEntered' && e.state === state)!;
}

function identifiers(databases: FakeDatabase[]): Record<string, string> {
  return Object.fromEntries(databases.map((d) => [d.identifier.replace(/-green-\w+$/, '-green'), d.engineVersion]));
}

describe('BlueGreenDatabase state machine, executed against the RDS fake', () => {
  test('provisions, checks, switches over, verifies, announces and cleans up', async () => {
    const { result, events, rdsCalls, databases } = await execute(synth());

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    const provisioningPolls = PROVISIONING_MS / MINUTE + 1;
    expect(path(result.events)).toEqual([
      'CreateDeployment', `ProvisioningStatus×${provisioningPolls}`, 'Preflight', 'Switchover', 'SwitchoverStatus×3', 'Verify', 'EmitCompleted', 'Cleanup', 'SwitchedOver',
    ]);
    // The switchover starts only once the green environment is AVAILABLE, with RDS's default timeout.
    expect(entered(result, 'Switchover').elapsedMs).toBeGreaterThanOrEqual(PROVISIONING_MS);
    const switchover = rdsCalls.find((c) => c.command === 'SwitchoverBlueGreenDeployment')!;
    expect(switchover.input).toEqual({ BlueGreenDeploymentIdentifier: expect.stringMatching(/^bgd-/), SwitchoverTimeout: 300 });
    expect(entered(result, 'Verify').at - switchover.time).toBeGreaterThanOrEqual(SWITCHOVER_MS);
    // The first look at the switchover comes a poll interval after the call, not right after it.
    expect(entered(result, 'SwitchoverStatus').at - switchover.time).toBeGreaterThanOrEqual(15_000);

    expect(events.map((e) => e.detailType)).toEqual([BlueGreenEvent.COMPLETED]);
    expect(events[0].detail).toMatchObject({
      deploymentName: 'orders-pg17', source: SOURCE_ARN, execution: result.executionArn, deploymentId: (switchover.input as { BlueGreenDeploymentIdentifier: string }).BlueGreenDeploymentIdentifier,
      members: [{ source: 'arn:aws:rds:us-east-1:123456789012:db:orders-old1', target: SOURCE_ARN, status: 'SWITCHOVER_COMPLETED' }],
    });
    // Production now runs 17.2 under the original name; the old environment is kept; the deployment is gone.
    expect(identifiers(databases)).toEqual({ 'orders': '17.2', 'orders-old1': '16.4' });
    expect(rdsCalls.filter((c) => c.command === 'DeleteBlueGreenDeployment').map((c) => c.input)).toEqual([{ BlueGreenDeploymentIdentifier: expect.stringMatching(/^bgd-/) }]);
    expect(result.output).toMatchObject({ cleanup: { deleted: true, deletedOld: [] } });
  });

  test('a cleanup that fails after the switchover is announced as a cleanup failure, not as a failed switchover', async () => {
    const { result, events, databases } = await execute(synth(), {
      prepare: (aws) => aws.faults.add({ service: 'rds', command: 'DeleteBlueGreenDeployment', error: 'InvalidBlueGreenDeploymentStateFault', times: 10 }),
    });

    expect(result).toMatchObject({ status: 'FAILED', error: 'InvalidBlueGreenDeploymentStateFault' });
    // Production runs on green: Completed went out, then the cleanup's own failure event, never a switchover failure.
    expect(events.map((e) => e.detailType)).toEqual([BlueGreenEvent.COMPLETED, BlueGreenEvent.CLEANUP_FAILED]);
    expect(events[1].detail).toMatchObject({ deploymentName: 'orders-pg17', error: 'InvalidBlueGreenDeploymentStateFault', cause: expect.any(String) });
    expect(identifiers(databases)).toEqual({ 'orders': '17.2', 'orders-old1': '16.4' });
  });

  test('INVALID_CONFIGURATION fails before any switchover, with the cause and a failure event', async () => {
    const details = 'The source DB instance has a logical replication slot that blue/green deployments do not support.';
    const { result, events, rdsCalls, databases } = await execute(synth(), { prepare: (aws) => aws.rds.failNextProvisioning(details) });

    expect(result).toMatchObject({ status: 'FAILED', error: BlueGreenErrorName.INVALID_STATE });
    expect(JSON.parse(result.cause!).errorMessage).toMatch(/^Blue\/green deployment bgd-\w+ \(orders-pg17, source arn:aws:rds:us-east-1:123456789012:db:orders\): expected PROVISIONING then AVAILABLE, found INVALID_CONFIGURATION \(The source DB instance has a logical replication slot/);
    expect(path(result.events)).toEqual(['CreateDeployment', `ProvisioningStatus×${PROVISIONING_MS / MINUTE + 1}`, 'EmitFailed', 'SwitchoverFailed']);
    expect(rdsCalls.filter((c) => c.command === 'SwitchoverBlueGreenDeployment')).toEqual([]);
    expect(events.map((e) => e.detailType)).toEqual([BlueGreenEvent.FAILED]);
    expect(events[0].detail).toMatchObject({ deploymentName: 'orders-pg17', error: BlueGreenErrorName.INVALID_STATE, cause: expect.stringContaining(details) });
    expect(identifiers(databases)).toEqual({ orders: '16.4' });
  });

  test('a switchover that outlasts its timeout is rolled back by RDS: failure event, clear cause, blue untouched', async () => {
    const { result, events, rdsCalls, databases } = await execute(synth({ switchoverTimeout: Duration.seconds(30) }), {
      prepare: (aws) => aws.rds.setSwitchoverDuration(2 * MINUTE),
    });

    expect(result).toMatchObject({ status: 'FAILED', error: BlueGreenErrorName.SWITCHOVER_FAILED });
    expect(JSON.parse(result.cause!).errorMessage).toMatch(/expected SWITCHOVER_COMPLETED for the deployment and every member, found SWITCHOVER_FAILED .*RDS rolled the switchover back \(within its 30 s timeout.*the blue environment arn:aws:rds:us-east-1:123456789012:db:orders is unchanged/);
    expect(path(result.events)).toEqual([
      'CreateDeployment', `ProvisioningStatus×${PROVISIONING_MS / MINUTE + 1}`, 'Preflight', 'Switchover', 'SwitchoverStatus×2', 'Verify', 'EmitFailed', 'SwitchoverFailed',
    ]);
    expect(rdsCalls.find((c) => c.command === 'SwitchoverBlueGreenDeployment')!.input).toMatchObject({ SwitchoverTimeout: 30 });
    expect(events.map((e) => e.detailType)).toEqual([BlueGreenEvent.FAILED]);
    expect(events[0].detail).toMatchObject({ error: BlueGreenErrorName.SWITCHOVER_FAILED });
    // Nothing was switched back or deleted: blue still serves under its name and version, green waits, the deployment stays.
    expect(identifiers(databases)).toEqual({ 'orders': '16.4', 'orders-green': '17.2' });
    expect(rdsCalls.filter((c) => c.command === 'DeleteBlueGreenDeployment' || c.command === 'DeleteDBInstance')).toEqual([]);
  });

  test('manual approval: the operator answers the awaiting event\'s task token, then the switchover runs', async () => {
    const sfn = new SFNClient({});
    const answered: string[] = [];
    const states: string[] = [];
    const { result, events } = await execute(synth({ approval: SwitchoverApproval.MANUAL }), {
      operator: async (token, request) => {
        // Recorded, not asserted here: once the token is answered the runner no longer awaits this handler.
        states.push(request.stateName);
        await clock().sleep(OPERATOR_MS);
        answered.push(token);
        await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approvedBy: 'dba' }) }));
        return undefined;
      },
    });

    expect(states).toEqual(['AwaitApproval']);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    const issued = result.events.find((e) => e.type === 'TaskTokenIssued')!;
    expect(answered).toEqual([issued.taskToken]);
    expect(events.map((e) => e.detailType)).toEqual([BlueGreenEvent.AWAITING_APPROVAL, BlueGreenEvent.COMPLETED]);
    expect(events[0].detail).toMatchObject({ taskToken: issued.taskToken, deploymentName: 'orders-pg17', preflight: { status: 'AVAILABLE' } });
    expect(entered(result, 'Switchover').at - entered(result, 'AwaitApproval').at).toBeGreaterThanOrEqual(OPERATOR_MS);
    expect(result.output).toMatchObject({ approval: { approvedBy: 'dba' } });
  });

  test('manual approval: an abort (SendTaskFailure) fails the execution without switching over', async () => {
    const sfn = new SFNClient({});
    const { result, events, rdsCalls, databases } = await execute(synth({ approval: SwitchoverApproval.MANUAL }), {
      operator: async (token) => {
        await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'ZdtAborted', cause: 'Not during the sale: aborted by dba' }));
        return undefined;
      },
    });

    expect(result).toMatchObject({ status: 'FAILED', error: 'ZdtAborted', cause: 'Not during the sale: aborted by dba' });
    expect(rdsCalls.filter((c) => c.command === 'SwitchoverBlueGreenDeployment')).toEqual([]);
    expect(events.map((e) => e.detailType)).toEqual([BlueGreenEvent.AWAITING_APPROVAL, BlueGreenEvent.FAILED]);
    expect(events[1].detail).toMatchObject({ error: 'ZdtAborted', cause: 'Not during the sale: aborted by dba' });
    expect(identifiers(databases)).toEqual({ 'orders': '16.4', 'orders-green': '17.2' });
  });
});
