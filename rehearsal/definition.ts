import { AslDefinition, AslRetrier, AslState, forEachState, nestedDefinitions } from './asl';
import { parseTaskResource, REHEARSAL_PASS_RESOURCE, REHEARSAL_WAIT_RESOURCE, TaskResource } from './resources';

/**
 * Turns a state machine definition into one that aws-local-stepfunctions 3.0 runs faithfully on a
 * virtual clock. The rewrites (each one keeps the state's semantics; see rehearsal/README.md):
 *
 * - Wait states become Task states bound to the runner, which advances the virtual clock by the
 *   wait's real duration (Seconds, SecondsPath, Timestamp, TimestampPath) and returns the input.
 *   The engine evaluates the paths itself, through the Task's Parameters.
 * - A Task's Retry moves into the runner, which sleeps each interval on the virtual clock (the
 *   engine would sleep in real time); Catch stays with the engine.
 * - A Task's TimeoutSeconds moves into the runner (virtual time); the engine gets a long real-time
 *   timeout instead of its 60-second default. A TimeoutSecondsPath (of a Task with Parameters) becomes a parameter
 *   the engine resolves from the state's input (TIMEOUT_SECONDS_PARAMETER), which the runner takes out again.
 * - `$$.Task.Token` and `$$.State.Name` in Parameters become literals the runner fills in (the
 *   engine's context object has neither); `$$.Execution.StartTime` and `$$.Execution.Input` point to
 *   fields the runner supplies (the engine forces the real start time, and gives a Map iteration its
 *   item as Execution.Input).
 * - Engine bugs are sidestepped: ResultPath "$" (the engine writes a key named "$") is dropped,
 *   which means the same; `IsPresent: false` and the other negative type tests (which never match
 *   in the engine) become `Not: { ...: true }`; a Pass state whose Result is falsy (0, false, "",
 *   null; the engine passes the input through instead) becomes a Task the runner answers with it.
 * - Features the engine would silently ignore (JSONata, Assign/variables, distributed Map) are
 *   refused with an error naming the states.
 */

/** The parameter that carries a Task's resolved TimeoutSecondsPath to the runner (removed before the call). */
export const TIMEOUT_SECONDS_PARAMETER = '__rehearsal_timeout_seconds__';

/** Stands for $$.Task.Token in a rewritten Parameters block; the runner puts the real token there. */
export const TASK_TOKEN_PLACEHOLDER = '__rehearsal_task_token__';

/**
 * Task timeout given to the engine, seconds: the largest a Node.js timer holds (2^31 - 1 ms). The
 * engine times tasks in real time; the runner enforces the definition's TimeoutSeconds in virtual
 * time instead.
 */
export const ENGINE_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** A Task state (or a Wait state turned into one) as the runner binds it. */
export interface PreparedTask {
  readonly name: string;
  /** The type the definition gave it: 'Task', or 'Wait' / 'Pass' for a rewritten Wait / Pass state. */
  readonly originalType: 'Task' | 'Wait' | 'Pass';
  readonly resourceArn: string;
  readonly resource: TaskResource;
  /** The Retry the runner applies on the virtual clock. */
  readonly retry: readonly AslRetrier[];
  /** TimeoutSeconds the runner enforces in virtual time. */
  readonly timeoutSeconds?: number;
  /** The timeout comes from the state's input (TimeoutSecondsPath), in the TIMEOUT_SECONDS_PARAMETER parameter. */
  readonly timeoutFromInput?: boolean;
  /** Parameters.FunctionName when it is a literal (lambda:invoke). */
  readonly staticFunctionName?: string;
  /** The Result of a rewritten Pass state. */
  readonly passResult?: unknown;
}

export interface PreparedDefinition {
  /** What the engine runs. */
  readonly definition: AslDefinition;
  /** Every Task state (rewritten Wait states included), by name, nested states included. */
  readonly tasks: ReadonlyMap<string, PreparedTask>;
  /** Original Type of every state, by name. */
  readonly stateTypes: ReadonlyMap<string, string>;
  /** Map and Parallel states that have a Retry (the engine retries them; intervals are not virtual). */
  readonly compositeRetries: readonly string[];
  /** The definition's TimeoutSeconds, enforced by the runner in virtual time. */
  readonly timeoutSeconds?: number;
}

/** A definition the local engine cannot run faithfully. */
export class UnsupportedDefinitionError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The rehearsal cannot run this state machine locally:\n- ${problems.join('\n- ')}`);
    this.name = 'UnsupportedDefinitionError';
  }
}

/** Fields of JSONata states and of distributed Maps, which the engine ignores. */
const UNSUPPORTED_FIELDS = ['Assign', 'Arguments', 'Output', 'ItemReader', 'ItemBatcher', 'ResultWriter', 'ToleratedFailureCount', 'ToleratedFailurePercentage', 'ToleratedFailureCountPath', 'ToleratedFailurePercentagePath'];
const TYPE_TESTS = ['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'];
const CONTEXT_REWRITES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\$\$\.Execution\.StartTime(?![A-Za-z0-9_])/g, '$$$$.Execution.RehearsalStartTime'],
  [/\$\$\.Execution\.Input(?![A-Za-z0-9_])/g, '$$$$.Execution.RehearsalInput'],
];
/** Characters that would need escaping inside an intrinsic function's string literal. */
const INTRINSIC_UNSAFE = /['{}\\]/;

export function prepareDefinition(original: AslDefinition): PreparedDefinition {
  const problems = unsupportedFeatures(original);
  if (problems.length > 0) throw new UnsupportedDefinitionError(problems);

  const definition = rewriteContextPaths(splitIntrinsicFails(structuredClone(original))) as AslDefinition & { TimeoutSeconds?: number };
  const timeoutSeconds = definition.TimeoutSeconds;
  delete definition.TimeoutSeconds;

  const tasks = new Map<string, PreparedTask>();
  const stateTypes = new Map<string, string>();
  const compositeRetries: string[] = [];
  forEachState(definition, (name, state, scope) => {
    if (stateTypes.has(name)) {
      throw new UnsupportedDefinitionError([`two states are named "${name}"; the engine binds tasks by state name, so names must be unique across the whole definition (nested Map and Parallel states included)`]);
    }
    stateTypes.set(name, state.Type);
    const rewritten = prepareState(name, state, tasks);
    if ((rewritten.Type === 'Map' || rewritten.Type === 'Parallel') && Array.isArray(rewritten.Retry) && rewritten.Retry.length > 0) {
      compositeRetries.push(name);
    }
    (scope.States as Record<string, AslState>)[name] = rewritten;
  });
  return { definition, tasks, stateTypes, compositeRetries, timeoutSeconds };
}

/** Suffix of the states the runner adds itself; they are neither counted as transitions nor shown in timelines. */
export const INTERNAL_STATE_SUFFIX = ' (rehearsal)';

/**
 * aws-local-stepfunctions 3.0.0 reads a Fail state's CausePath / ErrorPath as a plain JSONPath, so an intrinsic
 * function there (`States.Format(...)`, valid in AWS) fails the execution with States.Runtime. Such a Fail state
 * becomes a Pass state of the same name that evaluates the intrinsics into `$.rehearsalFail`, followed by an
 * internal Fail state reading plain paths: the error and cause are what AWS produces.
 */
function splitIntrinsicFails(definition: AslDefinition): AslDefinition {
  const isIntrinsic = (v: unknown) => typeof v === 'string' && v.startsWith('States.');
  const scopes: AslDefinition[] = [];
  forEachState(definition, (_name, _state, scope) => { if (!scopes.includes(scope)) scopes.push(scope); });
  for (const scope of scopes) {
    const states = scope.States as Record<string, AslState>;
    for (const [name, state] of Object.entries({ ...states })) {
      if (state.Type !== 'Fail' || !(isIntrinsic(state.CausePath) || isIntrinsic(state.ErrorPath))) continue;
      const parameters: Record<string, unknown> = {};
      for (const [field, path, literal] of [['Error', state.ErrorPath, state.Error], ['Cause', state.CausePath, state.Cause]] as const) {
        if (path !== undefined) parameters[`${field}.$`] = path;
        else if (literal !== undefined) parameters[field] = literal;
      }
      const failName = `${name}${INTERNAL_STATE_SUFFIX}`;
      states[name] = { Type: 'Pass', Parameters: parameters, ResultPath: '$.rehearsalFail', Next: failName } as AslState;
      states[failName] = {
        Type: 'Fail',
        ...(parameters['Error.$'] !== undefined ? { ErrorPath: '$.rehearsalFail.Error' } : parameters.Error !== undefined ? { Error: parameters.Error } : {}),
        ...(parameters['Cause.$'] !== undefined ? { CausePath: '$.rehearsalFail.Cause' } : parameters.Cause !== undefined ? { Cause: parameters.Cause } : {}),
      } as AslState;
    }
  }
  return definition;
}

function prepareState(name: string, state: AslState, tasks: Map<string, PreparedTask>): AslState {
  const next: Record<string, unknown> = { ...state };
  if (next.ResultPath === '$') delete next.ResultPath;
  if (Array.isArray(next.Catch)) {
    next.Catch = (next.Catch as Array<Record<string, unknown>>).map((catcher) => {
      if (catcher.ResultPath !== '$') return catcher;
      const { ResultPath: _dropped, ...rest } = catcher;
      return rest;
    });
  }
  for (const field of ['Parameters', 'ResultSelector', 'ItemSelector']) {
    if (next[field] !== undefined) next[field] = rewritePayload(next[field], name, field === 'Parameters' && state.Type === 'Task');
  }
  switch (state.Type) {
    case 'Choice':
      next.Choices = (state.Choices as unknown[] | undefined)?.map(normalizeChoiceRule);
      return next as AslState;
    case 'Wait':
      return waitAsTask(name, next, tasks);
    case 'Pass':
      return 'Result' in next && !next.Result ? passAsTask(name, next, tasks) : next as AslState;
    case 'Task':
      return prepareTask(name, next, tasks);
    default:
      return next as AslState;
  }
}

function waitAsTask(name: string, state: Record<string, unknown>, tasks: Map<string, PreparedTask>): AslState {
  const { Seconds, SecondsPath, Timestamp, TimestampPath, Type: _wait, ...rest } = state;
  const parameters: Record<string, unknown> = { 'input.$': '$' };
  if (Seconds !== undefined) parameters.seconds = Seconds;
  else if (SecondsPath !== undefined) parameters['seconds.$'] = SecondsPath;
  else if (Timestamp !== undefined) parameters.timestamp = Timestamp;
  else if (TimestampPath !== undefined) parameters['timestamp.$'] = TimestampPath;
  tasks.set(name, { name, originalType: 'Wait', resourceArn: REHEARSAL_WAIT_RESOURCE, resource: { kind: 'wait' }, retry: [] });
  return { ...rest, Type: 'Task', Resource: REHEARSAL_WAIT_RESOURCE, Parameters: parameters, TimeoutSeconds: ENGINE_TASK_TIMEOUT_SECONDS };
}

function passAsTask(name: string, state: Record<string, unknown>, tasks: Map<string, PreparedTask>): AslState {
  // With a Result, Parameters do not matter: the Result is the state's result.
  const { Result, Parameters: _parameters, Type: _pass, ...rest } = state;
  tasks.set(name, { name, originalType: 'Pass', resourceArn: REHEARSAL_PASS_RESOURCE, resource: { kind: 'pass' }, retry: [], passResult: Result });
  return { ...rest, Type: 'Task', Resource: REHEARSAL_PASS_RESOURCE, TimeoutSeconds: ENGINE_TASK_TIMEOUT_SECONDS };
}

function prepareTask(name: string, state: Record<string, unknown>, tasks: Map<string, PreparedTask>): AslState {
  const { Retry, TimeoutSeconds, TimeoutSecondsPath, HeartbeatSeconds: _hb, HeartbeatSecondsPath: _hbPath, ...rest } = state;
  const resourceArn = String(state.Resource);
  const parameters = state.Parameters as Record<string, unknown> | undefined;
  const timeoutFromInput = typeof TimeoutSecondsPath === 'string' && parameters !== undefined;
  if (timeoutFromInput) rest.Parameters = { ...parameters, [`${TIMEOUT_SECONDS_PARAMETER}.$`]: TimeoutSecondsPath };
  const functionName = parameters?.FunctionName;
  tasks.set(name, {
    name,
    originalType: 'Task',
    resourceArn,
    resource: parseTaskResource(resourceArn),
    retry: (Retry as AslRetrier[] | undefined) ?? [],
    timeoutSeconds: typeof TimeoutSeconds === 'number' ? TimeoutSeconds : undefined,
    ...(timeoutFromInput ? { timeoutFromInput } : {}),
    staticFunctionName: typeof functionName === 'string' ? functionName : undefined,
  });
  return { ...rest, Type: 'Task', TimeoutSeconds: ENGINE_TASK_TIMEOUT_SECONDS } as AslState;
}

/** Replaces $$.Task.Token and $$.State.Name, which the engine's context object lacks, by literals. */
function rewritePayload(template: unknown, stateName: string, allowToken: boolean): unknown {
  if (Array.isArray(template)) return template.map((item) => rewritePayload(item, stateName, allowToken));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template as Record<string, unknown>)) {
    if (key.endsWith('.$') && typeof value === 'string') {
      const plainKey = key.slice(0, -2);
      if (value === '$$.Task.Token' && allowToken) {
        out[plainKey] = TASK_TOKEN_PLACEHOLDER;
        continue;
      }
      if (value === '$$.State.Name') {
        out[plainKey] = stateName;
        continue;
      }
      if (value.startsWith('States.')) {
        let expression = value;
        if (allowToken) expression = expression.replace(/\$\$\.Task\.Token(?![A-Za-z0-9_])/g, `'${TASK_TOKEN_PLACEHOLDER}'`);
        if (!INTRINSIC_UNSAFE.test(stateName)) expression = expression.replace(/\$\$\.State\.Name(?![A-Za-z0-9_])/g, `'${stateName}'`);
        out[key] = expression;
        continue;
      }
      out[key] = value;
      continue;
    }
    out[key] = rewritePayload(value, stateName, allowToken);
  }
  return out;
}

/** `{ Variable, IsPresent: false }` never matches in the engine; `Not: { Variable, IsPresent: true }` does. */
function normalizeChoiceRule(rule: unknown): unknown {
  if (rule === null || typeof rule !== 'object') return rule;
  const r = rule as Record<string, unknown>;
  if (Array.isArray(r.And)) return { ...r, And: r.And.map(normalizeChoiceRule) };
  if (Array.isArray(r.Or)) return { ...r, Or: r.Or.map(normalizeChoiceRule) };
  if (r.Not !== undefined) return { ...r, Not: normalizeChoiceRule(r.Not) };
  for (const test of TYPE_TESTS) {
    if (r[test] === false) {
      const { Next, [test]: _negative, ...comparison } = r;
      const negated: Record<string, unknown> = { Not: { ...comparison, [test]: true } };
      if (Next !== undefined) negated.Next = Next;
      return negated;
    }
  }
  return r;
}

function rewriteContextPaths(value: unknown): unknown {
  if (typeof value === 'string') return CONTEXT_REWRITES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), value);
  if (Array.isArray(value)) return value.map(rewriteContextPaths);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, rewriteContextPaths(v)]));
}

function unsupportedFeatures(definition: AslDefinition): string[] {
  const problems: string[] = [];
  if (definition.QueryLanguage === 'JSONata') problems.push('the definition uses QueryLanguage JSONata (aws-local-stepfunctions ignores JSONata); use JSONPath');
  const visit = (scope: AslDefinition): void => {
    for (const [name, state] of Object.entries(scope.States ?? {})) {
      if (state.QueryLanguage === 'JSONata') problems.push(`state "${name}" uses QueryLanguage JSONata (ignored by aws-local-stepfunctions); use JSONPath`);
      for (const field of UNSUPPORTED_FIELDS) {
        if (state[field] !== undefined) problems.push(`state "${name}" uses ${field}, which aws-local-stepfunctions ignores`);
      }
      const mode = (state.ProcessorConfig as { Mode?: string } | undefined)?.Mode;
      if (state.Type === 'Map' && mode === 'DISTRIBUTED') problems.push(`state "${name}" is a distributed Map, which aws-local-stepfunctions does not run`);
      if (state.Type === 'Choice' && (state.Choices as Array<Record<string, unknown>> | undefined)?.some((c) => c.Condition !== undefined)) {
        problems.push(`state "${name}" has JSONata Choice conditions (Condition), which aws-local-stepfunctions ignores`);
      }
      for (const nested of nestedDefinitions(state)) visit(nested);
    }
  };
  visit(definition);
  return problems;
}
