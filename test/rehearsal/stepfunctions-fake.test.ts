import {
  InvalidOutput, InvalidToken, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient,
  StartExecutionCommand, TaskDoesNotExist, TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { AwsFakes, MAX_TASK_TOKEN_LENGTH } from '../../rehearsal/fakes';
import type { TaskTokenDecision, WaitingTaskHandle } from '../../rehearsal/runner';
import { VirtualClock } from '../../rehearsal/virtual-clock';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:Migration:run-1';

describe('FakeStepFunctions', () => {
  let clock: VirtualClock;
  let aws: AwsFakes;
  let sfn: SFNClient;
  let answers: TaskTokenDecision[];

  beforeEach(() => {
    clock = new VirtualClock();
    aws = new AwsFakes({ clock }).install();
    sfn = new SFNClient({ maxAttempts: 1 }); // one attempt, as the handlers' under a Step Functions task: each fault reaches the caller
    answers = [];
  });
  afterEach(() => aws.restore());

  /** A task waits for `token`, as the runner opens it once the token is delivered. */
  function waitFor(token: string, timeoutAt?: number): WaitingTaskHandle {
    return aws.stepfunctions.open(
      { token, executionArn: EXECUTION, stateName: 'WaitForRollout', resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', issuedAt: clock.now(), timeoutAt },
      (decision) => answers.push(decision),
    );
  }

  test('SendTaskSuccess through the SDK client answers the waiting task with the parsed output', async () => {
    waitFor('token-1');
    clock.advance(90_000);

    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{"released":true}' }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });

    expect(answers).toEqual([{ output: { released: true } }]);
    expect(aws.stepfunctions.task('token-1')).toMatchObject({ status: 'SUCCEEDED', answeredBy: 'api', output: { released: true }, endedAt: clock.now() });
    expect(aws.stepfunctions.waitingTasks()).toEqual([]);
    expect(aws.calls.map((c) => [c.service, c.command, c.error])).toEqual([['states', 'SendTaskSuccess', undefined]]);
  });

  test('SendTaskFailure answers with the error and cause', async () => {
    waitFor('token-1');
    await sfn.send(new SendTaskFailureCommand({ taskToken: 'token-1', error: 'ZdtAborted', cause: 'release notes say no' }));

    expect(answers).toEqual([{ error: 'ZdtAborted', cause: 'release notes say no' }]);
    expect(aws.stepfunctions.task('token-1')).toMatchObject({ status: 'FAILED', error: 'ZdtAborted', cause: 'release notes say no' });
  });

  test('refuses a token no task issued with InvalidToken', async () => {
    const sent = sfn.send(new SendTaskSuccessCommand({ taskToken: 'forged', output: '{}' }));
    await expect(sent).rejects.toBeInstanceOf(InvalidToken);
    await expect(sent).rejects.toMatchObject({ name: 'InvalidToken', message: expect.stringContaining('"forged"'), $metadata: { httpStatusCode: 400 } });
    expect(aws.stepfunctions.refused()).toEqual([expect.objectContaining({ token: 'forged', command: 'SendTaskSuccess', answeredBy: 'api', error: 'InvalidToken' })]);
  });

  test('refuses a second answer to the same token with TaskDoesNotExist, and the first answer stands', async () => {
    waitFor('token-1');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{"first":true}' }));

    const second = sfn.send(new SendTaskFailureCommand({ taskToken: 'token-1', error: 'Late' }));
    await expect(second).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(second).rejects.toThrow(/token-1 \(state "WaitForRollout" of .*run-1\) was already answered \(SendTaskSuccess/);
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'token-1' }))).rejects.toBeInstanceOf(TaskDoesNotExist);
    expect(answers).toEqual([{ output: { first: true } }]);
    expect(aws.stepfunctions.task('token-1')).toMatchObject({ status: 'SUCCEEDED', output: { first: true } });
  });

  test('the first answer wins between the runner\'s handler and the API, whichever comes first', async () => {
    const handle = waitFor('token-1');
    expect(handle.answer({ output: { promoted: true } })).toBe(true);
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{}' }))).rejects.toBeInstanceOf(TaskDoesNotExist);

    const other = waitFor('token-2');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-2', output: '{"api":true}' }));
    expect(other.answer({ output: { handler: true } })).toBe(false);

    expect(answers).toEqual([{ output: { api: true } }]);
    expect(aws.stepfunctions.task('token-1')).toMatchObject({ answeredBy: 'handler', output: { promoted: true } });
    expect(aws.stepfunctions.refused().map((r) => [r.token, r.answeredBy, r.error])).toEqual([['token-1', 'api', 'TaskDoesNotExist'], ['token-2', 'handler', 'TaskDoesNotExist']]);
  });

  test('refuses the token of a task that timed out, or whose execution ended, with TaskTimedOut', async () => {
    waitFor('timed-out', clock.now() + 60_000).close('timedOut');
    waitFor('orphaned').close('executionEnded');

    const late = sfn.send(new SendTaskSuccessCommand({ taskToken: 'timed-out', output: '{}' }));
    await expect(late).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(late).rejects.toThrow(/no longer waits: it timed out/);
    await expect(sfn.send(new SendTaskFailureCommand({ taskToken: 'orphaned' }))).rejects.toThrow(/no longer waits: its execution ended/);
    expect(answers).toEqual([]);
    expect(aws.stepfunctions.tasks().map((t) => t.status)).toEqual(['TIMED_OUT', 'CLOSED']);
  });

  test('refuses an output that is not JSON with InvalidOutput, and the task keeps waiting', async () => {
    waitFor('token-1');
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: 'released' }))).rejects.toBeInstanceOf(InvalidOutput);
    expect(aws.stepfunctions.task('token-1')!.status).toBe('WAITING');

    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '"released"' }));
    expect(answers).toEqual([{ output: 'released' }]);
  });

  test('validates requests as the API does', async () => {
    waitFor('token-1');
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: '', output: '{}' }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'x'.repeat(MAX_TASK_TOKEN_LENGTH + 1), output: '{}' })))
      .rejects.toThrow(/taskToken.*less than or equal to 2048/);
    await expect(sfn.send(new SendTaskFailureCommand({ taskToken: 'token-1', error: 'E'.repeat(257) }))).rejects.toThrow(/'error'.*256/);
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: undefined }))).rejects.toThrow(/'output'.*must not be null/);
    expect(aws.stepfunctions.task('token-1')!.status).toBe('WAITING');
  });

  test('records heartbeats of a waiting task without answering it', async () => {
    waitFor('token-1');
    clock.advance(30_000);
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'token-1' }));

    expect(aws.stepfunctions.task('token-1')).toMatchObject({ status: 'WAITING', heartbeats: [clock.now()] });
    expect(answers).toEqual([]);
  });

  test('injected faults reach the caller and leave the token waiting', async () => {
    waitFor('token-1');
    aws.faults.add({ service: 'states', command: 'SendTaskSuccess', error: 'ThrottlingException' });

    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{}' }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(aws.stepfunctions.task('token-1')!.status).toBe('WAITING');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{}' }));
    expect(answers).toEqual([{ output: {} }]);
  });

  test('rejects the Step Functions commands it does not fake', async () => {
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:M' })))
      .rejects.toMatchObject({ name: 'FakeNotImplemented', message: expect.stringContaining('FakeStepFunctions') });
  });
});
