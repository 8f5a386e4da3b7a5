import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateListenerCommand, CreateLoadBalancerCommand, CreateRuleCommand, CreateTargetGroupCommand, DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { setClock } from '../../lambda/shared/clock';
import { CONFIG_ENV, GuardConfig } from '../../lambda/shared/contracts';
import { handler } from '../../lambda/rollout/guard-handler';
import { AwsFakes } from '../../rehearsal/fakes';
import { ManualClock } from '../fakes/manual-clock';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:rollout:crashed';
const TABLE = 'rollout-state';

describe('execution guard', () => {
  let aws: AwsFakes;
  let restoreClock: () => void;
  const eventBridge = mockClient(EventBridgeClient);
  const elb = new ElasticLoadBalancingV2Client({});
  const ddb = new DynamoDBClient({});
  let liveRuleArn: string;
  let tgs: { blue: string; green: string };

  const weights = async () => {
    const rule = (await elb.send(new DescribeRulesCommand({ RuleArns: [liveRuleArn] }))).Rules![0];
    const byArn = Object.fromEntries(rule.Actions![0].ForwardConfig!.TargetGroups!.map((t) => [t.TargetGroupArn, t.Weight]));
    return { blue: byArn[tgs.blue] ?? 0, green: byArn[tgs.green] ?? 0 };
  };

  beforeEach(async () => {
    const clock = new ManualClock();
    restoreClock = setClock(clock);
    aws = new AwsFakes({ clock }).install();
    eventBridge.reset();
    process.env.ZDT_LOG_LEVEL = 'silent';
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'web' }))).LoadBalancers![0];
    const tg = async (name: string) => (await elb.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'ip' }))).TargetGroups![0].TargetGroupArn!;
    tgs = { blue: await tg('web-blue'), green: await tg('web-green') };
    const listener = (await elb.send(new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80,
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
    }))).Listeners![0].ListenerArn!;
    liveRuleArn = (await elb.send(new CreateRuleCommand({
      ListenerArn: listener, Priority: 50000, Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgs.blue, Weight: 30 }, { TargetGroupArn: tgs.green, Weight: 70 }] } }],
    }))).Rules![0].RuleArn!;
    aws.dynamodb.createTable(TABLE, 'service');
    const config: GuardConfig = {
      router: { listenerArn: listener, liveRuleArn, targetGroupArns: tgs, segmentHeader: 'x-zdt-segment', segmentRulePriority: 49999 },
      lock: { tableName: TABLE, service: 'web', initialLiveColor: 'blue' },
    };
    process.env[CONFIG_ENV] = JSON.stringify(config);
  });

  afterEach(() => {
    aws.restore();
    restoreClock();
  });

  const holdLock = (owner: string, liveColor = 'blue') => ddb.send(new PutItemCommand({
    TableName: TABLE,
    Item: { service: { S: 'web' }, lockOwner: { S: owner }, lockExpiresAt: { N: '9999999999' }, liveColor: { S: liveColor } },
  }));

  test('restores 100% to the recorded live color, verified, before the event, when a stopped execution still holds the lock', async () => {
    await holdLock(EXECUTION, 'blue');
    const weightsWhenNotified: unknown[] = [];
    eventBridge.on(PutEventsCommand).callsFake(async () => { weightsWhenNotified.push(await weights()); return { FailedEntryCount: 0, Entries: [] }; });

    const result = await handler({ detail: { executionArn: EXECUTION, status: 'ABORTED' } });

    expect(result).toMatchObject({ action: 'restored', liveColor: 'blue', weights: { blue: 100, green: 0 } });
    expect(await weights()).toEqual({ blue: 100, green: 0 });
    expect(weightsWhenNotified).toEqual([{ blue: 100, green: 0 }]);
    const entries = eventBridge.commandCalls(PutEventsCommand)[0].args[0].input.Entries!;
    expect(entries.map((e) => e.DetailType)).toEqual(['Rollout Rollback Triggered', 'Rollout Rolled Back']);
    expect(JSON.parse(entries[1].Detail!).trigger).toEqual({ kind: 'execution-ended', reason: 'execution ended ABORTED while holding the lock' });
    const item = (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { service: { S: 'web' } } }))).Item!;
    expect(item.lockOwner).toBeUndefined();
    expect(item.liveColor).toEqual({ S: 'blue' });
  });

  test('leaves traffic alone when the execution had released its lock (rolled back, released, refused)', async () => {
    const result = await handler({ detail: { executionArn: EXECUTION, status: 'FAILED' } });
    expect(result).toMatchObject({ action: 'none', reason: 'the execution released its lock' });
    expect(await weights()).toEqual({ blue: 30, green: 70 });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  test('leaves traffic alone when another execution holds the lock', async () => {
    await holdLock('arn:aws:states:us-east-1:123456789012:execution:rollout:current');
    const result = await handler({ detail: { executionArn: EXECUTION, status: 'TIMED_OUT' } });
    expect(result).toMatchObject({ action: 'none', reason: expect.stringContaining('rollout:current') });
    expect(await weights()).toEqual({ blue: 30, green: 70 });
  });

  test('a throttled restore throws a retryable error (EventBridge retries the invocation) and keeps the lock', async () => {
    await holdLock(EXECUTION, 'green');
    aws.faults.add({ service: 'elbv2', command: 'ModifyRule', error: 'ThrottlingException', times: 1 });
    await expect(handler({ detail: { executionArn: EXECUTION, status: 'ABORTED' } })).rejects.toMatchObject({ name: 'ZdtRetryableError' });
    const item = (await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { service: { S: 'web' } } }))).Item!;
    expect(item.lockOwner).toEqual({ S: EXECUTION });
    const retried = await handler({ detail: { executionArn: EXECUTION, status: 'ABORTED' } });
    expect(retried).toMatchObject({ action: 'restored', liveColor: 'green' });
    expect(await weights()).toEqual({ blue: 0, green: 100 });
  });

  test('refuses an event without an execution ARN, naming the field', async () => {
    await expect(handler({ detail: { status: 'ABORTED' } })).rejects.toThrow(/detail\.executionArn/);
  });
});
