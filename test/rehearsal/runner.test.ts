import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { join } from 'node:path';
import { setClock } from '../../lambda/shared/clock';
import { CONFIG_ENV, ErrorName } from '../../lambda/shared/contracts';
import {
  bindHandlers, CfnTemplate, dynamoDbIntegrations, IntegrationHandler, RunResult, runStateMachine, RunStateMachineOptions,
  stateMachineOf, TaskTokenHandler, TimelineEvent, VirtualClock,
} from '../../rehearsal';
import { EventBridgeRecorder, PublishParams, PutEventsParams, SnsRecorder } from '../../rehearsal/fakes';
import { PROBE, synthProbeTemplate } from './fixtures/probe-stack';

const MS = 1000;
const PROBE_FUNCTION = 'ProbeB22986FB';
const GATE_OPERATOR_SECONDS = 120;

/** Virtual seconds the probe machine spends when the gate is promoted after GATE_OPERATOR_SECONDS. */
const EXPECTED_VIRTUAL_SECONDS =
  PROBE.bakeSeconds
  + PROBE.items.length * PROBE.paceSeconds
  // The Map's iterations wait side by side.
  + PROBE.mapItemWaitSeconds
  // Flaky: two failures, retried after 5 s and 10 s.
  + PROBE.flakyIntervalSeconds + PROBE.flakyIntervalSeconds * PROBE.flakyBackoff
  // Doomed: retried after 1 s and 3 s, then caught.
  + PROBE.doomedIntervalSeconds + PROBE.doomedIntervalSeconds * PROBE.doomedBackoff
  + GATE_OPERATOR_SECONDS;

describe('runStateMachine on a synthesized CDK state machine', () => {
  let template: CfnTemplate;
  const ddb = mockClient(DynamoDBClient);

  beforeAll(() => {
    template = synthProbeTemplate();
  });
  beforeEach(() => {
    ddb.reset();
    ddb.on(UpdateItemCommand).resolves({ Attributes: { liveColor: { S: 'green' } } });
  });
  afterAll(() => ddb.restore());

  interface Recorded { readonly sns: SnsRecorder; readonly events: EventBridgeRecorder; readonly tokens: string[] }

  async function rehearse(operator: (clock: VirtualClock) => TaskTokenHandler, extra: Partial<RunStateMachineOptions> = {}): Promise<{ result: RunResult; clock: VirtualClock; recorded: Recorded }> {
    const clock = new VirtualClock();
    const restoreClock = setClock(clock);
    const recorded: Recorded = { sns: new SnsRecorder(clock), events: new EventBridgeRecorder(clock), tokens: [] };
    const snsPublish: IntegrationHandler = (params) => recorded.sns.publish(params as PublishParams);
    const eventsPutEvents: IntegrationHandler = (params) => recorded.events.putEvents(params as PutEventsParams);
    try {
      const result = await runStateMachine({
        definition: stateMachineOf(template).definition,
        input: {},
        clock,
        lambdas: bindHandlers(template, {}, { lambdaRoot: join(__dirname, 'fixtures'), environment: { ZDT_LOG_LEVEL: 'silent' } }),
        integrations: { ...dynamoDbIntegrations(), 'sns:publish': snsPublish, 'events:putEvents': eventsPutEvents },
        taskTokens: (token, request) => {
          recorded.tokens.push(token);
          return operator(clock)(token, request);
        },
        ...extra,
      });
      return { result, clock, recorded };
    } finally {
      restoreClock();
    }
  }

  const promoteAfterOperatorTime = (clock: VirtualClock): TaskTokenHandler => async () => {
    await clock.sleep(GATE_OPERATOR_SECONDS * MS);
    return { output: { approved: true } };
  };

  const entered = (events: readonly TimelineEvent[], state: string) => events.filter((e) => e.type === 'StateEntered' && e.state === state);
  const exited = (events: readonly TimelineEvent[], state: string) => events.filter((e) => e.type === 'StateExited' && e.state === state);

  // Real time is a benchmark's business (npm run bench), not a test's: on 2 shared cores it varies tenfold.
  test('succeeds and spends exactly the waits plus the retry intervals in virtual time', async () => {
    const { result } = await rehearse(promoteAfterOperatorTime);

    expect(result.status).toBe('SUCCEEDED');
    expect(result.durationMs).toBe(EXPECTED_VIRTUAL_SECONDS * MS);
    expect(result.stoppedAt - result.startedAt).toBe(EXPECTED_VIRTUAL_SECONDS * MS);
    expect(result.realDurationMs).toBeGreaterThanOrEqual(0);
  });

  test('retries a named error with backoff, then succeeds', async () => {
    const { result } = await rehearse(promoteAfterOperatorTime);

    const retries = result.events.filter((e) => e.type === 'StateRetried' && e.state === 'Flaky');
    expect(retries.map((e) => [e.error, e.retry])).toEqual([
      [ErrorName.RETRYABLE, { attempt: 2, delayMs: PROBE.flakyIntervalSeconds * MS }],
      [ErrorName.RETRYABLE, { attempt: 3, delayMs: PROBE.flakyIntervalSeconds * PROBE.flakyBackoff * MS }],
    ]);
    expect(result.taskInvocations.byState.Flaky).toBe(PROBE.flakyFailures + 1);
    expect((result.output as { flaky: unknown }).flaky).toEqual({ attempt: PROBE.flakyFailures + 1 });
  });

  test('retries a thrown named error until MaxAttempts, then the Catch takes it with the Lambda error shape', async () => {
    const { result } = await rehearse(promoteAfterOperatorTime);

    expect(result.taskInvocations.byState.Doomed).toBe(PROBE.doomedMaxAttempts + 1);
    const retries = result.events.filter((e) => e.type === 'StateRetried' && e.state === 'Doomed');
    expect(retries.map((e) => e.retry?.delayMs)).toEqual([PROBE.doomedIntervalSeconds * MS, PROBE.doomedIntervalSeconds * PROBE.doomedBackoff * MS]);
    expect(result.events.some((e) => e.type === 'StateCaught' && e.state === 'Doomed' && e.error === ErrorName.TARGETS_UNHEALTHY)).toBe(true);
    expect(entered(result.events, 'Recover')).toHaveLength(1);

    const failure = (result.output as { failure: { Error: string; Cause: string } }).failure;
    expect(failure.Error).toBe(ErrorName.TARGETS_UNHEALTHY);
    expect(JSON.parse(failure.Cause)).toMatchObject({ errorType: ErrorName.TARGETS_UNHEALTHY, errorMessage: expect.stringContaining('fails with ZdtTargetsUnhealthy') });
  });

  test('stamps the timeline in virtual time: a Wait state exits 10 minutes after it entered and is reported as a Wait', async () => {
    const { result } = await rehearse(promoteAfterOperatorTime);

    const [bakeIn] = entered(result.events, 'Bake');
    const [bakeOut] = exited(result.events, 'Bake');
    expect(bakeIn.stateType).toBe('Wait');
    expect(bakeOut.at - bakeIn.at).toBe(PROBE.bakeSeconds * MS);
    expect(entered(result.events, 'Flaky')[0].at).toBe(bakeOut.at);
    const times = result.events.map((e) => e.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(result.events[0].type).toBe('ExecutionStarted');
    expect(result.events[result.events.length - 1]).toMatchObject({ type: 'ExecutionSucceeded', elapsedMs: EXPECTED_VIRTUAL_SECONDS * MS });
  });

  test('runs the loop with intrinsic functions and a SecondsPath wait, and the Map iterations side by side', async () => {
    const { result } = await rehearse(promoteAfterOperatorTime);

    const output = result.output as { loop: { i: number; sum: number }; count: { value: number }; fanOut: unknown[] };
    expect(output.count.value).toBe(PROBE.items.length);
    expect(output.loop).toEqual({ i: PROBE.items.length, sum: 60 });
    expect(output.fanOut).toEqual([{ doubled: 20, index: 0 }, { doubled: 40, index: 1 }, { doubled: 60, index: 2 }]);
    const paceExits = exited(result.events, 'Pace');
    const paces = entered(result.events, 'Pace').map((e, i) => paceExits[i].at - e.at);
    expect(paces).toEqual(PROBE.items.map(() => PROBE.paceSeconds * MS));
    const itemWaits = entered(result.events, 'ItemWait');
    expect(itemWaits.map((e) => e.mapIndex).sort()).toEqual([0, 1, 2]);
    expect(new Set(itemWaits.map((e) => e.at)).size).toBe(1);
  });

  test('serves the native DynamoDB, EventBridge and SNS tasks locally', async () => {
    const { result, recorded } = await rehearse(promoteAfterOperatorTime);

    expect(ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input)).toEqual([{
      TableName: 'StateTable9728C7E5',
      Key: { service: { S: 'checkout' } },
      UpdateExpression: 'SET #live = :color',
      ExpressionAttributeNames: { '#live': 'liveColor' },
      ExpressionAttributeValues: { ':color': { S: 'green' } },
    }]);
    expect(recorded.events.events()).toEqual([expect.objectContaining({
      detail: { sum: 60 }, detailType: 'Rollout Completed', source: 'cdk-zero-downtime',
      eventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/EventsD32975C2',
    })]);
    expect(recorded.sns.messages()).toEqual([expect.objectContaining({
      topicArn: 'arn:aws:sns:us-east-1:123456789012:Notifications87298708', subject: 'Rollout Completed', message: 'sum is 60',
    })]);
    expect(result.taskInvocations.byIntegration).toEqual({ 'dynamodb:updateItem': 1, 'events:putEvents': 1, 'sns:publish': 1 });
  });

  test('gives the Lambda its resolved configuration, the virtual time and the context object', async () => {
    const { result, clock } = await rehearse(promoteAfterOperatorTime, { executionName: 'release-42' });

    const describe = (result.output as { describe: { result: Record<string, unknown> } }).describe.result;
    expect(describe.config).toEqual({ label: 'probe', tableName: 'StateTable9728C7E5', topicArn: 'arn:aws:sns:us-east-1:123456789012:Notifications87298708' });
    expect(describe.functionName).toBe(PROBE_FUNCTION);
    expect(describe.now).toBe(result.startedAt);
    expect(describe.request).toMatchObject({
      executionId: 'arn:aws:states:us-east-1:123456789012:execution:Rehearsal:release-42',
      executionName: 'release-42',
      startTime: new Date(result.startedAt).toISOString(),
      enteredTime: new Date(result.startedAt).toISOString(),
      stateName: 'Describe',
    });
    expect(result.executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:Rehearsal:release-42');
    expect(clock.now()).toBe(result.stoppedAt);
    expect(process.env[CONFIG_ENV]).toBeUndefined();
  });

  test('hands the task token to the Lambda and to the operator, and a promote becomes the task output', async () => {
    const { result, recorded } = await rehearse(promoteAfterOperatorTime);

    expect(recorded.tokens).toHaveLength(1);
    const [token] = recorded.tokens;
    const issued = result.events.find((e) => e.type === 'TaskTokenIssued');
    expect(issued).toMatchObject({ state: 'Gate', taskToken: token, input: { action: 'pause', token } });
    expect((result.output as { gate: unknown }).gate).toEqual({ approved: true });
    const [gateOut] = exited(result.events, 'Gate');
    expect(gateOut.at - issued!.at).toBe(GATE_OPERATOR_SECONDS * MS);
  });

  test('fails the execution with the operator\'s error and cause on abort', async () => {
    const abort = (): TaskTokenHandler => () => ({ error: ErrorName.ABORTED, cause: 'operator aborted the release' });
    const { result } = await rehearse(abort);

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe(ErrorName.ABORTED);
    expect(result.cause).toBe('operator aborted the release');
    expect(result.output).toBeUndefined();
    expect(result.events[result.events.length - 1]).toMatchObject({ type: 'ExecutionFailed', error: ErrorName.ABORTED });
  });

  test('counts state transitions and task invocations by state and function', async () => {
    const { result } = await rehearse(promoteAfterOperatorTime);

    const enteredCount = result.events.filter((e) => e.type === 'StateEntered').length;
    const retryCount = result.events.filter((e) => e.type === 'StateRetried').length;
    expect(retryCount).toBe(4);
    expect(result.stateTransitions).toBe(enteredCount + retryCount);
    // Describe 1 + Flaky 3 + Doomed 3 + Gate 1.
    expect(result.taskInvocations.byFunction).toEqual({ [PROBE_FUNCTION]: 8 });
    expect(result.taskInvocations.total).toBe(8 + 3);
  });

  test('reports every event live through onEvent, in the order of the timeline', async () => {
    const live: TimelineEvent[] = [];
    const { result } = await rehearse(promoteAfterOperatorTime, { onEvent: (e) => live.push(e) });
    expect(live).toEqual(result.events);
  });

  test('refuses to start when a Task is unbound, naming the state and the resource, before calling anything', async () => {
    const clock = new VirtualClock();
    const probe = jest.fn();
    const run = runStateMachine({
      definition: stateMachineOf(template).definition,
      clock,
      lambdas: new Map([[PROBE_FUNCTION, probe]]),
      integrations: dynamoDbIntegrations(),
      taskTokens: () => ({ output: {} }),
    });
    await expect(run).rejects.toThrow(/state "Announce": integration "events:putEvents" \(arn:aws:states:::events:putEvents\) is not bound/);
    await expect(run).rejects.toThrow(/state "Notify": integration "sns:publish" \(arn:aws:states:::sns:publish\) is not bound/);
    expect(probe).not.toHaveBeenCalled();
    expect(clock.now()).toBe(new VirtualClock().now());
  });
});
