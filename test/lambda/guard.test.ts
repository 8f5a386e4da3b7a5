import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CONFIG_ENV, GuardConfig, RolloutEvent } from '../../lambda/shared/contracts';
import { handler } from '../../lambda/rollout/guard-handler';
import { SDK_RETRIES } from '../../lambda/shared/sdk-retries';
import { FakeAws, forwardTo, installAwsFakes, PATH_ALL, WebAlb } from './support/aws';
import { guardFailureData, redrivenRecord } from './support/guard';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:rollout:crashed';
const TABLE = 'rollout-state';

describe('execution guard', () => {
  let fakes: FakeAws;
  let alb: WebAlb;
  let liveRuleArn: string;
  const ddb = new DynamoDBClient({});

  const weights = () => {
    const byArn = alb.weights(liveRuleArn);
    return { blue: byArn[alb.blueTg] ?? 0, green: byArn[alb.greenTg] ?? 0 };
  };

  beforeEach(() => {
    fakes = installAwsFakes();
    alb = new WebAlb(fakes.aws);
    process.env.ZDT_LOG_LEVEL = 'silent';
    liveRuleArn = alb.addRule(alb.listenerArn, 50000, [PATH_ALL], [forwardTo({ [alb.blueTg]: 30, [alb.greenTg]: 70 })]);
    fakes.aws.dynamodb.createTable(TABLE, 'service');
    const config: GuardConfig = {
      router: { listenerArn: alb.listenerArn, liveRuleArn, targetGroupArns: { blue: alb.blueTg, green: alb.greenTg }, segmentHeader: 'x-zdt-segment', segmentRulePriority: 49999 },
      lock: { tableName: TABLE, service: 'web', initialLiveColor: 'blue' },
    };
    process.env[CONFIG_ENV] = JSON.stringify(config);
  });

  afterEach(() => fakes.restore());

  const holdLock = (owner: string, liveColor = 'blue') => ddb.send(new PutItemCommand({
    TableName: TABLE,
    Item: { service: { S: 'web' }, lockOwner: { S: owner }, lockExpiresAt: { N: '9999999999' }, liveColor: { S: liveColor } },
  }));

  test('restores 100% to the recorded live color, verified, before the event, when a stopped execution still holds the lock', async () => {
    await holdLock(EXECUTION, 'blue');
    const weightsWhenNotified: unknown[] = [];
    fakes.aws.events.onDeliver(() => { weightsWhenNotified.push(weights()); });

    const result = await handler({ detail: { executionArn: EXECUTION, status: 'ABORTED' } });

    expect(result).toMatchObject({ action: 'restored', liveColor: 'blue', weights: { blue: 100, green: 0 } });
    expect(weights()).toEqual({ blue: 100, green: 0 });
    expect(weightsWhenNotified).toEqual([{ blue: 100, green: 0 }]);
    const events = fakes.aws.events.events();
    expect(events.map((e) => e.detailType)).toEqual(['Rollout Rollback Triggered', 'Rollout Rolled Back']);
    expect(events[1].detail.trigger).toEqual({ kind: 'execution-ended', reason: 'execution ended ABORTED while holding the lock' });
    const item = (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { service: { S: 'web' } } }))).Item!;
    expect(item.lockOwner).toBeUndefined();
    expect(item.liveColor).toEqual({ S: 'blue' });
  });

  test('leaves traffic alone when the execution had released its lock (rolled back, released, refused)', async () => {
    const result = await handler({ detail: { executionArn: EXECUTION, status: 'FAILED' } });
    expect(result).toMatchObject({ action: 'none', reason: 'the execution released its lock' });
    expect(weights()).toEqual({ blue: 30, green: 70 });
    expect(fakes.aws.events.events()).toHaveLength(0);
  });

  test('leaves traffic alone when another execution holds the lock', async () => {
    await holdLock('arn:aws:states:us-east-1:123456789012:execution:rollout:current');
    const result = await handler({ detail: { executionArn: EXECUTION, status: 'TIMED_OUT' } });
    expect(result).toMatchObject({ action: 'none', reason: expect.stringContaining('rollout:current') });
    expect(weights()).toEqual({ blue: 30, green: 70 });
  });

  test('rides out throttling of the restore within one invocation: its SDK clients retry (lambda/shared/sdk-retries.ts)', async () => {
    await holdLock(EXECUTION, 'green');
    fakes.aws.faults.add({ service: 'elbv2', command: 'ModifyRule', error: 'ThrottlingException', times: SDK_RETRIES.maxAttempts - 1 });
    await expect(handler({ detail: { executionArn: EXECUTION, status: 'ABORTED' } })).resolves.toMatchObject({ action: 'restored', liveColor: 'green' });
    expect(fakes.aws.calls.filter((c) => c.command === 'ModifyRule')).toHaveLength(SDK_RETRIES.maxAttempts);
    expect(weights()).toEqual({ blue: 0, green: 100 });
  });

  test('a restore throttled past its SDK attempts throws a retryable error (Lambda retries the invocation) and keeps the lock', async () => {
    await holdLock(EXECUTION, 'green');
    fakes.aws.faults.add({ service: 'elbv2', command: 'ModifyRule', error: 'ThrottlingException', times: SDK_RETRIES.maxAttempts });
    await expect(handler({ detail: { executionArn: EXECUTION, status: 'ABORTED' } })).rejects.toMatchObject({ name: 'ZdtRetryableError' });
    const item = (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { service: { S: 'web' } } }))).Item!;
    expect(item.lockOwner).toEqual({ S: EXECUTION });
    const retried = await handler({ detail: { executionArn: EXECUTION, status: 'ABORTED' } });
    expect(retried).toMatchObject({ action: 'restored', liveColor: 'green' });
    expect(weights()).toEqual({ blue: 0, green: 100 });
  });

  test('refuses an event without an execution ARN, naming the field', async () => {
    await expect(handler({ detail: { status: 'ABORTED' } })).rejects.toThrow(/Guard event detail: "executionArn" must be a non-empty string; got undefined/);
  });

  describe('when the restore fails', () => {
    const failingRestore = () => fakes.aws.faults.add({ service: 'elbv2', command: 'ModifyRule', error: 'InternalFailure', times: Infinity });
    const guardFailures = () => guardFailureData(fakes);
    const redriven = (messageId: string, receiveCount: number) => redrivenRecord(messageId, receiveCount,
      { 'detail-type': 'Step Functions Execution Status Change', 'detail': { executionArn: EXECUTION, status: 'ABORTED' } });

    test('sends a Rollout Guard Failed event and a GuardFailures datapoint at once, then throws so the invocation is retried', async () => {
      await holdLock(EXECUTION, 'blue');
      failingRestore();
      await expect(handler({ detail: { executionArn: EXECUTION, status: 'ABORTED' } })).rejects.toMatchObject({ name: 'ZdtRetryableError' });
      const events = fakes.aws.events.events();
      expect(events.map((e) => e.detailType)).toEqual([RolloutEvent.GUARD_FAILED]);
      expect(events[0].detail).toMatchObject({ service: 'web', execution: EXECUTION, status: 'ABORTED', error: 'ZdtRetryableError', attempt: { via: 'event' } });
      expect(events[0].detail.reason).toMatch(/Traffic may be split/);
      expect(guardFailures()).toEqual([expect.objectContaining({ Value: 1, Dimensions: [{ Name: 'Service', Value: 'web' }] })]);
      expect(weights()).toEqual({ blue: 30, green: 70 });
    });

    test('the retry queue re-drives the failed invocation: a failure goes back to the queue, a later try restores', async () => {
      await holdLock(EXECUTION, 'blue');
      const fault = failingRestore();
      await expect(handler(redriven('m-1', 1))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
      expect(fakes.aws.events.events()[0].detail.attempt).toEqual({ via: 'retry-queue', receiveCount: 1 });
      expect(guardFailures()).toHaveLength(1);
      fakes.aws.faults.remove(fault);
      await expect(handler(redriven('m-1', 2))).resolves.toEqual({ batchItemFailures: [] });
      expect(weights()).toEqual({ blue: 100, green: 0 });
      expect(fakes.aws.events.events().map((e) => e.detailType)).toEqual([RolloutEvent.GUARD_FAILED, 'Rollout Rollback Triggered', 'Rollout Rolled Back']);
    });
  });
});
