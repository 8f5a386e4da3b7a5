import { AttributeValue } from '@aws-sdk/client-dynamodb';
import { BAKE_TOKEN_WRITE, ErrorName, LockConfig, ReleaseAlarmConfig, StateTable } from '../../lambda/shared/contracts';
import { handler as lockHandler } from '../../lambda/rollout/lock-handler';
import { handler as alarmHandler } from '../../lambda/rollout/release-alarm-handler';
import type { TaskTokenDecision, WaitingTaskHandle } from '../../rehearsal/runner';
import { FakeAws, installAwsFakes } from './support/aws';
import { expectInvalidRequest, NOW_SECONDS, setConfig } from './support/env';

const TABLE = 'zdt-rollout-state';
const SERVICE = 'web';
const ME = 'arn:aws:states:us-east-1:111122223333:execution:web-rollout:release-42';
const NEXT = 'arn:aws:states:us-east-1:111122223333:execution:web-rollout:release-43';
const LOCK: LockConfig = { tableName: TABLE, service: SERVICE, initialLiveColor: 'blue' };
const ALARMS: ReleaseAlarmConfig = { tableName: TABLE, service: SERVICE, alarms: [{ alarmName: 'web-green-hr-errors', color: 'green' }, { alarmName: 'web-blue-hr-errors', color: 'blue' }] };

let fakes: FakeAws;
let answers: Map<string, TaskTokenDecision>;
let handles: Map<string, WaitingTaskHandle>;

function lockedBy(owner: string): void {
  fakes.aws.dynamodb.putItem({
    TableName: TABLE,
    Item: { [StateTable.PARTITION_KEY]: { S: SERVICE }, [StateTable.LOCK_OWNER]: { S: owner }, [StateTable.LOCK_EXPIRES_AT]: { N: String(NOW_SECONDS + 3600) } },
  });
}

function item(): Record<string, AttributeValue> {
  return fakes.aws.dynamodb.getItem({ TableName: TABLE, Key: { [StateTable.PARTITION_KEY]: { S: SERVICE } } }).Item ?? {};
}

/**
 * A bake task of `color` waiting for its token, as the state machine's Bake task stores it (an AWS SDK UpdateItem with
 * BAKE_TOKEN_WRITE; lib/private/rollout-definition/bake.ts). Resolves to the owner and color stored; a refused write
 * rejects with DynamoDB's ConditionalCheckFailedException, after which the state machine reads the flag (flagOf).
 */
async function bake(color: 'blue' | 'green', token: string, owner = ME): Promise<{ owner: string; color: string }> {
  handles.set(token, fakes.aws.stepfunctions.open({ token, executionArn: owner, stateName: 'Bake', resource: 'arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken', issuedAt: fakes.clock.now() },
    (decision) => answers.set(token, decision)));
  fakes.aws.dynamodb.updateItem({
    TableName: TABLE,
    Key: { [StateTable.PARTITION_KEY]: { S: SERVICE } },
    UpdateExpression: BAKE_TOKEN_WRITE.UPDATE,
    ConditionExpression: BAKE_TOKEN_WRITE.CONDITION,
    ExpressionAttributeNames: {
      '#owner': StateTable.LOCK_OWNER, '#updated': StateTable.UPDATED_AT, '#bakeToken': StateTable.BAKE_TOKEN,
      '#bakeOwner': StateTable.BAKE_OWNER, '#bakeColor': StateTable.BAKE_COLOR, '#flag': `${StateTable.HIGH_RESOLUTION_ALARM_OWNER_PREFIX}${color}`,
    },
    ExpressionAttributeValues: { ':token': { S: token }, ':owner': { S: owner }, ':color': { S: color }, ':updated': { S: new Date(fakes.clock.now()).toISOString() } },
  });
  return { owner, color };
}

/** The high-resolution alarm flag of `color` on the state item, as the state machine reads it after a refused bake. */
function flagOf(color: 'blue' | 'green'): { owner?: string; reason?: string } {
  const it = item();
  return { owner: it[`${StateTable.HIGH_RESOLUTION_ALARM_OWNER_PREFIX}${color}`]?.S, reason: it[`${StateTable.HIGH_RESOLUTION_ALARM_REASON_PREFIX}${color}`]?.S };
}

function alarm(name: string, value = 'ALARM') {
  setConfig(ALARMS);
  return alarmHandler({
    'version': '0', 'detail-type': 'CloudWatch Alarm State Change', 'source': 'aws.cloudwatch', 'time': '2026-11-24T10:00:20Z',
    'detail': { alarmName: name, state: { value, reason: 'Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (5.0)' }, previousState: { value: 'OK' } },
  });
}

beforeEach(() => {
  fakes = installAwsFakes();
  answers = new Map();
  handles = new Map();
  fakes.aws.dynamodb.createTable(TABLE, StateTable.PARTITION_KEY);
});
afterEach(() => fakes.restore());

describe('event-driven rollback: a high-resolution alarm ends the bake of its color', () => {
  test('an alarm of the new color answers the waiting bake\'s token with HIGH_RESOLUTION_ALARM, naming the alarm and its reason', async () => {
    lockedBy(ME);
    await bake('green', 'token-1');
    expect(await alarm('web-green-hr-errors')).toMatchObject({ outcome: 'failed-bake' });
    expect(answers.get('token-1')).toEqual({ error: ErrorName.HIGH_RESOLUTION_ALARM, cause: expect.stringMatching(/web-green-hr-errors of the green color went to ALARM at 2026-11-24T10:00:20Z: Threshold Crossed/) });
  });

  test('an alarm between two bakes is not lost: the next bake of that color is refused, and the flag names this rollout with the alarm', async () => {
    lockedBy(ME);
    expect(await alarm('web-green-hr-errors')).toMatchObject({ outcome: 'recorded' });
    await expect(bake('green', 'token-2')).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(flagOf('green')).toEqual({ owner: ME, reason: expect.stringMatching(/web-green-hr-errors of the green color went to ALARM/) });
  });

  test('a bake that timed out meanwhile (stale token) leaves the flag for the next bake', async () => {
    lockedBy(ME);
    await bake('green', 'token-3');
    handles.get('token-3')!.close('timedOut'); // the bake's timeout ("judge now"): the task stops waiting
    expect(await alarm('web-green-hr-errors')).toMatchObject({ outcome: 'recorded', reason: expect.stringMatching(/TaskTimedOut/) });
    await expect(bake('green', 'token-4')).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(flagOf('green').owner).toBe(ME);
  });

  test('the stable color\'s alarm, an OK state, another alarm or no running rollout end nothing', async () => {
    expect(await alarm('web-green-hr-errors')).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/no rollout/) });
    lockedBy(ME);
    await bake('green', 'token-5');
    expect(await alarm('web-blue-hr-errors')).toMatchObject({ outcome: 'recorded' });
    expect(await alarm('web-green-hr-errors', 'OK')).toMatchObject({ outcome: 'ignored' });
    expect(await alarm('someone-elses-alarm')).toMatchObject({ outcome: 'ignored' });
    expect(answers.size).toBe(0);
    await expect(bake('green', 'token-6')).resolves.toMatchObject({ color: 'green' });
  });

  test('a later rollout does not inherit an earlier rollout\'s alarm', async () => {
    lockedBy(ME);
    await alarm('web-green-hr-errors');
    setConfig(LOCK);
    fakes.clock.advance(7200 * 1000);
    await lockHandler({ action: 'acquire', owner: NEXT, ttlSeconds: 3600 });
    await expect(bake('green', 'token-7', NEXT)).resolves.toMatchObject({ owner: NEXT });
    expect(item()[StateTable.BAKE_OWNER]).toEqual({ S: NEXT });
  });

  test('a configuration without its list of alarms is refused, naming the field and the value', async () => {
    setConfig({ tableName: TABLE, service: SERVICE, alarms: { 'web-green-hr-errors': 'green' } });
    await expectInvalidRequest(alarmHandler({ detail: { alarmName: 'x', state: { value: 'ALARM' } } }), 'alarms', '{"web-green-hr-errors":"green"}');
  });
});
