import './polyfills';
import { ExecutionError, RunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { Clock } from '../lambda/shared/clock';
import type { AslDefinition } from './asl';
import { INTERNAL_STATE_SUFFIX, prepareDefinition, PreparedDefinition, PreparedTask, TASK_TOKEN_PLACEHOLDER, TIMEOUT_SECONDS_PARAMETER } from './definition';
import { lambdaFunctionName } from './resources';
import { RetryPolicy, STATES_TIMEOUT } from './retry';
import { VirtualClock } from './virtual-clock';

/**
 * Runs a state machine definition locally with aws-local-stepfunctions, every Task bound to a
 * local function (never AWS), Wait states and Retry intervals on a virtual clock, and returns the
 * outcome with a timeline of the execution in virtual time.
 */

/** A Lambda function bound in-process: receives the payload, returns the result (JSON). */
export type LambdaFunctionHandler = (payload: unknown, invocation: LambdaInvocation) => Promise<unknown> | unknown;

export interface LambdaInvocation {
  /** Name of the function invoked (as the state machine named it, without qualifier). */
  readonly functionName: string;
  readonly stateName: string;
  readonly executionArn: string;
  /** 1 for the first attempt, 2 for the first retry... */
  readonly attempt: number;
}

/**
 * Serves a service integration locally: receives the Task's Parameters (resolved by the engine),
 * returns what the service would (for dynamodb:getItem, `{ Item }`). Throw an Error whose `name` is
 * the Step Functions error (e.g. "DynamoDB.ConditionalCheckFailedException") to fail the task.
 */
export type IntegrationHandler = (parameters: unknown, context: IntegrationContext) => Promise<unknown> | unknown;

export interface IntegrationContext {
  /** The integration key, e.g. "dynamodb:updateItem" (see TaskResource). */
  readonly integration: string;
  readonly resource: string;
  readonly stateName: string;
  readonly executionArn: string;
  readonly attempt: number;
  /** The task token, for a .waitForTaskToken integration. */
  readonly taskToken?: string;
}

/** An answer to a task token: SendTaskSuccess (`output`) or SendTaskFailure (`error`, `cause`). */
export type TaskTokenDecision =
  | { readonly output: unknown }
  | { readonly error: string; readonly cause?: string };

export interface TaskTokenRequest {
  readonly stateName: string;
  readonly resource: string;
  readonly executionArn: string;
  /** What the task sent along with the token (the Lambda payload or the integration's parameters). */
  readonly payload: unknown;
  /** What the Lambda or integration returned when it was handed the token. */
  readonly deliveryResult: unknown;
  /** Virtual epoch ms at which the token was issued. */
  readonly issuedAt: number;
  /** The Task's TimeoutSeconds, if any (the operator may answer `{ error: 'States.Timeout' }`). */
  readonly timeoutSeconds?: number;
  /**
   * Aborted once the task no longer waits: answered through the Step Functions API (`stepFunctions`), or the execution
   * stopped. A handler that sleeps before answering should check it and answer nothing (its answer would be refused).
   */
  readonly signal: AbortSignal;
}

/**
 * Answers task tokens. Advance the virtual clock before answering to model the time the operator
 * took (clock.advance or clock.sleep). Answer `undefined` to leave the token to the Step Functions API
 * (`stepFunctions`): the task then waits for a SendTaskSuccess / SendTaskFailure, or its TimeoutSeconds.
 *
 * While the handler has not answered, the handler owns time: the runner starts no timer of its own (a handler that
 * waits for an operator also decides when the task times out). An API answer that comes first wins at once; the
 * handler's later answer is refused (the task has its answer, as Step Functions refuses a second one).
 */
export type TaskTokenHandler = (token: string, request: TaskTokenRequest) => Promise<TaskTokenDecision | undefined> | TaskTokenDecision | undefined;

/** How a waiting task stopped waiting without an answer. */
export type WaitingTaskClosure = 'timedOut' | 'executionEnded';

/** A task that waits for its token (what the runner tells the Step Functions API). */
export interface WaitingTask {
  readonly token: string;
  readonly executionArn: string;
  readonly stateName: string;
  readonly resource: string;
  /** Virtual epoch ms at which the token was issued. */
  readonly issuedAt: number;
  /** Virtual epoch ms at which the task times out (its TimeoutSeconds), if it has one. */
  readonly timeoutAt?: number;
}

/** The runner's side of one open token. */
export interface WaitingTaskHandle {
  /** Answers for the runner's TaskTokenHandler: true when it is the token's first answer, false when refused. */
  answer(decision: TaskTokenDecision): boolean;
  /** The task stopped waiting unanswered: answers are refused from now on. False when it had an answer already. */
  close(closure: WaitingTaskClosure): boolean;
}

/**
 * The Step Functions API through which code answers tokens (SendTaskSuccess / SendTaskFailure): in the rehearsal,
 * FakeStepFunctions (`aws.stepfunctions`). `open` is called when the task starts (before it delivers the token); `onAnswer` must be called once,
 * with the first answer that comes through the API, and never after the handle answered or closed the token.
 */
export interface TaskTokenBroker {
  open(task: WaitingTask, onAnswer: (decision: TaskTokenDecision) => void): WaitingTaskHandle;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export type TimelineEventType =
  | 'ExecutionStarted' | 'ExecutionSucceeded' | 'ExecutionFailed' | 'ExecutionTimedOut' | 'ExecutionAborted'
  | 'StateEntered' | 'StateExited' | 'StateFailed' | 'StateRetried' | 'StateCaught'
  | 'MapIterationStarted' | 'MapIterationSucceeded' | 'MapIterationFailed'
  | 'ParallelBranchStarted' | 'ParallelBranchSucceeded' | 'ParallelBranchFailed'
  | 'TaskTokenIssued';

/** One entry of the execution's timeline, stamped with virtual time. */
export interface TimelineEvent {
  readonly type: TimelineEventType;
  /** Virtual epoch ms. */
  readonly at: number;
  /** Virtual ms since the execution started. */
  readonly elapsedMs: number;
  readonly state?: string;
  /** The state's Type in the definition (a rewritten Wait state is reported as 'Wait'). */
  readonly stateType?: string;
  /** Iteration index, for states inside a Map. */
  readonly mapIndex?: number;
  /** The Map or Parallel state of a MapIteration / ParallelBranch event. */
  readonly parentState?: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** StateRetried: the attempt about to run (2 = first retry) and the virtual delay before it. */
  readonly retry?: { readonly attempt: number; readonly delayMs: number };
  readonly taskToken?: string;
}

export interface TaskInvocationCounts {
  /** Every Lambda or integration call, retries included (Wait states not counted). */
  readonly total: number;
  readonly byState: Readonly<Record<string, number>>;
  /** Lambda invocations by function name. */
  readonly byFunction: Readonly<Record<string, number>>;
  /** Service integration calls by integration key ("dynamodb:updateItem"). */
  readonly byIntegration: Readonly<Record<string, number>>;
}

export interface RunResult {
  readonly status: ExecutionStatus;
  /** The execution's output when it SUCCEEDED. */
  readonly output?: unknown;
  /** The error name when it FAILED (or States.Timeout when it TIMED_OUT). */
  readonly error?: string;
  readonly cause?: string;
  readonly executionArn: string;
  /** Virtual epoch ms. */
  readonly startedAt: number;
  readonly stoppedAt: number;
  /** Virtual duration, ms. */
  readonly durationMs: number;
  /** Real (wall-clock) duration of the local run, ms. */
  readonly realDurationMs: number;
  readonly events: readonly TimelineEvent[];
  /** Billable state transitions: states entered plus retries (how Step Functions Standard counts). */
  readonly stateTransitions: number;
  readonly taskInvocations: TaskInvocationCounts;
}

export interface RunStateMachineOptions {
  /** The Amazon States Language definition (JSONPath), e.g. from stateMachineOf(template). */
  readonly definition: AslDefinition;
  /** @default {} */
  readonly input?: unknown;
  /** Functions by name or ARN (qualifiers ignored), for lambda:invoke and function-ARN tasks. @default - none */
  readonly lambdas?: ReadonlyMap<string, LambdaFunctionHandler> | Readonly<Record<string, LambdaFunctionHandler>>;
  /**
   * Service integrations by key: what follows "arn:aws:states:::" without ".waitForTaskToken"
   * ("dynamodb:updateItem", "events:putEvents", "sns:publish", "aws-sdk:ssm:getParameter"), or
   * "activity:<name>" for activities. @default - none
   */
  readonly integrations?: Readonly<Record<string, IntegrationHandler>>;
  /**
   * Answers task tokens of .waitForTaskToken tasks (an operator model). The first answer wins, this handler's or one
   * through `stepFunctions`. @default - tokens are answered only through `stepFunctions`
   */
  readonly taskTokens?: TaskTokenHandler;
  /**
   * The Step Functions API the tokens of waiting tasks are open on, so that code answers them with SendTaskSuccess /
   * SendTaskFailure (a handler, an EventBridge rule's target, the CLI): the rehearsal's `aws.stepfunctions`. Without a
   * `taskTokens` handler, a waiting task waits for such an answer until its TimeoutSeconds (States.Timeout) or the
   * execution's TimeoutSeconds. @default - none: tokens are answered only by `taskTokens`; with neither, a
   * .waitForTaskToken task is unbound
   */
  readonly stepFunctions?: TaskTokenBroker;
  /** Time of the execution; Wait states and Retry intervals sleep on it. @default - a new VirtualClock */
  readonly clock?: Clock;
  /** Called with each timeline event as it is recorded (live progress). */
  readonly onEvent?: (event: TimelineEvent) => void;
  /** ARN of the state machine (context object, execution ARN). @default arn:aws:states:us-east-1:123456789012:stateMachine:Rehearsal */
  readonly stateMachineArn?: string;
  /** @default - "rehearsal-<n>" */
  readonly executionName?: string;
  /** RoleArn in the context object. @default - a placeholder role ARN */
  readonly roleArn?: string;
  /** Stops the execution (status ABORTED). */
  readonly signal?: AbortSignal;
  /** Validate the definition with asl-validator (JSONPaths and ARNs) first. @default true */
  readonly validate?: boolean;
  /** Source of [0, 1) for Retry JitterStrategy FULL. @default Math.random */
  readonly random?: () => number;
}

/** A Task the runner cannot bind; the message names the state and its resource. */
export class UnboundResourceError extends Error {
  /** Read by the engine: an unbound resource is a fault of the rehearsal, never retried or caught. */
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(message: string) {
    super(message);
    this.name = 'Rehearsal.UnboundResource';
  }
}

/** An error raised by a task's handler, carried to the engine under its Step Functions name. */
class TaskError extends Error {
  constructor(name: string, cause: string, readonly isRetryable = true, readonly isCatchable = true) {
    super(cause);
    this.name = name;
  }
}

const DEFAULT_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Rehearsal';
const LAMBDA_OK_STATUS = 200;
const LAMBDA_ASYNC_STATUS = 202;
const LAMBDA_DRY_RUN_STATUS = 204;
const MS_PER_SECOND = 1000;
/** A Standard workflow execution runs at most a year (Step Functions quotas). */
const STANDARD_MAX_EXECUTION_MS = 365 * 24 * 60 * 60 * MS_PER_SECOND;
let executionCounter = 0;

/** Lets every pending microtask run (the engine's event log is consumed there) before time moves. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs the definition: prepared and checked (every Task bound, the definition valid), then the engine runs with each
 * Task bound to LocalExecution.taskHandler, its event log becomes the timeline, and its end the RunResult.
 */
export async function runStateMachine(options: RunStateMachineOptions): Promise<RunResult> {
  const execution = new LocalExecution(options);
  const engine = execution.startEngine();
  const recorded = execution.recordEngineEvents(engine);
  const outcome = await execution.awaitOutcome(engine);
  await recorded;
  return execution.result(outcome);
}

/** The engine's run of one execution (aws-local-stepfunctions' StateMachine.run). */
type EngineExecution = ReturnType<StateMachine['run']>;
type EngineHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

/** How an execution ended. */
interface Outcome {
  readonly status: ExecutionStatus;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * One local execution: its identity and clock, its timeline and counts, the tokens its tasks wait on, and the Task
 * handlers the engine calls (an attempt -> the Lambda, the integration or the Wait -> Retry on the virtual clock).
 */
class LocalExecution {
  private readonly realStart = performance.now();
  private readonly clock: Clock;
  private readonly prepared: PreparedDefinition;
  private readonly lambdas: Map<string, LambdaFunctionHandler>;
  private readonly integrations: Readonly<Record<string, IntegrationHandler>>;
  private readonly stateMachineArn: string;
  private readonly executionName: string;
  private readonly executionArn: string;
  private readonly input: unknown;
  private readonly startedAt: number;
  private readonly deadline: number | undefined;

  private readonly events: TimelineEvent[] = [];
  private stateTransitions = 0;
  private readonly counts = { total: 0, byState: {} as Record<string, number>, byFunction: {} as Record<string, number>, byIntegration: {} as Record<string, number> };

  private stopReason: 'timeout' | 'abort' | undefined;
  private tokenCounter = 0;
  private abortExecution: () => void = () => undefined;
  /** Tokens of tasks that still wait, closed when the execution stops or ends. */
  private readonly openTokens = new Set<OpenToken>();

  constructor(private readonly options: RunStateMachineOptions) {
    this.clock = options.clock ?? new VirtualClock();
    this.prepared = prepareDefinition(options.definition);
    this.lambdas = normalizeLambdas(options.lambdas);
    this.integrations = options.integrations ?? {};
    checkBindings(this.prepared, this.lambdas, this.integrations, options.taskTokens !== undefined || options.stepFunctions !== undefined);
    if (options.validate ?? true) validateOnce(options.definition);

    this.stateMachineArn = options.stateMachineArn ?? DEFAULT_STATE_MACHINE_ARN;
    this.executionName = options.executionName ?? `rehearsal-${++executionCounter}`;
    this.executionArn = executionArnOf(this.stateMachineArn, this.executionName);
    this.input = options.input ?? {};
    this.startedAt = this.clock.now();
    this.deadline = this.prepared.timeoutSeconds !== undefined ? this.startedAt + this.prepared.timeoutSeconds * MS_PER_SECOND : undefined;
  }

  // -- the run ----------------------------------------------------------------------------------------------------

  /** Starts the engine with every Task bound here, and the stop signal wired. */
  startEngine(): EngineExecution {
    const taskResourceLocalHandlers: EngineHandlers = {};
    for (const task of this.prepared.tasks.values()) {
      taskResourceLocalHandlers[task.name] = this.taskHandler(task) as unknown as EngineHandlers[string];
    }
    const retryIntervalOverrides = Object.fromEntries(this.prepared.compositeRetries.map((name) => [name, 0]));
    const machine = new StateMachine(this.prepared.definition as never, { validationOptions: { noValidate: true } });
    const execution = machine.run(this.input as never, {
      noThrowOnAbort: true,
      overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
      context: contextObject(this.clock, {
        executionArn: this.executionArn, executionName: this.executionName, stateMachineArn: this.stateMachineArn,
        roleArn: this.options.roleArn, startedAt: this.startedAt, input: this.input,
      }),
    });
    this.abortExecution = execution.abort;
    if (this.options.signal?.aborted) this.stop('abort');
    this.options.signal?.addEventListener('abort', this.onAbortSignal, { once: true });
    return execution;
  }

  /** The engine's event log, translated into the timeline as it comes. */
  recordEngineEvents(execution: EngineExecution): Promise<void> {
    const recorded = (async () => {
      // The engine's StateCaught event does not say what was caught: take it from the StateFailed before it.
      const lastFailure = new Map<string, Pick<TimelineEvent, 'error' | 'cause'>>();
      for await (const event of execution.eventLogs) {
        let translated = translateEvent(event as unknown as EngineEvent, this.prepared, this.stopReason);
        if (!translated) continue;
        const key = `${translated.state}#${translated.mapIndex ?? ''}`;
        if (translated.type === 'StateFailed') lastFailure.set(key, { error: translated.error, cause: translated.cause });
        if (translated.type === 'StateCaught') translated = { ...translated, ...lastFailure.get(key) };
        this.record(translated);
      }
    })();
    // An onEvent that throws surfaces when the run ends (awaited by runStateMachine), not as an unhandled rejection.
    recorded.catch(() => undefined);
    return recorded;
  }

  /** How the execution ended: its output, or the error and cause of a failure, a timeout or an abort. */
  async awaitOutcome(execution: EngineExecution): Promise<Outcome> {
    try {
      let output: unknown = await execution.result;
      const status: ExecutionStatus = this.stopReason === 'timeout' ? 'TIMED_OUT' : this.stopReason === 'abort' ? 'ABORTED' : 'SUCCEEDED';
      let error: string | undefined;
      let cause: string | undefined;
      if (status === 'TIMED_OUT') {
        error = STATES_TIMEOUT;
        cause = `The execution ran longer than its TimeoutSeconds (${this.prepared.timeoutSeconds})`;
      }
      if (status !== 'SUCCEEDED') output = undefined;
      return { status, output, error, cause };
    } catch (err) {
      if (!(err instanceof ExecutionError)) throw err;
      const failure = err.cause as Error;
      return { status: 'FAILED', error: failure.name, cause: failure.message };
    } finally {
      this.options.signal?.removeEventListener('abort', this.onAbortSignal);
      // Tasks still waiting when the execution ended (a sibling branch failed...): their tokens are refused from now on.
      for (const open of [...this.openTokens]) open.end();
    }
  }

  result(outcome: Outcome): RunResult {
    const stoppedAt = this.clock.now();
    return {
      status: outcome.status,
      output: outcome.output,
      error: outcome.error,
      cause: outcome.cause,
      executionArn: this.executionArn,
      startedAt: this.startedAt,
      stoppedAt,
      durationMs: stoppedAt - this.startedAt,
      realDurationMs: performance.now() - this.realStart,
      events: this.events,
      stateTransitions: this.stateTransitions,
      taskInvocations: this.counts,
    };
  }

  // -- timeline, counts, stopping --------------------------------------------------------------------------------

  private record(event: Omit<TimelineEvent, 'at' | 'elapsedMs'>): void {
    // States the runner added to work around the engine are not the user's: not counted, not shown.
    if (event.state?.endsWith(INTERNAL_STATE_SUFFIX)) return;
    const at = this.clock.now();
    const stamped: TimelineEvent = { ...event, at, elapsedMs: at - this.startedAt };
    if (stamped.type === 'StateEntered' || stamped.type === 'StateRetried') this.stateTransitions += 1;
    this.events.push(stamped);
    this.options.onEvent?.(stamped);
  }

  private count(stateName: string, bucket: Record<string, number>, key: string): void {
    this.counts.total += 1;
    this.counts.byState[stateName] = (this.counts.byState[stateName] ?? 0) + 1;
    bucket[key] = (bucket[key] ?? 0) + 1;
  }

  private readonly onAbortSignal = (): void => this.stop('abort');

  private stop(reason: 'timeout' | 'abort'): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.abortExecution();
    for (const open of [...this.openTokens]) open.end();
  }

  private stopped(): boolean {
    return this.stopReason !== undefined;
  }

  /** Sleeps on the clock, but no further than the execution's deadline (then times it out). */
  private async sleepWithinDeadline(ms: number): Promise<void> {
    if (this.deadline !== undefined && this.clock.now() + ms > this.deadline) {
      await this.clock.sleep(Math.max(0, this.deadline - this.clock.now()));
      this.stop('timeout');
      return;
    }
    await this.clock.sleep(ms);
  }

  // -- Task states -----------------------------------------------------------------------------------------------

  /** What the engine calls for a Task state: attempts, Retry on the virtual clock, virtual timeout. */
  private taskHandler(prepared: PreparedTask): (input: unknown) => Promise<unknown> {
    return async (given: unknown): Promise<unknown> => {
      const { task, input } = withTimeoutFromInput(prepared, given);
      await settle();
      const retry = new RetryPolicy(task.retry, this.options.random);
      for (let attempt = 1; ; attempt++) {
        if (this.stopped()) return null;
        const attemptStart = this.clock.now();
        try {
          const result = await this.attemptTask(task, input, attempt, attemptStart);
          if (task.timeoutSeconds !== undefined && this.clock.now() - attemptStart > task.timeoutSeconds * MS_PER_SECOND) {
            throw new TaskError(STATES_TIMEOUT, `State "${task.name}" ran ${(this.clock.now() - attemptStart) / MS_PER_SECOND} virtual seconds, more than its TimeoutSeconds (${task.timeoutSeconds})`);
          }
          return result;
        } catch (err) {
          if (err instanceof UnboundResourceError || (err instanceof TaskError && !err.isRetryable)) throw err;
          const error = err as Error;
          const next = retry.nextDelayMs(error.name);
          if (!next || this.stopped()) throw error;
          await settle();
          this.record({ type: 'StateFailed', state: task.name, stateType: task.originalType, input, error: error.name, cause: error.message });
          this.record({ type: 'StateRetried', state: task.name, stateType: task.originalType, input, error: error.name, retry: { attempt: attempt + 1, delayMs: next.delayMs } });
          await this.sleepWithinDeadline(next.delayMs);
        }
      }
    };
  }

  /** One attempt of a Task: call what its resource names, wait for the token if it must. */
  private async attemptTask(task: PreparedTask, input: unknown, attempt: number, attemptStart: number): Promise<unknown> {
    const resource = task.resource;
    switch (resource.kind) {
      case 'lambdaInvoke': {
        const params = (input ?? {}) as Record<string, unknown>;
        const token = resource.waitForTaskToken ? this.newToken(task) : undefined;
        const filled = token ? fillToken(params, token) as Record<string, unknown> : params;
        if (typeof filled.FunctionName !== 'string') {
          throw new UnboundResourceError(`State "${task.name}" (${task.resourceArn}) has no FunctionName in its Parameters`);
        }
        const payload = filled.Payload ?? {};
        const invocationType = filled.InvocationType ?? 'RequestResponse';
        if (invocationType === 'DryRun') return { StatusCode: LAMBDA_DRY_RUN_STATUS, Payload: '' };
        if (token) return this.deliverThenAwait(task, this.issueToken(task, token, payload, attemptStart), payload, () => this.invokeLambda(task, filled.FunctionName as string, payload, attempt));
        const result = await this.invokeLambda(task, filled.FunctionName, payload, attempt);
        if (invocationType === 'Event') return { StatusCode: LAMBDA_ASYNC_STATUS, Payload: '' };
        return {
          ExecutedVersion: '$LATEST',
          Payload: result,
          SdkHttpMetadata: { HttpStatusCode: LAMBDA_OK_STATUS },
          SdkResponseMetadata: { RequestId: `${this.executionName}-${task.name}-${attempt}` },
          StatusCode: LAMBDA_OK_STATUS,
        };
      }
      case 'lambdaFunction':
        return this.invokeLambda(task, resource.functionName, input, attempt);
      case 'integration': {
        const token = resource.waitForTaskToken ? this.newToken(task) : undefined;
        const parameters = token ? fillToken(input, token) : input;
        if (token) return this.deliverThenAwait(task, this.issueToken(task, token, parameters, attemptStart), parameters, () => this.callIntegration(task, resource.key, parameters, attempt, token));
        return this.callIntegration(task, resource.key, parameters, attempt, token);
      }
      case 'activity':
        return this.callIntegration(task, resource.key, input, attempt);
      case 'wait':
        return this.runWait(task, input);
      case 'pass':
        return task.passResult;
      default:
        throw new UnboundResourceError(`State "${task.name}" has resource "${task.resourceArn}", which the rehearsal cannot bind (expected a Lambda function, arn:aws:states:::lambda:invoke, or a service integration arn:aws:states:::<service>:<action>)`);
    }
  }

  private async invokeLambda(task: PreparedTask, functionRef: string, payload: unknown, attempt: number): Promise<unknown> {
    const functionName = lambdaFunctionName(functionRef);
    const fn = this.lambdas.get(functionName);
    if (!fn) {
      throw new UnboundResourceError(`State "${task.name}" invokes Lambda function "${functionRef}" (resource ${task.resourceArn}), which is not bound; bound functions: ${[...this.lambdas.keys()].join(', ') || 'none'}`);
    }
    this.count(task.name, this.counts.byFunction, functionName);
    try {
      const result = await fn(jsonCopy(payload), { functionName, stateName: task.name, executionArn: this.executionArn, attempt });
      return jsonCopy(result ?? null);
    } catch (err) {
      throw lambdaError(err);
    }
  }

  private async callIntegration(task: PreparedTask, key: string, parameters: unknown, attempt: number, taskToken?: string): Promise<unknown> {
    const handler = this.integrations[key];
    if (!handler) {
      throw new UnboundResourceError(`State "${task.name}" calls ${task.resourceArn}, but no integration "${key}" is bound; bound integrations: ${Object.keys(this.integrations).join(', ') || 'none'}`);
    }
    this.count(task.name, this.counts.byIntegration, key);
    try {
      const result = await handler(jsonCopy(parameters), { integration: key, resource: task.resourceArn, stateName: task.name, executionArn: this.executionArn, attempt, taskToken });
      return jsonCopy(result ?? null);
    } catch (err) {
      throw namedError(err);
    }
  }

  private async runWait(task: PreparedTask, input: unknown): Promise<unknown> {
    const { input: stateInput, seconds, timestamp } = input as { input: unknown; seconds?: unknown; timestamp?: unknown };
    let ms = 0;
    if (seconds !== undefined) {
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        throw new TaskError('States.Runtime', `Wait state "${task.name}": expected Seconds to be a non-negative integer, got ${JSON.stringify(seconds)}`, false, false);
      }
      ms = seconds * MS_PER_SECOND;
    } else if (timestamp !== undefined) {
      const at = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
      if (Number.isNaN(at)) {
        throw new TaskError('States.Runtime', `Wait state "${task.name}": expected an ISO-8601 Timestamp, got ${JSON.stringify(timestamp)}`, false, false);
      }
      ms = Math.max(0, at - this.clock.now());
    }
    await this.sleepWithinDeadline(ms);
    return stateInput;
  }

  // -- task tokens -----------------------------------------------------------------------------------------------

  private newToken(task: PreparedTask): string {
    return `${this.executionName}/${task.name}/${++this.tokenCounter}`;
  }

  /**
   * Opens a task token before its task delivers it: Step Functions accepts an answer from the moment the token
   * exists, so the Lambda (or a rule's target) may call SendTaskSuccess while it is still being invoked.
   */
  private issueToken(task: PreparedTask, token: string, payload: unknown, attemptStart: number): OpenToken {
    if (!this.options.taskTokens && !this.options.stepFunctions) {
      throw new UnboundResourceError(`State "${task.name}" waits for a task token (${task.resourceArn}), but neither a taskTokens handler nor a stepFunctions API is bound`);
    }
    this.record({ type: 'TaskTokenIssued', state: task.name, stateType: task.originalType, taskToken: token, input: payload });
    const timeoutAt = task.timeoutSeconds !== undefined ? attemptStart + task.timeoutSeconds * MS_PER_SECOND : undefined;
    const open = openToken(this.options.stepFunctions, { token, executionArn: this.executionArn, stateName: task.name, resource: task.resourceArn, issuedAt: this.clock.now(), timeoutAt });
    this.openTokens.add(open);
    if (this.stopped()) open.end();
    return open;
  }

  /** Closes a token whose task no longer waits for it (it failed to deliver, or it was answered). */
  private closeToken(open: OpenToken): void {
    this.openTokens.delete(open);
    open.end();
  }

  /** Delivers a token (the Lambda or integration call) and waits for its answer; a failed delivery closes it. */
  private async deliverThenAwait(task: PreparedTask, open: OpenToken, payload: unknown, deliver: () => Promise<unknown>): Promise<unknown> {
    let deliveryResult: unknown;
    try {
      deliveryResult = await deliver();
    } catch (err) {
      this.closeToken(open);
      throw err;
    }
    return this.awaitTaskToken(task, open, payload, deliveryResult);
  }

  /**
   * Waits for the answer to a delivered token: the first of the TaskTokenHandler's answer, an answer through the
   * Step Functions API (`stepFunctions`, maybe already given during the delivery), the task's TimeoutSeconds and the
   * execution's end. See TaskTokenHandler for who owns time while the handler has not answered. With no limit at all,
   * the wait ends where a Standard execution's would: a year after it started (TIMED_OUT), not never.
   */
  private async awaitTaskToken(task: PreparedTask, open: OpenToken, payload: unknown, deliveryResult: unknown): Promise<unknown> {
    const { token, issuedAt, timeoutAt } = open.task;
    const taskTokens = this.options.taskTokens;
    try {
      if (open.settled) return decide(await open.outcome);
      if (taskTokens) {
        const fromHandler = Promise.resolve().then(() => taskTokens(token, {
          stateName: task.name, resource: task.resourceArn, executionArn: this.executionArn, payload, deliveryResult, issuedAt, timeoutSeconds: task.timeoutSeconds, signal: open.signal,
        }));
        // A late answer (or failure) of the handler, after the API answered, is refused and goes nowhere.
        fromHandler.then((decision) => { if (decision) open.handle.answer(decision); }, () => undefined);
        const first = await Promise.race([open.outcome, fromHandler.then((decision) => ({ handler: decision }))]);
        if ('handler' in first) {
          if (first.handler && open.handle.answer(first.handler)) return decide(first.handler);
        } else {
          return decide(first);
        }
      }
      if (open.settled) return decide(await open.outcome);
      // Nobody answered yet: wait for the API, up to the task's timeout or the execution's deadline.
      const executionEnd = this.deadline ?? this.startedAt + STANDARD_MAX_EXECUTION_MS;
      const limit = Math.min(timeoutAt ?? Infinity, executionEnd);
      void this.clock.sleep(Math.max(0, limit - this.clock.now()), open.signal).then(() => {
        if (open.settled) return;
        if (limit === executionEnd && (timeoutAt === undefined || executionEnd < timeoutAt)) {
          this.stop('timeout');
        } else if (open.handle.close('timedOut')) {
          open.finish({ error: STATES_TIMEOUT, cause: `State "${task.name}" waited ${task.timeoutSeconds} virtual seconds for its task token (its TimeoutSeconds) without an answer` });
        }
      });
      return decide(await open.outcome);
    } finally {
      this.closeToken(open);
    }
  }
}

/** The engine's event log entries, as far as the runner reads them. */
interface EngineEvent {
  readonly type: string;
  readonly state?: { readonly name: string; readonly type: string; readonly input?: unknown; readonly output?: unknown };
  readonly parentState?: { readonly name: string };
  readonly index?: number;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly Error?: string;
  readonly Cause?: unknown;
  readonly retry?: { readonly attempt: number };
}

function translateEvent(event: EngineEvent, prepared: PreparedDefinition, stopReason: 'timeout' | 'abort' | undefined): Omit<TimelineEvent, 'at' | 'elapsedMs'> | undefined {
  const stateType = event.state ? prepared.stateTypes.get(event.state.name) ?? event.state.type : undefined;
  const base = {
    state: event.state?.name,
    stateType,
    mapIndex: event.state ? event.index : undefined,
    parentState: event.parentState?.name,
  };
  const failure = event.Error !== undefined ? { error: event.Error, cause: typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause) } : {};
  switch (event.type) {
    case 'ExecutionStarted':
      return { type: 'ExecutionStarted', input: event.input };
    case 'ExecutionSucceeded':
      return { type: 'ExecutionSucceeded', output: event.output };
    case 'ExecutionFailed':
      return { type: 'ExecutionFailed', ...failure };
    case 'ExecutionAborted':
    case 'ExecutionTimeout':
      return { type: stopReason === 'timeout' ? 'ExecutionTimedOut' : 'ExecutionAborted' };
    case 'StateEntered':
      return { type: 'StateEntered', ...base, input: event.state?.input };
    case 'StateExited':
      return { type: 'StateExited', ...base, input: event.state?.input, output: event.state?.output };
    case 'StateFailed':
    case 'StateCaught':
      return { type: event.type, ...base, ...failure };
    case 'StateRetried':
      // Only Map and Parallel states: the runner retries Task states itself.
      return { type: 'StateRetried', ...base, retry: { attempt: (event.retry?.attempt ?? 0) + 1, delayMs: 0 } };
    case 'MapIterationStarted': case 'MapIterationSucceeded': case 'MapIterationFailed':
    case 'ParallelBranchStarted': case 'ParallelBranchSucceeded': case 'ParallelBranchFailed':
      return { type: event.type, parentState: event.parentState?.name, mapIndex: event.index, ...failure };
    default:
      return undefined;
  }
}

/** Definitions already validated: asl-validator takes ~100 ms a run, and a rehearsal reruns one definition. */
const validDefinitions = new Set<string>();

/** Validates the definition with asl-validator (through the engine's constructor), which throws with its findings. */
function validateOnce(definition: AslDefinition): void {
  const text = JSON.stringify(definition);
  if (validDefinitions.has(text)) return;
  new StateMachine(definition as never);
  validDefinitions.add(text);
}

/** Every statically known resource must be bound before anything runs. */
function checkBindings(prepared: PreparedDefinition, lambdas: ReadonlyMap<string, LambdaFunctionHandler>, integrations: Readonly<Record<string, IntegrationHandler>>, tokensAnswerable: boolean): void {
  const problems: string[] = [];
  for (const task of prepared.tasks.values()) {
    const r = task.resource;
    if (r.kind === 'unknown') problems.push(`state "${task.name}": resource "${task.resourceArn}" is neither a Lambda function nor a service integration`);
    if (r.kind === 'lambdaFunction' && !lambdas.has(r.functionName)) problems.push(`state "${task.name}": Lambda function "${r.functionName}" (${task.resourceArn}) is not bound`);
    if (r.kind === 'lambdaInvoke' && task.staticFunctionName !== undefined && !lambdas.has(lambdaFunctionName(task.staticFunctionName))) {
      problems.push(`state "${task.name}": Lambda function "${task.staticFunctionName}" (${task.resourceArn}) is not bound`);
    }
    if ((r.kind === 'integration' || r.kind === 'activity') && !integrations[r.key]) problems.push(`state "${task.name}": integration "${r.key}" (${task.resourceArn}) is not bound`);
    if ((r.kind === 'lambdaInvoke' || r.kind === 'integration') && r.waitForTaskToken && !tokensAnswerable) {
      problems.push(`state "${task.name}": ${task.resourceArn} waits for a task token, but neither a taskTokens handler nor a stepFunctions API is given`);
    }
  }
  if (problems.length > 0) {
    throw new UnboundResourceError(`The rehearsal binds every Task state locally and never calls AWS; these are unbound:\n- ${problems.join('\n- ')}`);
  }
}

function normalizeLambdas(lambdas: RunStateMachineOptions['lambdas']): Map<string, LambdaFunctionHandler> {
  const entries = lambdas === undefined ? [] : lambdas instanceof Map ? [...lambdas.entries()] : Object.entries(lambdas);
  return new Map(entries.map(([key, fn]) => [lambdaFunctionName(key), fn]));
}

function executionArnOf(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}

interface ContextFacts {
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateMachineArn: string;
  readonly roleArn?: string;
  readonly startedAt: number;
  readonly input: unknown;
}

/**
 * The context object ($$). The engine adds Execution.Input / StartTime (real time) itself; the
 * definition is rewritten to read RehearsalStartTime / RehearsalInput instead (see definition.ts).
 * State.EnteredTime is read when the engine evaluates a state's paths, right after entering it.
 */
function contextObject(clock: Clock, facts: ContextFacts): Record<string, unknown> {
  const [, partition, , , account] = facts.stateMachineArn.split(':');
  return {
    Execution: {
      Id: facts.executionArn,
      Name: facts.executionName,
      RoleArn: facts.roleArn ?? `arn:${partition}:iam::${account}:role/RehearsalStateMachineRole`,
      RedriveCount: 0,
      RehearsalStartTime: new Date(facts.startedAt).toISOString(),
      RehearsalInput: facts.input,
    },
    StateMachine: { Id: facts.stateMachineArn, Name: facts.stateMachineArn.split(':').pop() },
    State: {
      get EnteredTime(): string {
        return new Date(clock.now()).toISOString();
      },
      RetryCount: 0,
    },
  };
}

/** A token the runner waits on: its outcome (first answer, or a timeout), its handle on the API, and its abort signal. */
interface OpenToken {
  /** The waiting task, as the API was told. */
  readonly task: WaitingTask;
  readonly handle: WaitingTaskHandle;
  readonly outcome: Promise<TaskTokenDecision>;
  readonly signal: AbortSignal;
  /** True once the outcome is known (or the wait ended). */
  readonly settled: boolean;
  /** Settles the outcome (first call only) and aborts the signal. */
  finish(decision: TaskTokenDecision): void;
  /** The task no longer waits (execution stopped or ended): the token is closed and the signal aborted. */
  end(): void;
}

function openToken(broker: TaskTokenBroker | undefined, task: WaitingTask): OpenToken {
  const controller = new AbortController();
  let resolve!: (decision: TaskTokenDecision) => void;
  const outcome = new Promise<TaskTokenDecision>((r) => { resolve = r; });
  let settled = false;
  const finish = (decision: TaskTokenDecision): void => {
    if (settled) return;
    settled = true;
    resolve(decision);
    controller.abort();
  };
  const handle = (broker ?? localBroker()).open(task, finish);
  return {
    task,
    handle: {
      answer: (decision) => {
        const accepted = handle.answer(decision);
        if (accepted) finish(decision);
        return accepted;
      },
      close: (closure) => handle.close(closure),
    },
    outcome,
    signal: controller.signal,
    get settled() { return settled; },
    finish,
    end: () => {
      if (settled) return;
      settled = true;
      handle.close('executionEnded');
      // Whoever still awaits the outcome (the task's own wait) finishes: the execution is over, nobody reads it.
      resolve({ error: STATES_TIMEOUT, cause: `State "${task.stateName}" stopped waiting for its task token: the execution ended` });
      controller.abort();
    },
  };
}

/** First answer wins, without an API (only the TaskTokenHandler answers). */
function localBroker(): TaskTokenBroker {
  return {
    open: () => {
      let done = false;
      return {
        answer: () => (done ? false : (done = true)),
        close: () => (done ? false : (done = true)),
      };
    },
  };
}

/** The task's result for an answer: the output, or the error Retry and Catch see. */
function decide(decision: TaskTokenDecision): unknown {
  if ('error' in decision) throw new TaskError(decision.error, decision.cause ?? '');
  return jsonCopy(decision.output ?? null);
}

function fillToken(value: unknown, token: string): unknown {
  if (typeof value === 'string') return value.split(TASK_TOKEN_PLACEHOLDER).join(token);
  if (Array.isArray(value)) return value.map((v) => fillToken(v, token));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fillToken(v, token)]));
}

/** Payloads cross the Lambda boundary as JSON, as they do in AWS. */
function jsonCopy(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/**
 * A Lambda function error as Step Functions reports it: the error is the errorType (the thrown
 * error's name), the cause the JSON of { errorType, errorMessage, trace }.
 */
function lambdaError(err: unknown): Error {
  if (err instanceof UnboundResourceError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const errorType = e.name || 'Error';
  const trace = (e.stack ?? '').split('\n').slice(1).map((line) => line.trim());
  return new TaskError(errorType, JSON.stringify({ errorType, errorMessage: e.message, trace }));
}

function namedError(err: unknown): Error {
  if (err instanceof UnboundResourceError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new TaskError(e.name || 'Error', e.message);
}

/**
 * A Task whose timeout is a TimeoutSecondsPath: the value the engine resolved from the state's input (in
 * TIMEOUT_SECONDS_PARAMETER, rehearsal/definition.ts) becomes the task's TimeoutSeconds, and the parameter leaves the
 * input. "TimeoutSecondsPath [...] must resolve to a positive integer" (Amazon States Language, Task state); else
 * States.Runtime.
 */
function withTimeoutFromInput(task: PreparedTask, input: unknown): { task: PreparedTask; input: unknown } {
  if (!task.timeoutFromInput || input === null || typeof input !== 'object') return { task, input };
  const { [TIMEOUT_SECONDS_PARAMETER]: seconds, ...rest } = input as Record<string, unknown>;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1) {
    throw new TaskError('States.Runtime', `State "${task.name}": its TimeoutSecondsPath must resolve to a positive integer, got ${JSON.stringify(seconds)}`, false, false);
  }
  return { task: { ...task, timeoutSeconds: seconds }, input: rest };
}
