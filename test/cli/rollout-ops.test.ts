import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, ListExecutionsCommand, SendTaskFailureCommand,
  SendTaskSuccessCommand, SFNClient, StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import * as ops from '../../bin/commands/rollout-ops';
import { UsageError } from '../../bin/commands/args';
import { main, regionOfArn } from '../../bin/cli';

const sfnMock = mockClient(SFNClient);
const ddbMock = mockClient(DynamoDBClient);
const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:rollout';
const EXEC = 'arn:aws:states:us-east-1:123456789012:execution:rollout:r1';

let lines: string[];
const ctx = (): ops.OpsContext => ({ sfn: new SFNClient({}), ddb: new DynamoDBClient({}), out: (l) => lines.push(l), sleep: async () => undefined });

const doc = {
  plan: { service: 'web', stepCount: 5, judgeIntervalSeconds: 60 },
  stateTable: 'state-table',
  colors: { target: 'green', stable: 'blue' },
  cursor: { index: 1, step: { number: 2, percent: 5, segments: [], bakeSeconds: 300, bakeIntervals: 5, pause: true } },
  shift: { after: { blue: 95, green: 5 } },
  bake: { passes: 3, required: 5 },
  verdict: { verdict: 'WAIT' },
};
const exited = (name: string, output: unknown): HistoryEvent => ({
  id: 10, timestamp: new Date(), type: 'TaskStateExited', stateExitedEventDetails: { name, output: JSON.stringify(output) },
});
const pauseScheduled: HistoryEvent = {
  id: 11, timestamp: new Date(), type: 'TaskScheduled',
  taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', region: 'us-east-1', parameters: JSON.stringify({ Payload: { action: 'pause', taskToken: 'TOKEN-1' } }) },
};
const pauseSucceeded: HistoryEvent = {
  id: 12, timestamp: new Date(), type: 'TaskSucceeded', taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output: '{}' },
};

beforeEach(() => {
  sfnMock.reset();
  ddbMock.reset();
  lines = [];
  sfnMock.on(ListExecutionsCommand, { stateMachineArn: SM, statusFilter: 'RUNNING' }).resolves({ executions: [{ executionArn: EXEC } as never] });
});

describe('operator commands', () => {
  test('status shows the step, the weights, the bake progress and a pause', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [pauseScheduled, exited('Paused Sent', doc)] });
    await ops.status(ctx(), SM);
    expect(lines.join('\n')).toContain('step 2/5 · blue 95% · green 5% · bake [######....] 3/5 · verdict WAIT · PAUSED: zdt promote | zdt abort');
  });

  test('release starts an execution with the target and reason', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXEC });
    await ops.release(ctx(), SM, { target: 'green', reason: 'release 42' });
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: SM, input: '{"targetColor":"green","reason":"release 42"}' });
  });

  test('release refuses a target that is not a color, before calling AWS', async () => {
    await expect(ops.release(ctx(), SM, { target: 'red' })).rejects.toThrow(/--target must be "blue" or "green", got "red"/);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test.each([
    ['SUCCEEDED', undefined, ops.ExitCode.SUCCEEDED],
    ['FAILED', 'ZdtRolledBack', ops.ExitCode.ROLLED_BACK],
    ['FAILED', 'ZdtRollbackFailed', ops.ExitCode.ROLLBACK_FAILED],
    ['FAILED', 'ZdtRolloutInProgress', ops.ExitCode.REFUSED_OR_FAILED],
  ] as const)('watch ends %s/%s with exit code %s, so a pipeline can gate on it', async (status, error, code) => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [exited('Judge', doc)] });
    sfnMock.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' } as never).resolves({ status, error, cause: 'why' } as never);
    expect(await ops.watch(ctx(), EXEC)).toBe(code);
  });

  test('promote answers the unanswered pause with its task token', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [pauseScheduled, exited('Paused Sent', doc)] });
    await ops.promote(ctx(), SM);
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'TOKEN-1' });
  });

  test('promote refuses when the rollout is not paused', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [exited('Next Step', doc), pauseSucceeded, pauseScheduled] });
    await expect(ops.promote(ctx(), SM)).rejects.toBeInstanceOf(UsageError);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('promote --full while baking flags the execution for a full promotion, only while it holds the lock', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [exited('Judge', doc)] });
    await ops.promote(ctx(), SM, { full: true });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: 'state-table',
      Key: { service: { S: 'web' } },
      ConditionExpression: '#owner = :execution',
      UpdateExpression: 'SET #promote = :execution',
      ExpressionAttributeNames: { '#owner': 'lockOwner', '#promote': 'promoteFullRequested' },
      ExpressionAttributeValues: { ':execution': { S: EXEC } },
    });
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(lines).toEqual([`full promotion requested for ${EXEC}: at its next judgement (within 60 s) the remaining steps are skipped, the new color gets 100% next; that step still bakes and is judged`]);
  });

  test('promote --full at a pause answers it with full: true (the state machine skips to the last step)', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [pauseScheduled, exited('Paused Sent', doc)] });
    await ops.promote(ctx(), SM, { full: true });
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'TOKEN-1', output: JSON.stringify({ promoted: true, full: true }) });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  test('promote --full at the last step is refused: nothing to skip', async () => {
    const last = { ...doc, cursor: { index: 4, step: { ...doc.cursor.step, number: 5, percent: 100 } } };
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [exited('Judge', last)] });
    await expect(ops.promote(ctx(), SM, { full: true })).rejects.toThrow(/is at its last step \(5 of 5\): nothing left to skip/);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  test('abort at a pause fails the pause task, which rolls back', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [pauseScheduled, exited('Paused Sent', doc)] });
    await ops.abort(ctx(), SM, 'bad metrics');
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'TOKEN-1', error: 'ZdtAborted', cause: 'bad metrics' });
  });

  test('abort while baking flags the execution in the state table, only while it holds the lock', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [exited('Judge', doc)] });
    await ops.abort(ctx(), SM, 'bad metrics');
    expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: 'state-table',
      Key: { service: { S: 'web' } },
      ConditionExpression: '#owner = :execution',
      ExpressionAttributeValues: { ':execution': { S: EXEC }, ':reason': { S: 'bad metrics' } },
    });
    expect(lines).toEqual([`abort requested for ${EXEC}: it rolls back at its next judgement (within 60 s)`]);
  });

  test('abort while a judge reads the release signal every 30 s promises no sooner than a minute (its ALB fallback waits for the next minute)', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [exited('Judge', { ...doc, plan: { ...doc.plan, judgeIntervalSeconds: 30 } })] });
    await ops.abort(ctx(), SM, 'bad metrics');
    expect(lines).toEqual([`abort requested for ${EXEC}: it rolls back at its next judgement (within 60 s)`]);
  });

  describe('on a guarded flag rollout', () => {
    const canary = { number: 2, name: 'canary', percent: 5, durationSeconds: 172_800, intervalSeconds: 3600, judge: true, pause: true, leaseSeconds: 190_000 };
    const flagDoc = {
      plan: { phases: [{ number: 1, name: 'preparation', percent: 0 }, canary, { number: 3, name: 'everyone', percent: 100 }], lockTable: 'flag-locks', lockKey: 'flag/app1234/prf1234/new-checkout', execution: EXEC },
      start: { flagKey: 'new-checkout', treatment: 'on', control: 'off' },
      cursor: { index: 1, phase: canary },
      verdict: { verdict: 'PASS', reasons: ['treatment 0.21% errors vs control 0.20%'] },
    };
    // The 'Flag Rollout Paused' event carries the token (EventBridge PutEvents .waitForTaskToken).
    const flagPause = (detail: unknown): HistoryEvent => ({
      id: 11, timestamp: new Date(), type: 'TaskScheduled',
      taskScheduledEventDetails: {
        resourceType: 'events', resource: 'putEvents.waitForTaskToken', region: 'us-east-1',
        parameters: JSON.stringify({ Entries: [{ Source: 'cdk-zero-downtime', DetailType: 'Flag Rollout Paused', Detail: detail }] }),
      },
    });
    const paused = [flagPause({ flag: 'new-checkout', taskToken: 'FLAG-TOKEN' }), exited('Pause After Phase?', flagDoc)];

    test('status shows the flag, its phase, its percentage, the last verdict and the pause', async () => {
      sfnMock.on(GetExecutionHistoryCommand).resolves({ events: paused });
      await ops.status(ctx(), SM);
      expect(lines.join('\n')).toContain('flag new-checkout · phase 2/3 (canary) · treatment for 5% of users · last verdict PASS (treatment 0.21% errors vs control 0.20%) · PAUSED: zdt promote | zdt abort');
    });

    test('promote answers the flag rollout\'s pause with the token of its Paused event (its Detail as JSON too)', async () => {
      sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [flagPause(JSON.stringify({ taskToken: 'FLAG-TOKEN' })), exited('Pause After Phase?', flagDoc)] });
      await ops.promote(ctx(), SM);
      expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'FLAG-TOKEN' });
      expect(lines).toEqual([`promoted ${EXEC} past phase 2`]);
    });

    test('promote --full of a flag rollout is refused (it skips a traffic rollout\'s steps), and nothing is sent', async () => {
      sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [flagPause(JSON.stringify({ taskToken: 'FLAG-TOKEN' })), exited('Pause After Phase?', flagDoc)] });
      await expect(ops.promote(ctx(), SM, { full: true })).rejects.toThrow(/--full skips a traffic rollout's remaining steps; .* is a flag rollout/);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    test('abort at the pause fails it (the flag rolls back); abort while judging sets the abort flag on the flag\'s lock item', async () => {
      sfnMock.on(GetExecutionHistoryCommand).resolves({ events: paused });
      await ops.abort(ctx(), SM, 'checkout complaints');
      expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'FLAG-TOKEN', error: 'ZdtAborted', cause: 'checkout complaints' });
      sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [exited('Judge Phase', flagDoc)] });
      lines = [];
      await ops.abort(ctx(), SM, 'checkout complaints');
      expect(ddbMock).toHaveReceivedCommandWith(UpdateItemCommand, {
        TableName: 'flag-locks', Key: { service: { S: 'flag/app1234/prf1234/new-checkout' } }, ConditionExpression: '#owner = :execution',
      });
      expect(lines).toEqual([`abort requested for ${EXEC}: it rolls back at its next judgement (within 3600 s)`]);
    });

    test.each([
      ['ZdtFlagRolledBack', ops.ExitCode.ROLLED_BACK],
      ['ZdtFlagRollbackFailed', ops.ExitCode.ROLLBACK_FAILED],
    ] as const)('watch ends FAILED/%s with exit code %s', async (error, code) => {
      sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [exited('Judge Phase', flagDoc)] });
      sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error, cause: 'why' } as never);
      expect(await ops.watch(ctx(), EXEC)).toBe(code);
    });
  });

  describe('on a release plan (ReleasePlan)', () => {
    const planDoc = {
      release: { kind: 'release-plan', migrationStateMachine: 'arn:m', trafficStateMachine: 'arn:t', flagStateMachines: [] },
      migrationExecution: 'arn:aws:states:us-east-1:123456789012:execution:m:r1',
    };
    const approval: HistoryEvent = {
      id: 11, timestamp: new Date(), type: 'TaskScheduled',
      taskScheduledEventDetails: {
        resourceType: 'events', resource: 'putEvents.waitForTaskToken', region: 'us-east-1',
        parameters: JSON.stringify({ Entries: [{ Source: 'cdk-zero-downtime', DetailType: 'Release Waiting For Approval', Detail: { plan: 'Data/Release', taskToken: 'APPROVAL-TOKEN' } }] }),
      },
    };

    test('promote approves the contract with the token of its Waiting For Approval event; abort refuses it (the plan halts)', async () => {
      sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [approval, exited('Flag new-checkout Completed Sent', planDoc)] });
      await ops.promote(ctx(), SM);
      expect(sfnMock).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'APPROVAL-TOKEN' });
      expect(lines).toEqual([`promoted ${EXEC} past its approval: the migration contracts next`]);
      lines = [];
      await ops.abort(ctx(), SM, 'not tonight');
      expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'APPROVAL-TOKEN', error: 'ZdtAborted', cause: 'not tonight' });
      expect(lines).toEqual([`aborted ${EXEC}: the approval is refused, the release halts without the contract`]);
    });

    test('promote and abort of a plan that is not waiting for its approval say which part to act on, and send nothing', async () => {
      sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [exited('Traffic Rollout', planDoc)] });
      await expect(ops.promote(ctx(), SM)).rejects.toThrow(/the release plan .* is not paused \(it is at "Traffic Rollout"\)/);
      await expect(ops.abort(ctx(), SM, 'x')).rejects.toThrow(/not waiting for its approval .*abort the part that runs/);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskFailureCommand);
      expect(ddbMock).not.toHaveReceivedCommand(UpdateItemCommand);
    });
  });

  test('promote and abort need a running rollout', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    await expect(ops.abort(ctx(), SM, 'x')).rejects.toThrow(/no rollout is running/);
  });
});

describe('the zdt command line', () => {
  test('every command answers --help with its own usage, exit 0', async () => {
    for (const command of ['status', 'release', 'watch', 'promote', 'abort', 'switchover', 'plan']) {
      const out: string[] = [];
      await expect(main([command, '--help'], (l) => out.push(l))).resolves.toBe(0);
      expect(out.join('\n')).toMatch(new RegExp(`^usage: zdt ${command} `));
    }
    const promote: string[] = [];
    await main(['promote', '-h'], (l) => promote.push(l));
    expect(promote.join('\n')).toContain('--full: skips a traffic rollout\'s remaining steps');
  });

  test('the AWS calls go to the state machine ARN\'s region when no region is configured (no "Region is missing")', async () => {
    expect(regionOfArn('arn:aws:states:eu-west-1:123456789012:stateMachine:rollout')).toBe('eu-west-1');
    expect(regionOfArn('rollout')).toBeUndefined();
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:rollout';
      sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
      await expect(main(['status', '--state-machine', arn], () => undefined)).resolves.toBe(0);
      const client = sfnMock.call(0).thisValue as SFNClient;
      await expect(client.config.region()).resolves.toBe('eu-west-1');
    } finally {
      Object.assign(process.env, saved);
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    }
  });
});
