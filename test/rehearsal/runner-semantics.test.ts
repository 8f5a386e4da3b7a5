import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { AslDefinition, dynamoDbIntegrations, runStateMachine, RunStateMachineOptions, UnsupportedDefinitionError, VirtualClock } from '../../rehearsal';

const MS = 1000;
const MINUTE = 60 * MS;
const FN_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:Worker';
const INVOKE = 'arn:aws:states:::lambda:invoke';

function run(definition: object, options: Partial<RunStateMachineOptions> = {}) {
  return runStateMachine({ definition: definition as AslDefinition, clock: new VirtualClock(), ...options });
}

describe('runStateMachine semantics', () => {
  test('gives a lambda:invoke task the Lambda response shape, with the function result as Payload', async () => {
    const result = await run({
      StartAt: 'Call',
      States: { Call: { Type: 'Task', Resource: INVOKE, Parameters: { 'FunctionName': FN_ARN, 'Payload.$': '$' }, End: true } },
    }, { input: { n: 2 }, lambdas: { Worker: async (p) => ({ doubled: (p as { n: number }).n * 2 }) } });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST', Payload: { doubled: 4 } });
  });

  test('binds functions by name whatever form of ARN the definition uses', async () => {
    const result = await run({
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: `${FN_ARN}:live`, ResultPath: '$.a', Next: 'B' },
        B: { Type: 'Task', Resource: INVOKE, Parameters: { FunctionName: 'Worker:$LATEST' }, ResultSelector: { 'b.$': '$.Payload' }, ResultPath: '$.b', End: true },
      },
    }, { lambdas: new Map([[FN_ARN, () => 'ok']]) });

    expect(result.output).toEqual({ a: 'ok', b: { b: 'ok' } });
    expect(result.taskInvocations.byFunction).toEqual({ Worker: 2 });
  });

  test('names an error thrown without a name "Error", as Lambda does', async () => {
    const result = await run({
      StartAt: 'Call',
      States: { Call: { Type: 'Task', Resource: FN_ARN, End: true } },
    }, { lambdas: { Worker: () => { throw new Error('plain failure'); } } });

    expect(result).toMatchObject({ status: 'FAILED', error: 'Error' });
    expect(JSON.parse(result.cause!)).toMatchObject({ errorType: 'Error', errorMessage: 'plain failure' });
  });

  test('evaluates intrinsic functions in a Fail state\'s CausePath, as AWS does (the engine alone fails with States.Runtime)', async () => {
    const result = await run({
      StartAt: 'Give Up',
      States: { 'Give Up': { Type: 'Fail', Error: 'ZdtRolledBack', CausePath: "States.Format('rolled back to {}: {}', $.color, $.why)" } },
    }, { input: { color: 'blue', why: 'error rate' } });

    expect(result).toMatchObject({ status: 'FAILED', error: 'ZdtRolledBack', cause: 'rolled back to blue: error rate' });
    expect(result.stateTransitions).toBe(1);
    expect(result.events.map((e) => e.state).filter(Boolean)).not.toContainEqual(expect.stringContaining('(rehearsal)'));
  });

  test('matches IsPresent: false when the field is absent (the engine alone never matches it)', async () => {
    const definition = {
      StartAt: 'Check',
      States: {
        Check: { Type: 'Choice', Choices: [{ Variable: '$.lock', IsPresent: false, Next: 'Free' }], Default: 'Held' },
        Free: { Type: 'Pass', Result: 'free', End: true },
        Held: { Type: 'Pass', Result: 'held', End: true },
      },
    };
    expect((await run(definition, { input: {} })).output).toBe('free');
    expect((await run(definition, { input: { lock: 'x' } })).output).toBe('held');
  });

  test('replaces the whole input with ResultPath "$" (the engine alone writes a key named "$")', async () => {
    const result = await run({
      StartAt: 'Set',
      States: { Set: { Type: 'Pass', Result: { replaced: true }, ResultPath: '$', End: true } },
    }, { input: { original: true } });
    expect(result.output).toEqual({ replaced: true });
  });

  test('sets a falsy Pass Result such as 0 (the engine alone passes the input through)', async () => {
    const result = await run({
      StartAt: 'ResetErrors',
      States: {
        ResetErrors: { Type: 'Pass', Result: 0, ResultPath: '$.judgeErrors', Next: 'NotPaused' },
        NotPaused: { Type: 'Pass', Result: false, ResultPath: '$.paused', End: true },
      },
    }, { input: { judgeErrors: 3 } });
    expect(result.output).toEqual({ judgeErrors: 0, paused: false });
    expect(result.events.filter((e) => e.type === 'StateEntered').map((e) => e.stateType)).toEqual(['Pass', 'Pass']);
    expect(result.taskInvocations.total).toBe(0);
  });

  test('waits until a Timestamp from the input, in virtual time', async () => {
    const clock = new VirtualClock();
    const until = new Date(clock.now() + 90 * MINUTE).toISOString();
    const result = await runStateMachine({
      definition: { StartAt: 'Until', States: { Until: { Type: 'Wait', TimestampPath: '$.until', End: true } } },
      input: { until },
      clock,
    });
    expect(result.durationMs).toBe(90 * MINUTE);
    expect(result.output).toEqual({ until });
  });

  test('gives Map iterations the execution\'s input and virtual start time in the context object', async () => {
    const clock = new VirtualClock();
    const result = await runStateMachine({
      clock,
      input: { items: [1, 2], release: 'r1' },
      definition: {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map', ItemsPath: '$.items', End: true,
            ItemProcessor: {
              StartAt: 'Read',
              States: { Read: { Type: 'Pass', Parameters: { 'release.$': '$$.Execution.Input.release', 'started.$': '$$.Execution.StartTime' }, End: true } },
            },
          },
        },
      },
    });
    const started = new Date(clock.now()).toISOString();
    expect(result.output).toEqual([{ release: 'r1', started }, { release: 'r1', started }]);
  });

  test('runs Parallel branches\' waits side by side', async () => {
    const result = await run({
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel', End: true,
          Branches: [
            { StartAt: 'Short', States: { Short: { Type: 'Wait', Seconds: 600, End: true } } },
            { StartAt: 'Long', States: { Long: { Type: 'Wait', Seconds: 1200, End: true } } },
          ],
        },
      },
    });
    expect(result.durationMs).toBe(20 * MINUTE);
  });

  test('runs two executions on one clock side by side', async () => {
    const clock = new VirtualClock();
    const definition = { StartAt: 'Bake', States: { Bake: { Type: 'Wait', Seconds: 600, End: true } } } as AslDefinition;
    const [first, second] = await Promise.all([runStateMachine({ definition, clock }), runStateMachine({ definition, clock })]);
    expect([first.durationMs, second.durationMs]).toEqual([10 * MINUTE, 10 * MINUTE]);
    expect(first.executionArn).not.toBe(second.executionArn);
  });

  test('caps retry intervals at MaxDelaySeconds and jitters them with the given random source', async () => {
    let calls = 0;
    const result = await run({
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task', Resource: FN_ARN, End: true,
          Retry: [{ ErrorEquals: ['Busy'], IntervalSeconds: 10, BackoffRate: 10, MaxAttempts: 3, MaxDelaySeconds: 50, JitterStrategy: 'FULL' }],
        },
      },
    }, {
      random: () => 0.5,
      lambdas: { Worker: () => { calls += 1; if (calls < 4) throw Object.assign(new Error('busy'), { name: 'Busy' }); return 'done'; } },
    });
    expect(result.events.filter((e) => e.type === 'StateRetried').map((e) => e.retry?.delayMs)).toEqual([5 * MS, 25 * MS, 25 * MS]);
    expect(result.durationMs).toBe(55 * MS);
    expect(result.output).toBe('done');
  });

  test('times a Task out in virtual time when its work runs past TimeoutSeconds', async () => {
    const clock = new VirtualClock();
    const result = await runStateMachine({
      clock,
      definition: {
        StartAt: 'Slow',
        States: {
          Slow: { Type: 'Task', Resource: FN_ARN, TimeoutSeconds: 60, Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'TimedOut' }], End: true },
          TimedOut: { Type: 'Pass', Result: 'timed out', End: true },
        },
      },
      lambdas: { Worker: () => clock.sleep(2 * MINUTE) },
    });
    expect(result.output).toBe('timed out');
  });

  test('takes a Task\'s TimeoutSecondsPath from its input, and keeps the resolved value out of the call', async () => {
    const clock = new VirtualClock();
    const seen: unknown[] = [];
    const definition = {
      StartAt: 'Slow',
      States: {
        Slow: {
          Type: 'Task', Resource: INVOKE, Parameters: { 'FunctionName': FN_ARN, 'Payload.$': '$.payload' }, TimeoutSecondsPath: '$.limit',
          Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'TimedOut' }], End: true,
        },
        TimedOut: { Type: 'Pass', Result: 'timed out', End: true },
      },
    };
    const lambdas = { Worker: async (p: unknown) => { seen.push(p); await clock.sleep(90 * MS); return 'done'; } };
    expect((await runStateMachine({ clock, definition: definition as AslDefinition, input: { limit: 60, payload: { a: 1 } }, lambdas })).output).toBe('timed out');
    expect((await runStateMachine({ clock, definition: definition as AslDefinition, input: { limit: 120, payload: { a: 1 } }, lambdas })).output).toMatchObject({ Payload: 'done' });
    expect(seen).toEqual([{ a: 1 }, { a: 1 }]);
    const bad = await runStateMachine({ clock, definition: definition as AslDefinition, input: { limit: 0, payload: {} }, lambdas });
    expect(bad).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
  });

  test('times the execution out at its TimeoutSeconds in virtual time', async () => {
    const result = await run({
      TimeoutSeconds: 300,
      StartAt: 'Long',
      States: { Long: { Type: 'Wait', Seconds: 3600, Next: 'After' }, After: { Type: 'Pass', End: true } },
    });
    expect(result).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout', durationMs: 300 * MS });
    expect(result.events.some((e) => e.type === 'StateEntered' && e.state === 'After')).toBe(false);
    expect(result.events[result.events.length - 1].type).toBe('ExecutionTimedOut');
  });

  test('stops the execution when the signal aborts', async () => {
    const controller = new AbortController();
    const result = await run({
      StartAt: 'Gate',
      States: { Gate: { Type: 'Task', Resource: FN_ARN, Next: 'After' }, After: { Type: 'Pass', End: true } },
    }, { signal: controller.signal, lambdas: { Worker: () => { controller.abort(); return 'late'; } } });
    expect(result.status).toBe('ABORTED');
    expect(result.events.some((e) => e.state === 'After')).toBe(false);
  });

  test('fails clearly, past every Retry and Catch, when a dynamic FunctionName is unbound', async () => {
    const result = await run({
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task', Resource: INVOKE, Parameters: { 'FunctionName.$': '$.fn' }, End: true,
          Retry: [{ ErrorEquals: ['States.ALL'] }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Swallowed' }],
        },
        Swallowed: { Type: 'Pass', End: true },
      },
    }, { input: { fn: 'Nowhere' }, lambdas: { Worker: () => 'never' } });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Rehearsal.UnboundResource');
    expect(result.cause).toMatch(/State "Call" invokes Lambda function "Nowhere".*not bound/);
    expect(result.taskInvocations.total).toBe(0);
  });

  test('refuses a resource that is neither a function nor a service integration', async () => {
    await expect(run({ StartAt: 'X', States: { X: { Type: 'Task', Resource: 'arn:aws:ecs:us-east-1:123456789012:cluster/c', End: true } } }))
      .rejects.toThrow(/state "X": resource "arn:aws:ecs:us-east-1:123456789012:cluster\/c" is neither a Lambda function nor a service integration/);
  });

  test('refuses JSONata and variables, which the engine would silently ignore', async () => {
    const jsonata = run({ QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Pass', Output: '{% 1 %}', End: true } } });
    await expect(jsonata).rejects.toThrow(UnsupportedDefinitionError);
    await expect(jsonata).rejects.toThrow(/QueryLanguage JSONata[\s\S]*state "A" uses Output/);
    await expect(run({ StartAt: 'A', States: { A: { Type: 'Pass', Assign: { x: 1 }, End: true } } })).rejects.toThrow(/state "A" uses Assign/);
  });

  test('refuses two states of one name, since tasks are bound by state name', async () => {
    const definition = {
      StartAt: 'Work',
      States: {
        Work: { Type: 'Map', End: true, ItemProcessor: { StartAt: 'Work', States: { Work: { Type: 'Pass', End: true } } } },
      },
    };
    await expect(run(definition, { validate: false })).rejects.toThrow(/two states are named "Work"/);
  });

  test('serves a callback integration: the token reaches the integration, then the operator\'s answer is the output', async () => {
    const published: unknown[] = [];
    const result = await run({
      StartAt: 'Ask',
      States: { Ask: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish.waitForTaskToken', Parameters: { 'TopicArn': 'arn:aws:sns:us-east-1:123456789012:t', 'Message.$': "States.Format('approve {}', $$.Task.Token)" }, End: true } },
    }, {
      integrations: { 'sns:publish': (params) => { published.push(params); return { MessageId: 'm' }; } },
      taskTokens: (token, request) => ({ output: { token, deliveredBy: request.deliveryResult } }),
    });
    const { token } = result.output as { token: string };
    expect(published).toEqual([{ TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: `approve ${token}` }]);
    expect(result.output).toEqual({ token, deliveredBy: { MessageId: 'm' } });
  });

  describe('dynamoDbIntegrations', () => {
    const ddb = mockClient(DynamoDBClient);
    afterEach(() => ddb.reset());
    afterAll(() => ddb.restore());

    test('names DynamoDB errors as Step Functions does, so a conditional write can be caught', async () => {
      ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
      const result = await run({
        StartAt: 'Lock',
        States: {
          Lock: {
            Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', End: true,
            Parameters: { TableName: 'State', Item: { service: { S: 'checkout' } }, ConditionExpression: 'attribute_not_exists(service)' },
            Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.error', Next: 'Held' }],
          },
          Held: { Type: 'Pass', End: true },
        },
      }, { integrations: dynamoDbIntegrations() });
      expect(result.output).toEqual({ error: { Error: 'DynamoDB.ConditionalCheckFailedException', Cause: 'The conditional request failed' } });
      expect(ddb.commandCalls(PutItemCommand)[0].args[0].input).toMatchObject({ TableName: 'State', ConditionExpression: 'attribute_not_exists(service)' });
    });
  });
});
