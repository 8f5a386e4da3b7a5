/**
 * FakeStepFunctions: the task-token side of the Step Functions API (SendTaskSuccess, SendTaskFailure,
 * SendTaskHeartbeat) for the rehearsal, with Step Functions' rules and error names.
 *
 * The runner (rehearsal/runner.ts, option `stepFunctions`) opens a token here when a `.waitForTaskToken` task has
 * delivered it; the first answer wins, whoever gives it: a handler or an EventBridge rule's target calling the SFN SDK
 * client (routed here by AwsFakes.install()), the CLI's promote/abort, or the runner's own TaskTokenHandler
 * (`answer()`). A token is then done: later answers are refused as Step Functions refuses them.
 *
 * | token | SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat |
 * |---|---|
 * | never issued (unknown) | `InvalidToken` |
 * | waiting | accepted (a heartbeat is recorded; the task keeps waiting) |
 * | already answered | `TaskDoesNotExist` |
 * | its task timed out, or its execution ended without an answer | `TaskTimedOut` |
 *
 * Requests are checked first: a missing or longer than 2048 characters taskToken, an output over 256 KiB, an error
 * over 256 characters or a cause over 32768 characters give `ValidationException`; an output that is not JSON gives
 * `InvalidOutput`. Simplified: HeartbeatSeconds is not enforced (heartbeats are only recorded), and an answer is taken
 * as soon as the call returns (no eventual consistency).
 */
import type {
  SendTaskFailureInput, SendTaskFailureOutput, SendTaskHeartbeatInput, SendTaskHeartbeatOutput, SendTaskSuccessInput,
  SendTaskSuccessOutput,
} from '@aws-sdk/client-sfn';
import type { Clock } from '../../lambda/shared/clock';
import type { TaskTokenBroker, TaskTokenDecision, WaitingTask, WaitingTaskHandle, WaitingTaskClosure } from '../runner';
import { awsError } from './aws-errors';
import { deepClone } from './clone';

/** Longest task token Step Functions accepts (SendTask* taskToken). */
export const MAX_TASK_TOKEN_LENGTH = 2048;
/** Largest SendTaskSuccess output, characters (256 KiB, the Step Functions payload limit). */
export const MAX_TASK_OUTPUT_LENGTH = 256 * 1024;
/** Longest SendTaskFailure error. */
export const MAX_TASK_ERROR_LENGTH = 256;
/** Longest SendTaskFailure cause. */
export const MAX_TASK_CAUSE_LENGTH = 32768;

/** Where a waiting task's token stands. */
export type TaskTokenStatus = 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'CLOSED';

/** Who answered a token: an API call (SendTaskSuccess / SendTaskFailure) or the runner's TaskTokenHandler. */
export type TaskTokenAnswerer = 'api' | 'handler';

/** One token as the fake holds it (a copy): the waiting task the runner opened, and what became of it. */
export interface TaskTokenRecord extends WaitingTask {
  readonly status: TaskTokenStatus;
  /** Epoch ms of the answer, timeout or closing. */
  readonly endedAt?: number;
  readonly answeredBy?: TaskTokenAnswerer;
  /** SendTaskSuccess output, parsed. */
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** Epoch ms of each accepted SendTaskHeartbeat. */
  readonly heartbeats: readonly number[];
}

/** Answers a token refused (an API call is refused with the same error). */
export interface RefusedAnswer {
  /** Epoch ms (virtual). */
  readonly time: number;
  readonly token: string;
  readonly command: 'SendTaskSuccess' | 'SendTaskFailure' | 'SendTaskHeartbeat';
  readonly answeredBy: TaskTokenAnswerer;
  /** InvalidToken, TaskDoesNotExist or TaskTimedOut. */
  readonly error: string;
}

export interface FakeStepFunctionsOptions {
  readonly clock: Clock;
  /** @default us-east-1 */
  readonly region?: string;
  /** @default 123456789012 */
  readonly accountId?: string;
}

interface TokenState {
  readonly task: WaitingTask;
  status: TaskTokenStatus;
  endedAt?: number;
  answeredBy?: TaskTokenAnswerer;
  output?: unknown;
  error?: string;
  cause?: string;
  readonly heartbeats: number[];
  readonly onAnswer: (decision: TaskTokenDecision) => void;
}

type Command = RefusedAnswer['command'];

export class FakeStepFunctions implements TaskTokenBroker {
  readonly region: string;
  readonly accountId: string;
  private readonly clock: Clock;
  private readonly tokens = new Map<string, TokenState>();
  private readonly refusedAnswers: RefusedAnswer[] = [];

  constructor(options: FakeStepFunctionsOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
  }

  // -------------------------------------------------------------------------------------------
  // The API
  // -------------------------------------------------------------------------------------------

  /** SendTaskSuccess: the waiting task succeeds with `output` (a JSON text). */
  sendTaskSuccess(input: SendTaskSuccessInput): SendTaskSuccessOutput {
    const token = this.checkToken(input.taskToken);
    if (typeof input.output !== 'string') {
      throw validation(`1 validation error detected: Value null at 'output' failed to satisfy constraint: Member must not be null (token ${token})`);
    }
    if (input.output.length > MAX_TASK_OUTPUT_LENGTH) {
      throw validation(`1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TASK_OUTPUT_LENGTH} (got ${input.output.length} characters for token ${token})`);
    }
    let output: unknown;
    try {
      output = JSON.parse(input.output);
    } catch (err) {
      throw awsError('states', 'InvalidOutput', `Invalid Output: expected the output for token ${token} to be JSON, got ${JSON.stringify(input.output.slice(0, 80))} (${(err as Error).message})`);
    }
    this.settle('SendTaskSuccess', token, { output }, 'api');
    return {};
  }

  /** SendTaskFailure: the waiting task fails with `error` and `cause` (Retry and Catch see them as the task's error). */
  sendTaskFailure(input: SendTaskFailureInput): SendTaskFailureOutput {
    const token = this.checkToken(input.taskToken);
    if (input.error !== undefined && input.error.length > MAX_TASK_ERROR_LENGTH) {
      throw validation(`1 validation error detected: Value at 'error' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TASK_ERROR_LENGTH} (got ${input.error.length} for token ${token})`);
    }
    if (input.cause !== undefined && input.cause.length > MAX_TASK_CAUSE_LENGTH) {
      throw validation(`1 validation error detected: Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TASK_CAUSE_LENGTH} (got ${input.cause.length} for token ${token})`);
    }
    // Without an error, Step Functions records none: only a States.ALL catcher matches it.
    this.settle('SendTaskFailure', token, { error: input.error ?? '', cause: input.cause }, 'api');
    return {};
  }

  /** SendTaskHeartbeat: recorded; the task keeps waiting (HeartbeatSeconds is not enforced). */
  sendTaskHeartbeat(input: SendTaskHeartbeatInput): SendTaskHeartbeatOutput {
    const token = this.checkToken(input.taskToken);
    const state = this.waiting('SendTaskHeartbeat', token, 'api');
    state.heartbeats.push(this.clock.now());
    return {};
  }

  // -------------------------------------------------------------------------------------------
  // The runner's side (TaskTokenBroker) and inspection
  // -------------------------------------------------------------------------------------------

  /**
   * A task waits for `task.token` (called by the runner when the task starts, before it delivers the token, as Step
   * Functions accepts an answer from then on). `onAnswer` is called once, with
   * the first answer that comes through the API; the handle answers for the runner's TaskTokenHandler or closes the
   * token when the task stops waiting unanswered.
   */
  open(task: WaitingTask, onAnswer: (decision: TaskTokenDecision) => void): WaitingTaskHandle {
    if (this.tokens.has(task.token)) {
      throw new Error(`FakeStepFunctions.open: token ${task.token} (state "${task.stateName}" of ${task.executionArn}) was already issued; every task token is issued once`);
    }
    const state: TokenState = { task: { ...task }, status: 'WAITING', heartbeats: [], onAnswer };
    this.tokens.set(task.token, state);
    return {
      answer: (decision) => {
        if (state.status !== 'WAITING') {
          this.refuse('error' in decision ? 'SendTaskFailure' : 'SendTaskSuccess', task.token, 'handler');
          return false;
        }
        this.record(state, decision, 'handler');
        return true;
      },
      close: (closure: WaitingTaskClosure) => {
        if (state.status !== 'WAITING') return false;
        state.status = closure === 'timedOut' ? 'TIMED_OUT' : 'CLOSED';
        state.endedAt = this.clock.now();
        return true;
      },
    };
  }

  /** Every token issued so far, oldest first (copies). */
  tasks(): TaskTokenRecord[] {
    return [...this.tokens.values()].map((s) => this.recordOf(s));
  }

  /** One token (a copy), or undefined when it was never issued. */
  task(token: string): TaskTokenRecord | undefined {
    const state = this.tokens.get(token);
    return state && this.recordOf(state);
  }

  /** Tokens of tasks that wait for an answer now. */
  waitingTasks(): TaskTokenRecord[] {
    return this.tasks().filter((t) => t.status === 'WAITING');
  }

  /** Answers refused so far (API calls and the TaskTokenHandler's late answers), oldest first. */
  refused(): RefusedAnswer[] {
    return this.refusedAnswers.map((r) => ({ ...r }));
  }

  // -------------------------------------------------------------------------------------------

  private checkToken(token: string | undefined): string {
    if (typeof token !== 'string' || token.length === 0) {
      throw validation("1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    if (token.length > MAX_TASK_TOKEN_LENGTH) {
      throw validation(`1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TASK_TOKEN_LENGTH} (got ${token.length})`);
    }
    return token;
  }

  /** The waiting token's state, or the error Step Functions answers for a token that does not wait. */
  private waiting(command: Command, token: string, answeredBy: TaskTokenAnswerer): TokenState {
    const state = this.tokens.get(token);
    if (state?.status === 'WAITING') return state;
    const error = this.refuse(command, token, answeredBy);
    throw awsError('states', error.name, error.message);
  }

  private refuse(command: Command, token: string, answeredBy: TaskTokenAnswerer): { name: string; message: string } {
    const state = this.tokens.get(token);
    let refusal: { name: string; message: string };
    if (!state) {
      refusal = { name: 'InvalidToken', message: `Invalid Token: expected a token issued by a waiting task of this account, got ${JSON.stringify(token.slice(0, 120))}, which no task issued` };
    } else if (state.status === 'SUCCEEDED' || state.status === 'FAILED') {
      refusal = {
        name: 'TaskDoesNotExist',
        message: `Task Does Not Exist: the task of token ${token} (state "${state.task.stateName}" of ${state.task.executionArn}) was already answered (${state.status === 'SUCCEEDED' ? 'SendTaskSuccess' : 'SendTaskFailure'} by the ${state.answeredBy === 'api' ? 'API' : "rehearsal's TaskTokenHandler"} at ${iso(state.endedAt!)}); a token takes one answer`,
      };
    } else {
      refusal = {
        name: 'TaskTimedOut',
        message: `Task Timed Out: the task of token ${token} (state "${state.task.stateName}" of ${state.task.executionArn}) no longer waits: ${state.status === 'TIMED_OUT' ? 'it timed out' : 'its execution ended'} at ${iso(state.endedAt!)}`,
      };
    }
    this.refusedAnswers.push({ time: this.clock.now(), token, command, answeredBy, error: refusal.name });
    return refusal;
  }

  private settle(command: Command, token: string, decision: TaskTokenDecision, answeredBy: TaskTokenAnswerer): void {
    const state = this.waiting(command, token, answeredBy);
    this.record(state, decision, answeredBy);
    state.onAnswer(deepClone(decision));
  }

  private record(state: TokenState, decision: TaskTokenDecision, answeredBy: TaskTokenAnswerer): void {
    state.endedAt = this.clock.now();
    state.answeredBy = answeredBy;
    if ('error' in decision) {
      state.status = 'FAILED';
      state.error = decision.error;
      state.cause = decision.cause;
    } else {
      state.status = 'SUCCEEDED';
      state.output = deepClone(decision.output);
    }
  }

  private recordOf(s: TokenState): TaskTokenRecord {
    return deepClone({
      ...s.task, status: s.status, endedAt: s.endedAt, answeredBy: s.answeredBy, output: s.output, error: s.error, cause: s.cause,
      heartbeats: [...s.heartbeats],
    });
  }
}

function validation(message: string): Error {
  return awsError('states', 'ValidationException', message);
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
