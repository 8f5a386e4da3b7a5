/**
 * The blue/green handler against the stateful RDS fake (FakeRdsBlueGreen, on a virtual clock) and a mocked CloudWatch.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateBlueGreenDeploymentCommand, DeleteBlueGreenDeploymentCommand, DescribeDBInstancesCommand, RDSClient, SwitchoverBlueGreenDeploymentCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { setClock } from '../../lambda/shared/clock';
import { CONFIG_ENV } from '../../lambda/shared/contracts';
import {
  BlueGreenCleanupResult, BlueGreenMember, BlueGreenCreateResult, BlueGreenErrorName, BlueGreenHandlerConfig, BlueGreenPreflightResult, BlueGreenRequest,
  BlueGreenStatusResult,
} from '../../lambda/database/blue-green-contract';
import { handler } from '../../lambda/database/blue-green-handler';
import { VirtualClock } from '../../rehearsal/virtual-clock';
import { AwsFakes, CallRecord, FakeRdsBlueGreen } from '../../rehearsal/fakes';

const MINUTE = 60_000;
const PROVISIONING_MS = 20 * MINUTE;
const SWITCHOVER_MS = 45_000;

const cloudwatch = mockClient(CloudWatchClient);
let clock: VirtualClock;
let aws: AwsFakes;
let rds: FakeRdsBlueGreen;
let restoreClock: () => void;
let sourceArn: string;

function configure(extra: Partial<BlueGreenHandlerConfig> = {}): BlueGreenHandlerConfig {
  const config: BlueGreenHandlerConfig = {
    sourceArn, sourceKind: 'instance', deploymentName: 'orders-pg17', targetEngineVersion: '17.2', switchoverTimeoutSeconds: 300, deleteOldAfter: false, ...extra,
  };
  process.env[CONFIG_ENV] = JSON.stringify(config);
  return config;
}

const run = <T>(request: BlueGreenRequest) => handler(request) as Promise<T>;
/** The RDS calls the handler made, as the fakes logged them. */
const rdsCalls = (): CallRecord[] => aws.calls.filter((c) => c.service === 'rds');

async function provisioned(): Promise<string> {
  const created = await run<BlueGreenCreateResult>({ action: 'create' });
  clock.advance(PROVISIONING_MS);
  return created.deploymentId;
}

beforeEach(() => {
  clock = new VirtualClock();
  restoreClock = setClock(clock);
  // Only RDS goes to the fakes: CloudWatch is answered by the mock above, call by call.
  aws = new AwsFakes({ clock, rds: { provisioningMs: PROVISIONING_MS, switchoverMs: SWITCHOVER_MS } }).install(['rds']);
  rds = aws.rds;
  sourceArn = rds.addInstance('orders', { engineVersion: '16.4' });
  cloudwatch.reset();
  configure();
});
afterEach(() => {
  aws.restore();
  restoreClock();
});
afterAll(() => cloudwatch.restore());

describe('blue/green handler: create', () => {
  test('creates a deployment of the source with the target engine version and parameter group', async () => {
    configure({ targetDBParameterGroupName: 'pg17-params' });
    const out = await run<BlueGreenCreateResult>({ action: 'create' });
    expect(out).toMatchObject({ created: true, name: 'orders-pg17', source: sourceArn, status: 'PROVISIONING' });
    expect(out.deploymentId).toMatch(/^bgd-/);
    expect(out.members).toEqual([{ source: sourceArn, target: expect.stringMatching(/:db:orders-green-/), status: 'PROVISIONING' }]);
    const call = rdsCalls().find((c) => c.command === 'CreateBlueGreenDeployment')!;
    expect(call.input).toMatchObject({ BlueGreenDeploymentName: 'orders-pg17', Source: sourceArn, TargetEngineVersion: '17.2', TargetDBParameterGroupName: 'pg17-params' });
  });

  test('is idempotent: a second create reuses the deployment of the same name and source', async () => {
    const first = await run<BlueGreenCreateResult>({ action: 'create' });
    const second = await run<BlueGreenCreateResult>({ action: 'create' });
    expect(second).toMatchObject({ created: false, deploymentId: first.deploymentId });
    expect(rdsCalls().filter((c) => c.command === 'CreateBlueGreenDeployment')).toHaveLength(1);
  });

  test('reuses the deployment when a concurrent create won the race (BlueGreenDeploymentAlreadyExistsFault)', async () => {
    const first = await run<BlueGreenCreateResult>({ action: 'create' });
    // The first describe sees nothing (another invocation creates right after): model it with a name-filtered read that misses.
    let describes = 0;
    const original = rds.describeBlueGreenDeployments.bind(rds);
    rds.describeBlueGreenDeployments = (input) => (++describes === 1 ? { BlueGreenDeployments: [] } : original(input));
    const second = await run<BlueGreenCreateResult>({ action: 'create' });
    expect(second).toMatchObject({ created: false, deploymentId: first.deploymentId });
    expect(rdsCalls().filter((c) => c.command === 'CreateBlueGreenDeployment').map((c) => c.error)).toEqual([undefined, 'BlueGreenDeploymentAlreadyExistsFault']);
  });

  test('refuses a deployment of the same name with another source', async () => {
    await run({ action: 'create' });
    const other = rds.addInstance('billing');
    configure({ sourceArn: other });
    await expect(run({ action: 'create' })).rejects.toMatchObject({
      name: BlueGreenErrorName.INVALID_STATE,
      message: expect.stringMatching(/expected a deployment named orders-pg17 to have source .*:db:billing, found source .*:db:orders/),
    });
  });

  test('turns throttling into a retryable error naming the operation', async () => {
    aws.faults.add({ service: 'rds', command: 'DescribeBlueGreenDeployments', error: 'ThrottlingException' });
    await expect(run({ action: 'create' })).rejects.toMatchObject({ name: 'ZdtRetryableError', message: expect.stringMatching(/rds:DescribeBlueGreenDeployments name=orders-pg17/) });
  });
});

describe('blue/green handler: status', () => {
  test('keeps waiting while PROVISIONING, then reports AVAILABLE with every member', async () => {
    const { deploymentId } = await run<BlueGreenCreateResult>({ action: 'create' });
    const early = await run<BlueGreenStatusResult>({ action: 'status', deploymentId, phase: 'provisioned', polls: 0, maxPolls: 100 });
    expect(early).toMatchObject({ status: 'PROVISIONING', waiting: true, polls: 1 });
    clock.advance(PROVISIONING_MS);
    const ready = await run<BlueGreenStatusResult>({ action: 'status', deploymentId, phase: 'provisioned', polls: 1, maxPolls: 100 });
    expect(ready).toMatchObject({ status: 'AVAILABLE', waiting: false, polls: 2, members: [{ source: sourceArn, status: 'AVAILABLE' }] });
  });

  test('fails with a clear cause on INVALID_CONFIGURATION', async () => {
    rds.failNextProvisioning('The source DB instance has unsupported logical replication slots.');
    const deploymentId = await provisioned();
    await expect(run({ action: 'status', deploymentId, phase: 'provisioned' })).rejects.toMatchObject({
      name: BlueGreenErrorName.INVALID_STATE,
      message: expect.stringMatching(new RegExp(`^Blue/green deployment ${deploymentId} \\(orders-pg17, source .*\\): expected PROVISIONING then AVAILABLE, found INVALID_CONFIGURATION \\(The source DB instance has unsupported`)),
    });
  });

  test('times out after the allowed polls', async () => {
    const { deploymentId } = await run<BlueGreenCreateResult>({ action: 'create' });
    await expect(run({ action: 'status', deploymentId, phase: 'provisioned', polls: 4, maxPolls: 5 })).rejects.toMatchObject({
      name: BlueGreenErrorName.TIMED_OUT, message: expect.stringMatching(/expected AVAILABLE within 5 polls, found PROVISIONING after 5/),
    });
  });

  test('names a deployment that does not exist', async () => {
    await expect(run({ action: 'status', deploymentId: 'bgd-missing', phase: 'switched' })).rejects.toMatchObject({
      name: BlueGreenErrorName.NOT_FOUND, message: expect.stringMatching(/bgd-missing: expected it to exist, found none/),
    });
  });
});

describe('blue/green handler: preflight', () => {
  test('passes when the deployment and every member are AVAILABLE', async () => {
    const deploymentId = await provisioned();
    const out = await run<BlueGreenPreflightResult>({ action: 'preflight', deploymentId });
    expect(out).toMatchObject({ status: 'AVAILABLE' });
    expect(out.replicaLagSeconds).toBeUndefined();
  });

  test('is not ready while the green environment provisions', async () => {
    const { deploymentId } = await run<BlueGreenCreateResult>({ action: 'create' });
    await expect(run({ action: 'preflight', deploymentId })).rejects.toMatchObject({ name: BlueGreenErrorName.NOT_READY, message: expect.stringMatching(/expected AVAILABLE before switchover, found PROVISIONING/) });
  });

  test('reads the green instance\'s ReplicaLag and passes within the limit', async () => {
    configure({ replicaLag: { metricName: 'ReplicaLag', dimensionName: 'DBInstanceIdentifier', maxSeconds: 30, windowSeconds: 300 } });
    const deploymentId = await provisioned();
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Values: [2, 4, 1] }] });
    const out = await run<BlueGreenPreflightResult>({ action: 'preflight', deploymentId });
    expect(out.replicaLagSeconds).toBe(4);
    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(query.MetricDataQueries![0].MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/RDS', MetricName: 'ReplicaLag', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: expect.stringMatching(/^orders-green-/) }] }, Stat: 'Maximum',
    });
    expect(query.EndTime!.getTime() - query.StartTime!.getTime()).toBe(300_000);
    expect(query.EndTime!.getTime()).toBe(clock.now());
  });

  test('is not ready when the replica lag exceeds the limit, or when there is no datapoint', async () => {
    configure({ replicaLag: { metricName: 'ReplicaLag', dimensionName: 'DBInstanceIdentifier', maxSeconds: 30, windowSeconds: 300 } });
    const deploymentId = await provisioned();
    cloudwatch.on(GetMetricDataCommand).resolvesOnce({ MetricDataResults: [{ Id: 'lag', Values: [12, 95] }] })
      .resolvesOnce({ MetricDataResults: [{ Id: 'lag', Values: [-1, -1] }] }).resolves({ MetricDataResults: [{ Id: 'lag', Values: [] }] });
    await expect(run({ action: 'preflight', deploymentId })).rejects.toMatchObject({
      name: BlueGreenErrorName.NOT_READY, message: expect.stringMatching(/expected AWS\/RDS ReplicaLag \(DBInstanceIdentifier=orders-green-\w+\) at most 30 s over the last 300 s, found 95 s/),
    });
    // RDS reports -1 while replication is not active: below any limit, and no lag figure at all.
    await expect(run({ action: 'preflight', deploymentId })).rejects.toMatchObject({ name: BlueGreenErrorName.NOT_READY, message: expect.stringMatching(/found -1 \(replication not active\)/) });
    await expect(run({ action: 'preflight', deploymentId })).rejects.toMatchObject({ name: BlueGreenErrorName.NOT_READY, message: expect.stringMatching(/found no datapoints/) });
  });
});

describe('blue/green handler: switchover and verify', () => {
  test('switches over with the configured timeout, and verify confirms every member', async () => {
    configure({ switchoverTimeoutSeconds: 120 });
    const deploymentId = await provisioned();
    const started = await run<{ status: string }>({ action: 'switchover', deploymentId });
    expect(started.status).toBe('SWITCHOVER_IN_PROGRESS');
    expect(rdsCalls().find((c) => c.command === 'SwitchoverBlueGreenDeployment')!.input).toEqual({ BlueGreenDeploymentIdentifier: deploymentId, SwitchoverTimeout: 120 });
    expect(await run<BlueGreenStatusResult>({ action: 'status', deploymentId, phase: 'switched' })).toMatchObject({ waiting: true });
    clock.advance(SWITCHOVER_MS);
    expect(await run<BlueGreenStatusResult>({ action: 'status', deploymentId, phase: 'switched' })).toMatchObject({ waiting: false, status: 'SWITCHOVER_COMPLETED' });
    const verified = await run<{ members: { source: string; target: string; status: string }[] }>({ action: 'verify', deploymentId });
    expect(verified.members).toEqual([{ source: expect.stringMatching(/:db:orders-old1$/), target: sourceArn, status: 'SWITCHOVER_COMPLETED' }]);
  });

  test('a retried switchover does not start a second one', async () => {
    const deploymentId = await provisioned();
    await run({ action: 'switchover', deploymentId });
    await run({ action: 'switchover', deploymentId });
    expect(rdsCalls().filter((c) => c.command === 'SwitchoverBlueGreenDeployment')).toHaveLength(1);
  });

  test('verify reports a switchover RDS rolled back after its timeout, blue untouched', async () => {
    configure({ switchoverTimeoutSeconds: 30 });
    const deploymentId = await provisioned();
    await run({ action: 'switchover', deploymentId });
    clock.advance(30_000);
    await expect(run({ action: 'verify', deploymentId })).rejects.toMatchObject({
      name: BlueGreenErrorName.SWITCHOVER_FAILED,
      message: expect.stringMatching(new RegExp(`^Blue/green deployment ${deploymentId} .*expected SWITCHOVER_COMPLETED .*found SWITCHOVER_FAILED \\(Switchover was rolled back.*members .*SWITCHOVER_FAILED; RDS rolled the switchover back .*30 s timeout.*the blue environment .*:db:orders is unchanged`)),
    });
    clock.advance(MINUTE);
    await expect(run({ action: 'verify', deploymentId })).rejects.toMatchObject({ name: BlueGreenErrorName.SWITCHOVER_FAILED, message: expect.stringMatching(/found AVAILABLE\b.*, members .*: AVAILABLE; RDS rolled the switchover back/) });
    expect(rds.databaseList().find((d) => d.identifier === 'orders')).toMatchObject({ engineVersion: '16.4' });
  });

  test('refuses to switch over a deployment that is not AVAILABLE', async () => {
    rds.failNextProvisioning('bad');
    const deploymentId = await provisioned();
    await expect(run({ action: 'switchover', deploymentId })).rejects.toMatchObject({ name: BlueGreenErrorName.INVALID_STATE, message: expect.stringMatching(/expected AVAILABLE to start the switchover, found INVALID_CONFIGURATION \(bad\)/) });
    expect(rdsCalls().filter((c) => c.command === 'SwitchoverBlueGreenDeployment')).toHaveLength(0);
  });
});

describe('blue/green handler: cleanup', () => {
  async function switchedOver(): Promise<string> {
    const deploymentId = await provisioned();
    await run({ action: 'switchover', deploymentId });
    clock.advance(SWITCHOVER_MS);
    return deploymentId;
  }

  test('deletes the deployment and keeps both environments by default', async () => {
    const deploymentId = await switchedOver();
    const out = await run<BlueGreenCleanupResult>({ action: 'cleanup', deploymentId });
    expect(out).toEqual({ deploymentId, deleted: true, deletedOld: [] });
    expect(rds.deployment(deploymentId)?.Status).toBe('DELETING');
    expect(rdsCalls().find((c) => c.command === 'DeleteBlueGreenDeployment')!.input).toEqual({ BlueGreenDeploymentIdentifier: deploymentId });
    expect(rds.databaseList().map((d) => d.identifier).sort()).toEqual(['orders', 'orders-old1']);
    expect(rds.databaseList().find((d) => d.identifier === 'orders')).toMatchObject({ engineVersion: '17.2' });
  });

  test('deletes the old instance with a final snapshot when deleteOldAfter, and a retry is a no-op', async () => {
    configure({ deleteOldAfter: true });
    const deploymentId = await switchedOver();
    const { members } = await run<{ members: BlueGreenMember[] }>({ action: 'verify', deploymentId });
    // RDS keeps the instances of a deployment until its deletion has finished: the old one waits for a later attempt.
    await expect(run({ action: 'cleanup', deploymentId, members })).rejects.toMatchObject({
      name: BlueGreenErrorName.NOT_READY, message: expect.stringMatching(/deleted; its old instance orders-old1 is deleted once RDS has finished deleting the deployment/),
    });
    expect(rds.databaseList().map((d) => d.identifier).sort()).toEqual(['orders', 'orders-old1']);
    await expect(run({ action: 'cleanup', deploymentId, members })).rejects.toMatchObject({ name: BlueGreenErrorName.NOT_READY });
    clock.advance(2 * MINUTE);
    const out = await run<BlueGreenCleanupResult>({ action: 'cleanup', deploymentId, members });
    expect(out.deletedOld).toEqual([{ identifier: 'orders-old1', finalSnapshot: expect.stringMatching(/^orders-old1-zdt-final-\d{14}$/) }]);
    expect(rds.snapshots).toEqual([out.deletedOld[0].finalSnapshot]);
    expect(rds.databaseList().map((d) => d.identifier)).toEqual(['orders']);
    expect(await run<BlueGreenCleanupResult>({ action: 'cleanup', deploymentId })).toEqual({ deploymentId, deleted: false, deletedOld: [] });
  });

  test('a retried cleanup still deletes the old instance after its first attempt deleted the deployment', async () => {
    configure({ deleteOldAfter: true });
    const deploymentId = await switchedOver();
    const { members } = await run<{ members: BlueGreenMember[] }>({ action: 'verify', deploymentId });
    // What the state machine sends: the members verify saw, so a retry does not depend on the deployment.
    await expect(run({ action: 'cleanup', deploymentId, members })).rejects.toMatchObject({ name: BlueGreenErrorName.NOT_READY });
    // RDS shows a deleted deployment as DELETING for a while: the retry must not take it for a failed switchover.
    expect(rds.deployment(deploymentId)?.Status).toBe('DELETING');
    await expect(run({ action: 'cleanup', deploymentId, members })).rejects.toMatchObject({ name: BlueGreenErrorName.NOT_READY, message: expect.stringMatching(/DELETING|deleted/) });

    clock.advance(2 * MINUTE);
    expect(rds.deployment(deploymentId)).toBeUndefined();
    aws.faults.add({ service: 'rds', command: 'DeleteDBInstance', error: 'ThrottlingException' });
    await expect(run({ action: 'cleanup', deploymentId, members })).rejects.toMatchObject({ name: 'ZdtRetryableError' });
    const retried = await run<BlueGreenCleanupResult>({ action: 'cleanup', deploymentId, members });
    expect(retried).toEqual({ deploymentId, deleted: false, deletedOld: [{ identifier: 'orders-old1', finalSnapshot: expect.stringMatching(/^orders-old1-zdt-final-/) }] });
    expect(rds.databaseList().map((d) => d.identifier)).toEqual(['orders']);
  });

  test('the old instance keeps the source\'s deletion protection: cleanup turns it off on the old one only, then deletes it', async () => {
    sourceArn = rds.addInstance('ledger', { deletionProtection: true });
    configure({ deleteOldAfter: true, deploymentName: 'ledger-pg17' });
    const deploymentId = await switchedOver();
    const { members } = await run<{ members: BlueGreenMember[] }>({ action: 'verify', deploymentId });
    await expect(run({ action: 'cleanup', deploymentId, members })).rejects.toMatchObject({ name: BlueGreenErrorName.NOT_READY });
    clock.advance(2 * MINUTE);
    // RDS is busy applying the modification: not ready, retried.
    aws.faults.add({ service: 'rds', command: 'DeleteDBInstance', error: 'InvalidDBInstanceStateFault' });
    await expect(run({ action: 'cleanup', deploymentId, members })).rejects.toMatchObject({
      name: BlueGreenErrorName.NOT_READY, message: expect.stringMatching(/^Old instance ledger-old1: RDS cannot delete it yet/),
    });
    const out = await run<BlueGreenCleanupResult>({ action: 'cleanup', deploymentId, members });
    expect(out.deletedOld).toEqual([{ identifier: 'ledger-old1', finalSnapshot: expect.stringMatching(/^ledger-old1-zdt-final-/) }]);
    // Production (green, under the source's name) keeps its protection.
    expect(rds.databaseList().filter((d) => d.identifier.startsWith('ledger')).map((d) => [d.identifier, d.deletionProtection])).toEqual([['ledger', true]]);
    expect(rdsCalls().filter((c) => c.command === 'ModifyDBInstance').map((c) => c.input)).toEqual([
      { DBInstanceIdentifier: 'ledger-old1', DeletionProtection: false, ApplyImmediately: true },
      { DBInstanceIdentifier: 'ledger-old1', DeletionProtection: false, ApplyImmediately: true },
    ]);
  });

  test('with deleteOldAfter, a source with read replicas is refused at preflight, before anything is switched', async () => {
    sourceArn = rds.addInstance('billing', { readReplicas: ['billing-replica-1'] });
    configure({ deleteOldAfter: true, deploymentName: 'billing-pg17' });
    const deploymentId = await provisioned();
    await expect(run({ action: 'preflight', deploymentId })).rejects.toMatchObject({
      name: BlueGreenErrorName.INVALID_STATE,
      message: expect.stringMatching(/deleteOldAfter deletes the old instance of a source without read replicas, found 2 members .*billing-replica-1.*; set deleteOldAfter to false/),
    });
    expect(rdsCalls().some((c) => c.command === 'SwitchoverBlueGreenDeployment')).toBe(false);
    // Without deleteOldAfter the same deployment passes.
    configure({ deleteOldAfter: false, deploymentName: 'billing-pg17' });
    await expect(run({ action: 'preflight', deploymentId })).resolves.toMatchObject({ status: 'AVAILABLE' });
  });

  test('refuses to clean up a deployment that did not switch over', async () => {
    const deploymentId = await provisioned();
    await expect(run({ action: 'cleanup', deploymentId })).rejects.toMatchObject({ name: BlueGreenErrorName.INVALID_STATE, message: expect.stringMatching(/expected SWITCHOVER_COMPLETED before cleanup, found AVAILABLE/) });
    expect(rds.deployment(deploymentId)).toBeDefined();
  });
});

describe('blue/green handler: requests', () => {
  test('rejects unknown actions and missing deployment ids', async () => {
    await expect(run({ action: 'promote' } as never)).rejects.toMatchObject({ name: 'ZdtInvalidRequest', message: expect.stringMatching(/Unknown action "promote"; expected create, status/) });
    await expect(run({ action: 'verify' } as never)).rejects.toMatchObject({ name: 'ZdtInvalidRequest', message: expect.stringMatching(/verify: expected a deploymentId/) });
    await expect(run({ action: 'status', deploymentId: 'bgd-1', phase: 'later' } as never)).rejects.toMatchObject({ name: 'ZdtInvalidRequest' });
  });
});

describe('FakeRdsBlueGreen', () => {
  test('follows RDS\'s rules: other commands are not implemented, DeleteTarget is refused after a switchover, timeouts are bounded', async () => {
    const client = new RDSClient({});
    await expect(client.send(new DescribeDBInstancesCommand({}))).rejects.toMatchObject({ name: 'FakeNotImplemented' });
    const deploymentId = await provisioned();
    await expect(client.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: deploymentId, SwitchoverTimeout: 29 })))
      .rejects.toMatchObject({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } });
    await client.send(new SwitchoverBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: deploymentId }));
    await expect(client.send(new DeleteBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: deploymentId })))
      .rejects.toMatchObject({ name: 'InvalidBlueGreenDeploymentStateFault' });
    clock.advance(SWITCHOVER_MS);
    await expect(client.send(new DeleteBlueGreenDeploymentCommand({ BlueGreenDeploymentIdentifier: deploymentId, DeleteTarget: true })))
      .rejects.toMatchObject({ name: 'InvalidBlueGreenDeploymentStateFault', message: expect.stringMatching(/switchover is complete/) });
  });

  test('a missing source is DBInstanceNotFoundFault or DBClusterNotFoundFault, as RDS names it', async () => {
    const client = new RDSClient({});
    const create = (Source: string) => client.send(new CreateBlueGreenDeploymentCommand({ BlueGreenDeploymentName: 'missing-source', Source }));
    await expect(create(rds.arn('instance', 'nowhere'))).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
    await expect(create(rds.arn('cluster', 'nowhere'))).rejects.toMatchObject({ name: 'DBClusterNotFoundFault' });
  });
});
