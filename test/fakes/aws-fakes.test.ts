import { CloudWatchClient, DescribeAlarmsCommand, ListDashboardsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateLoadBalancerCommand, DescribeLoadBalancersCommand, DescribeSSLPoliciesCommand, ElasticLoadBalancingV2Client, RuleNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ErrorName } from '../../lambda/shared/contracts';
import { awsCall } from '../../lambda/shared/errors';
import { AwsFakes } from '../../rehearsal/fakes';
import { ManualClock } from './manual-clock';

async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  const err = await promise.then(() => undefined, (e: Error) => e);
  if (!err) throw new Error('expected the call to fail');
  return err;
}

/** Clients that make one attempt, as the handlers' under a Step Functions task: each fault reaches the caller. */
const ONE_ATTEMPT = { maxAttempts: 1 };

describe('AwsFakes', () => {
  let clock: ManualClock;
  let aws: AwsFakes;
  const elbClientCreatedBeforeInstall = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });

  beforeEach(() => {
    clock = new ManualClock();
    aws = new AwsFakes({ clock }).install();
  });

  afterEach(() => aws.restore());

  test('routes every instance of the SDK clients to the fakes, including ones created before install()', async () => {
    await elbClientCreatedBeforeInstall.send(new CreateLoadBalancerCommand({ Name: 'shop' }));
    const out = await new ElasticLoadBalancingV2Client(ONE_ATTEMPT).send(new DescribeLoadBalancersCommand({}));
    expect(out.LoadBalancers!.map((lb) => lb.LoadBalancerName)).toEqual(['shop']);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(aws.alb.describeLoadBalancers().LoadBalancers).toHaveLength(1);
  });

  test('restore() gives the SDK clients their own send back', () => {
    const stubbed = ElasticLoadBalancingV2Client.prototype.send;
    aws.restore();
    expect(ElasticLoadBalancingV2Client.prototype.send).not.toBe(stubbed);
    expect(CloudWatchClient.prototype.send).toBe(Object.getPrototypeOf(CloudWatchClient.prototype).send);
    aws.install();
    expect(ElasticLoadBalancingV2Client.prototype.send).not.toBe(Object.getPrototypeOf(ElasticLoadBalancingV2Client.prototype).send);
  });

  test('installing a second AwsFakes routes the clients to it and detaches the first', async () => {
    const second = new AwsFakes({ clock }).install();
    try {
      await new ElasticLoadBalancingV2Client(ONE_ATTEMPT).send(new CreateLoadBalancerCommand({ Name: 'shop' }));
      expect(second.alb.describeLoadBalancers().LoadBalancers).toHaveLength(1);
      expect(aws.alb.describeLoadBalancers().LoadBalancers).toHaveLength(0);
      expect(aws.calls).toEqual([]);
    } finally {
      second.restore();
    }
  });

  test('logs every call with its virtual time', async () => {
    const elb = new ElasticLoadBalancingV2Client(ONE_ATTEMPT);
    await elb.send(new CreateLoadBalancerCommand({ Name: 'shop' }));
    clock.advanceSeconds(30);
    await failure(elb.send(new CreateLoadBalancerCommand({ Name: '-bad-' })));
    await new CloudWatchClient(ONE_ATTEMPT).send(new DescribeAlarmsCommand({}));
    expect(aws.calls.map((c) => [c.service, c.command, c.time - aws.calls[0].time, c.error])).toEqual([
      ['elbv2', 'CreateLoadBalancer', 0, undefined],
      ['elbv2', 'CreateLoadBalancer', 30_000, 'ValidationError'],
      ['cloudwatch', 'DescribeAlarms', 30_000, undefined],
    ]);
    expect(aws.callCount('elbv2', 'CreateLoadBalancer')).toBe(2);
    expect(aws.calls[0].input).toEqual({ Name: 'shop' });
  });

  test('injects throttling for the next N matching calls, which awsCall turns into a retryable error', async () => {
    const fault = aws.faults.add({ service: 'elbv2', command: 'DescribeLoadBalancers', error: 'ThrottlingException', times: 2 });
    const elb = new ElasticLoadBalancingV2Client(ONE_ATTEMPT);
    const describe = () => awsCall('DescribeLoadBalancers', () => elb.send(new DescribeLoadBalancersCommand({})));
    for (let i = 0; i < 2; i++) {
      const err = await failure(describe());
      expect(err.name).toBe(ErrorName.RETRYABLE);
      expect(err.message).toMatch(/DescribeLoadBalancers failed with a retryable fault \(ThrottlingException\): Rate exceeded/);
    }
    await expect(describe()).resolves.toBeDefined();
    await elb.send(new CreateLoadBalancerCommand({ Name: 'shop' })); // another command: not affected
    expect(fault.fired).toBe(2);
    expect(aws.calls.filter((c) => c.injected).map((c) => c.error)).toEqual(['ThrottlingException', 'ThrottlingException']);
  });

  test('shapes injected errors like the SDK: status code, fault, and the modeled class when there is one', async () => {
    aws.faults.add({ service: 'elbv2', command: 'DescribeLoadBalancers', error: 'ThrottlingException' });
    aws.faults.add({ service: 'elbv2', command: 'DescribeLoadBalancers', error: 'InternalFailure', after: 1 });
    aws.faults.add({ service: 'elbv2', command: 'DescribeLoadBalancers', error: 'ServiceUnavailable', after: 2 });
    aws.faults.add({ service: 'elbv2', command: 'DescribeLoadBalancers', error: 'RuleNotFoundException', after: 3, message: 'gone' });
    const elb = new ElasticLoadBalancingV2Client(ONE_ATTEMPT);
    const errors = [];
    for (let i = 0; i < 4; i++) errors.push(await failure(elb.send(new DescribeLoadBalancersCommand({}))));
    expect(errors.map((e) => [e.name, e.$metadata?.httpStatusCode, (e as { $fault?: string }).$fault])).toEqual([
      ['ThrottlingException', 400, 'client'], ['InternalFailure', 500, 'server'], ['ServiceUnavailable', 503, 'server'], ['RuleNotFoundException', 400, 'client'],
    ]);
    expect(errors[3]).toBeInstanceOf(RuleNotFoundException);
    expect(errors[3].message).toBe('gone');
    await expect(elb.send(new DescribeLoadBalancersCommand({}))).resolves.toBeDefined();
  });

  test('a permanent fault (times: Infinity) fires after the calls it lets through, until removed', async () => {
    const fault = aws.faults.add({ service: 'dynamodb', command: 'GetItem', error: 'InternalServerError', times: Infinity, after: 1 });
    aws.dynamodb.createTable('state', 'service');
    const ddb = new DynamoDBClient(ONE_ATTEMPT);
    const get = () => ddb.send(new GetItemCommand({ TableName: 'state', Key: { service: { S: 'shop' } } }));
    await expect(get()).resolves.toBeDefined();
    for (let i = 0; i < 5; i++) expect((await failure(get())).name).toBe('InternalServerError');
    expect(fault.fired).toBe(5);
    aws.faults.remove(fault);
    await expect(get()).resolves.toBeDefined();
  });

  test('a delay fault slows the matching calls down on the clock, then lets them through; it needs exactly one of error and delayMs', async () => {
    const fault = aws.faults.add({ service: 'dynamodb', command: 'GetItem', delayMs: 12_000, times: 1 });
    aws.dynamodb.createTable('state', 'service');
    const ddb = new DynamoDBClient(ONE_ATTEMPT);
    const get = () => ddb.send(new GetItemCommand({ TableName: 'state', Key: { service: { S: 'shop' } } }));
    const start = clock.now();
    await expect(get()).resolves.toBeDefined();
    expect(clock.now() - start).toBe(12_000);
    await expect(get()).resolves.toBeDefined();
    expect(clock.now() - start).toBe(12_000);
    expect(fault.fired).toBe(1);
    expect(aws.calls.filter((c) => c.command === 'GetItem').map((c) => [c.delayedMs, c.error])).toEqual([[12_000, undefined], [undefined, undefined]]);
    expect(() => aws.faults.add({ service: 'dynamodb', command: 'GetItem' })).toThrow(/needs exactly one of error and delayMs, got error undefined and delayMs undefined/);
    expect(() => aws.faults.add({ service: 'dynamodb', error: 'InternalServerError', delayMs: 5 })).toThrow(/exactly one of error and delayMs/);
    expect(() => aws.faults.add({ service: 'dynamodb', delayMs: -1 })).toThrow(/delayMs must be a finite number of milliseconds above 0, got -1/);
  });

  test('rejects commands the fakes do not implement instead of answering undefined', async () => {
    const err = await failure(new ElasticLoadBalancingV2Client(ONE_ATTEMPT).send(new DescribeSSLPoliciesCommand({})));
    expect(err.name).toBe('FakeNotImplemented');
    expect(err.message).toMatch(/FakeAlb .* does not implement DescribeSSLPolicies/);
    expect((await failure(new CloudWatchClient(ONE_ATTEMPT).send(new ListDashboardsCommand({})))).name).toBe('FakeNotImplemented');
  });

  test('records EventBridge events with their time, fails bad entries one by one, and accepts Detail objects from Step Functions', async () => {
    clock.advanceSeconds(5);
    const out = await aws.events.putEvents({ Entries: [
      { Source: 'cdk-zero-downtime', DetailType: 'Rollout Started', Detail: JSON.stringify({ service: 'shop' }) },
      { Source: 'cdk-zero-downtime', DetailType: 'Rollout Completed', Detail: { service: 'shop', color: 'green' } },
      { Source: 'cdk-zero-downtime', DetailType: 'Broken', Detail: '{not json' },
      { DetailType: 'No source', Detail: '{}' },
    ] });
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries.map((e) => e.ErrorCode)).toEqual([undefined, undefined, 'MalformedDetail', 'InvalidArgument']);
    expect(aws.events.events().map((e) => [e.detailType, e.detail, e.time, e.eventBusName])).toEqual([
      ['Rollout Started', { service: 'shop' }, clock.now(), 'default'],
      ['Rollout Completed', { service: 'shop', color: 'green' }, clock.now(), 'default'],
    ]);
    await expect(aws.events.putEvents({ Entries: [] })).rejects.toMatchObject({ name: 'ValidationException' });
    expect(aws.callCount('events', 'PutEvents')).toBe(2);
  });

  test('routes the EventBridge SDK client to the recorder and tells onDeliver listeners of every accepted PutEvents', async () => {
    const seen: string[][] = [];
    const unsubscribe = aws.events.onDeliver((params, result) => {
      seen.push((params.Entries ?? []).map((e, i) => `${e.DetailType}:${result.Entries[i].EventId ? 'ok' : result.Entries[i].ErrorCode}`));
    });
    const out = await new EventBridgeClient(ONE_ATTEMPT).send(new PutEventsCommand({ Entries: [
      { Source: 'cdk-zero-downtime', DetailType: 'Rollout Started', Detail: JSON.stringify({ service: 'shop' }) },
      { Source: 'cdk-zero-downtime', DetailType: 'Broken', Detail: '{not json' },
    ] }));
    expect(out.FailedEntryCount).toBe(1);
    expect(out.$metadata.httpStatusCode).toBe(200);
    await aws.events.putEvents({ Entries: [{ Source: 'cdk-zero-downtime', DetailType: 'Rollout Completed', Detail: { service: 'shop' } }] });
    unsubscribe();
    await aws.events.putEvents({ Entries: [{ Source: 'cdk-zero-downtime', DetailType: 'After', Detail: {} }] });
    expect(seen).toEqual([['Rollout Started:ok', 'Broken:MalformedDetail'], ['Rollout Completed:ok']]);
    expect(aws.events.events().map((e) => e.detailType)).toEqual(['Rollout Started', 'Rollout Completed', 'After']);
    aws.faults.add({ service: 'events', command: 'PutEvents', error: 'InternalException' });
    const err = await failure(new EventBridgeClient(ONE_ATTEMPT).send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] })));
    expect(err).toBeInstanceOf(EventBridgeServiceException);
    expect(err.$metadata?.httpStatusCode).toBe(500);
    expect(aws.callCount('events', 'PutEvents')).toBe(4);
  });

  test('records SNS messages and validates topics and subjects; faults apply to native integrations too', async () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:rollouts';
    const out = await aws.sns.publish({ TopicArn: topic, Subject: 'Rollout Rolled Back', Message: { service: 'shop' } });
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(aws.sns.messages(topic)).toEqual([expect.objectContaining({ subject: 'Rollout Rolled Back', message: '{"service":"shop"}', time: clock.now() })]);
    await expect(aws.sns.publish({ TopicArn: 'not-an-arn', Message: 'x' })).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(aws.sns.publish({ TopicArn: topic, Subject: 'two\nlines', Message: 'x' })).rejects.toMatchObject({ name: 'InvalidParameterException' });
    aws.faults.add({ service: 'sns', command: 'Publish', error: 'InternalError' });
    await expect(aws.sns.publish({ TopicArn: topic, Message: 'x' })).rejects.toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect(aws.sns.messages()).toHaveLength(1);
  });

  test('invoke() serves native DynamoDB integrations with logging and faults', async () => {
    aws.dynamodb.createTable('state', 'service');
    const params = { TableName: 'state', Key: { service: { S: 'shop' } }, UpdateExpression: 'SET liveColor = :c', ExpressionAttributeValues: { ':c': { S: 'green' } }, ReturnValues: 'ALL_NEW' };
    await expect(aws.invoke('dynamodb', 'UpdateItem', params)).resolves.toEqual({ Attributes: { service: { S: 'shop' }, liveColor: { S: 'green' } } });
    aws.faults.add({ service: 'dynamodb', command: 'UpdateItem', error: 'ProvisionedThroughputExceededException' });
    await expect(aws.invoke('dynamodb', 'UpdateItem', params)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    await expect(aws.invoke('dynamodb', 'Query', {})).rejects.toMatchObject({ name: 'FakeNotImplemented' });
    expect(aws.calls.map((c) => c.command)).toEqual(['UpdateItem', 'UpdateItem', 'Query']);
  });

  test('hands out copies: changing a response or a request afterwards never changes the fake', async () => {
    const elb = new ElasticLoadBalancingV2Client(ONE_ATTEMPT);
    const input = { Name: 'shop', SecurityGroups: ['sg-1'] };
    await elb.send(new CreateLoadBalancerCommand(input));
    input.SecurityGroups.push('sg-2');
    const first = await elb.send(new DescribeLoadBalancersCommand({}));
    first.LoadBalancers![0].SecurityGroups!.push('sg-3');
    const second = await elb.send(new DescribeLoadBalancersCommand({}));
    expect(second.LoadBalancers![0].SecurityGroups).toEqual(['sg-1']);
    expect(second.LoadBalancers![0].CreatedTime).toBeInstanceOf(Date);
  });
});
