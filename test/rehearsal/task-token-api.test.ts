/**
 * Tokens of waiting tasks answered through the Step Functions API: the runner opens each token on the fake
 * (`stepFunctions: aws.stepfunctions`), and code that calls SendTaskSuccess / SendTaskFailure with the SFN SDK client
 * (here a Lambda of a parallel branch, as a rule's target or the CLI would) releases the task in virtual time.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { AslDefinition, runStateMachine, RunResult, RunStateMachineOptions, TaskTokenRequest, TimelineEvent, VirtualClock } from '../../rehearsal';
import { AwsFakes } from '../../rehearsal/fakes';

const MS = 1000;
const ROLLOUT_SECONDS = 300;
const GATE_TIMEOUT_SECONDS = 3600;
const FN = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** What the release branch sends once the rollout is done: SendTaskSuccess / SendTaskFailure commands, in order. */
type Answer = { output: string } | { error: string; cause: string };

/**
 * Two branches side by side: the Gate hands its token to a Lambda and waits (Catch ZdtAborted -> Aborted); the
 * other branch waits for the "rollout" and then its Release Lambda answers the token through the SFN SDK client.
 */
const definition = (gate: Record<string, unknown> = {}): AslDefinition => ({
  StartAt: 'Release Race',
  States: {
    'Release Race': {
      Type: 'Parallel',
      End: true,
      Branches: [
        {
          StartAt: 'Gate',
          States: {
            Gate: {
              Type: 'Task', Resource: WAIT_FOR_TOKEN, Parameters: { FunctionName: FN('Gate'), Payload: { 'token.$': '$$.Task.Token' } },
              TimeoutSeconds: GATE_TIMEOUT_SECONDS, Catch: [{ ErrorEquals: ['ZdtAborted'], ResultPath: '$.error', Next: 'Aborted' }], End: true, ...gate,
            },
            Aborted: { Type: 'Pass', End: true },
          },
        },
        {
          StartAt: 'Rollout',
          States: {
            Rollout: { Type: 'Wait', Seconds: ROLLOUT_SECONDS, Next: 'Release' },
            Release: { Type: 'Task', Resource: FN('Release'), End: true },
          },
        },
      ],
    },
  },
} as unknown as AslDefinition);

describe('waitForTaskToken tasks answered through the Step Functions API', () => {
  let clock: VirtualClock;
  let aws: AwsFakes;

  beforeEach(() => {
    clock = new VirtualClock();
    aws = new AwsFakes({ clock }).install();
  });
  afterEach(() => aws.restore());

  /** Runs `definition` with the Gate storing its token and Release sending `answers` with it (each call's outcome is Release's output). */
  function run(answers: Answer[], options: Partial<RunStateMachineOptions> = {}): Promise<RunResult> {
    let token = '';
    const sfn = new SFNClient({});
    return runStateMachine({
      definition: definition(),
      clock,
      stepFunctions: aws.stepfunctions,
      lambdas: {
        Gate: (payload) => { token = (payload as { token: string }).token; return { stored: true }; },
        Release: async () => {
          const outcomes: string[] = [];
          for (const answer of answers) {
            const command = 'output' in answer ? new SendTaskSuccessCommand({ taskToken: token, ...answer }) : new SendTaskFailureCommand({ taskToken: token, ...answer });
            try {
              await sfn.send(command as SendTaskSuccessCommand);
              outcomes.push('accepted');
            } catch (err) {
              outcomes.push((err as Error).name);
            }
          }
          return outcomes;
        },
      },
      ...options,
    });
  }

  const event = (events: readonly TimelineEvent[], type: TimelineEvent['type'], state: string) => events.find((e) => e.type === type && e.state === state)!;

  test('an execution whose wait task is released by a handler\'s SendTaskSuccess continues, in virtual time', async () => {
    const result = await run([{ output: JSON.stringify({ released: true, reason: 'Rollout Completed for web' }) }]);

    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual([{ released: true, reason: 'Rollout Completed for web' }, ['accepted']]);
    const issued = event(result.events, 'TaskTokenIssued', 'Gate');
    expect(event(result.events, 'StateExited', 'Gate').at - issued.at).toBe(ROLLOUT_SECONDS * MS);
    expect(aws.stepfunctions.task(issued.taskToken!)).toMatchObject({ status: 'SUCCEEDED', answeredBy: 'api', executionArn: result.executionArn, stateName: 'Gate' });
    expect(aws.callCount('states', 'SendTaskSuccess')).toBe(1);
  });

  test('a token answered before its TimeoutSeconds leaves no timer behind: virtual time does not jump to the timeout', async () => {
    const result = await run([{ output: JSON.stringify({ released: true }) }]);
    const ended = clock.now();

    // Real time passes with nothing else asleep: a forgotten timeout sleep would now move the clock to the
    // Gate's TimeoutSeconds (an hour after its token), as it would during real I/O after the token.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(result.status).toBe('SUCCEEDED');
    expect(clock.pendingSleeps).toBe(0);
    expect(clock.now()).toBe(ended);
    expect(ended - event(result.events, 'TaskTokenIssued', 'Gate').at).toBeLessThan(GATE_TIMEOUT_SECONDS * MS);
  });

  test('SendTaskFailure fails the task with its error and cause, and the Catch path runs', async () => {
    const result = await run([{ error: 'ZdtAborted', cause: 'release notes say no' }]);

    expect(result.status).toBe('SUCCEEDED');
    expect(event(result.events, 'StateCaught', 'Gate')).toMatchObject({ error: 'ZdtAborted', cause: 'release notes say no' });
    expect(event(result.events, 'StateEntered', 'Aborted').at - result.startedAt).toBe(ROLLOUT_SECONDS * MS);
    expect(result.output).toEqual([{ error: { Error: 'ZdtAborted', Cause: 'release notes say no' } }, ['accepted']]);
  });

  test('a second answer to the same token is refused with TaskDoesNotExist, and the first one stands', async () => {
    const result = await run([{ output: '{"first":true}' }, { error: 'ZdtAborted', cause: 'too late' }, { output: '{"third":true}' }]);

    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual([{ first: true }, ['accepted', 'TaskDoesNotExist', 'TaskDoesNotExist']]);
    expect(result.events.some((e) => e.type === 'StateCaught')).toBe(false);
  });

  test('the TaskTokenHandler and the API: an API answer that comes first wins, and the handler sees it through its signal', async () => {
    const seen: TaskTokenRequest[] = [];
    const result = await run([{ output: '{"by":"api"}' }], {
      taskTokens: async (_token, request) => {
        seen.push(request);
        await clock.sleep(2 * ROLLOUT_SECONDS * MS);
        return { output: { by: 'operator' } };
      },
    });

    expect(result.output).toEqual([{ by: 'api' }, ['accepted']]);
    expect(seen).toHaveLength(1);
    expect(seen[0].signal.aborted).toBe(true);
    // The operator's answer came later and was refused.
    await clock.sleep(2 * ROLLOUT_SECONDS * MS);
    expect(aws.stepfunctions.refused()).toEqual([expect.objectContaining({ answeredBy: 'handler', error: 'TaskDoesNotExist' })]);
  });

  test('the TaskTokenHandler answering first wins, and the API\'s later answer is refused', async () => {
    const result = await run([{ output: '{"by":"api"}' }], {
      taskTokens: async () => {
        await clock.sleep(60 * MS);
        return { output: { by: 'operator' } };
      },
    });

    expect(result.output).toEqual([{ by: 'operator' }, ['TaskDoesNotExist']]);
    expect(event(result.events, 'StateExited', 'Gate').at - result.startedAt).toBe(60 * MS);
  });

  test('a TaskTokenHandler that answers nothing leaves the token to the API', async () => {
    const result = await run([{ output: '{"by":"api"}' }], { taskTokens: () => undefined });
    expect(result.output).toEqual([{ by: 'api' }, ['accepted']]);
  });

  test('a token nobody answers times out at the task\'s TimeoutSeconds, and a later answer gets TaskTimedOut', async () => {
    const result = await runStateMachine({
      definition: (definition().States['Release Race'] as unknown as { Branches: AslDefinition[] }).Branches[0],
      clock,
      stepFunctions: aws.stepfunctions,
      lambdas: { Gate: () => ({ stored: true }) },
    });

    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Timeout', durationMs: GATE_TIMEOUT_SECONDS * MS });
    const token = event(result.events, 'TaskTokenIssued', 'Gate').taskToken!;
    await expect(new SFNClient({}).send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
  });

  test('the task\'s own Lambda may answer its token while it is being invoked, as Step Functions allows', async () => {
    const sfn = new SFNClient({});
    const result = await runStateMachine({
      definition: (definition().States['Release Race'] as unknown as { Branches: AslDefinition[] }).Branches[0],
      clock,
      stepFunctions: aws.stepfunctions,
      lambdas: {
        Gate: async (payload) => {
          await sfn.send(new SendTaskSuccessCommand({ taskToken: (payload as { token: string }).token, output: '{"answered":"during delivery"}' }));
          return { stored: true };
        },
      },
    });

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { answered: 'during delivery' } });
    expect(aws.stepfunctions.refused()).toEqual([]);
  });

  test('a token nothing answers, with no TimeoutSeconds anywhere, ends where a Standard execution would: TIMED_OUT after a year', async () => {
    const { TimeoutSeconds: _none, ...gate } = (definition().States['Release Race'] as unknown as { Branches: AslDefinition[] }).Branches[0].States.Gate as Record<string, unknown>;
    const result = await runStateMachine({
      definition: { StartAt: 'Gate', States: { Gate: { ...gate, Catch: undefined, End: true } } } as unknown as AslDefinition,
      clock,
      stepFunctions: aws.stepfunctions,
      lambdas: { Gate: () => ({ stored: true }) },
    });

    expect(result).toMatchObject({ status: 'TIMED_OUT', durationMs: 365 * 24 * 3600 * MS });
  });

  test('the token of a task still waiting when its execution ends is refused with TaskTimedOut', async () => {
    // The release branch fails: the Parallel state fails and its waiting Gate branch is abandoned.
    const result = await runStateMachine({
      definition: definition(),
      clock,
      stepFunctions: aws.stepfunctions,
      lambdas: { Gate: () => ({ stored: true }), Release: () => { throw Object.assign(new Error('deploy failed'), { name: 'DeployFailed' }); } },
    });

    expect(result).toMatchObject({ status: 'FAILED', error: 'DeployFailed' });
    const token = event(result.events, 'TaskTokenIssued', 'Gate').taskToken!;
    expect(aws.stepfunctions.task(token)!.status).toBe('CLOSED');
    await expect(new SFNClient({}).send(new SendTaskFailureCommand({ taskToken: token, error: 'X' }))).rejects.toBeInstanceOf(TaskTimedOut);
  });
});
