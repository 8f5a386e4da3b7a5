/**
 * What a Task state's Resource asks for, parsed from its ARN. The runner binds each kind to a
 * local function; nothing here ever reaches AWS.
 */

/** Suffix of the callback pattern: the task waits for SendTaskSuccess / SendTaskFailure. */
export const WAIT_FOR_TASK_TOKEN_SUFFIX = '.waitForTaskToken';

/** Service integration key of Lambda's optimized integration (arn:aws:states:::lambda:invoke). */
export const LAMBDA_INVOKE = 'lambda:invoke';

/** Resource the runner gives the Task states it puts in place of Wait states. */
export const REHEARSAL_WAIT_RESOURCE = 'arn:aws:states:::rehearsal:wait';

/** Resource the runner gives the Task states it puts in place of Pass states with a falsy Result. */
export const REHEARSAL_PASS_RESOURCE = 'arn:aws:states:::rehearsal:pass';

export type TaskResource =
  /** arn:aws:states:::lambda:invoke[.waitForTaskToken]: the function comes from Parameters.FunctionName. */
  | { readonly kind: 'lambdaInvoke'; readonly waitForTaskToken: boolean }
  /** A function ARN as the Resource itself (the payloadResponseOnly form). */
  | { readonly kind: 'lambdaFunction'; readonly functionName: string }
  /**
   * Any other service integration, keyed by what follows "arn:<partition>:states:::" without the
   * callback suffix: "dynamodb:updateItem", "events:putEvents", "sns:publish",
   * "aws-sdk:elasticloadbalancingv2:describeRules", "states:startExecution.sync:2".
   */
  | { readonly kind: 'integration'; readonly key: string; readonly waitForTaskToken: boolean }
  /** An activity: keyed "activity:<name>" in the integrations. */
  | { readonly kind: 'activity'; readonly key: string }
  /** A Wait state the runner turned into a Task (see definition.ts). */
  | { readonly kind: 'wait' }
  /** A Pass state with a falsy Result the runner turned into a Task (see definition.ts). */
  | { readonly kind: 'pass' }
  | { readonly kind: 'unknown' };

const INTEGRATION_ARN = /^arn:[a-z-]+:states:::(.+)$/;
const ACTIVITY_ARN = /^arn:[a-z-]+:states:[^:]*:[^:]*:activity:(.+)$/;
const FUNCTION_ARN = /^arn:[a-z-]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/;
const PARTIAL_FUNCTION_ARN = /^(?:[0-9]{12}:)?function:([^:]+)(?::[^:]+)?$/;

export function parseTaskResource(resource: string): TaskResource {
  if (resource === REHEARSAL_WAIT_RESOURCE) return { kind: 'wait' };
  if (resource === REHEARSAL_PASS_RESOURCE) return { kind: 'pass' };
  const integration = INTEGRATION_ARN.exec(resource);
  if (integration) {
    const waitForTaskToken = integration[1].endsWith(WAIT_FOR_TASK_TOKEN_SUFFIX);
    const key = waitForTaskToken ? integration[1].slice(0, -WAIT_FOR_TASK_TOKEN_SUFFIX.length) : integration[1];
    return key === LAMBDA_INVOKE ? { kind: 'lambdaInvoke', waitForTaskToken } : { kind: 'integration', key, waitForTaskToken };
  }
  const activity = ACTIVITY_ARN.exec(resource);
  if (activity) return { kind: 'activity', key: `activity:${activity[1]}` };
  const functionName = functionNameOfArn(resource);
  if (functionName !== undefined) return { kind: 'lambdaFunction', functionName };
  return { kind: 'unknown' };
}

/** The function name in a full Lambda function ARN (with or without a version or alias qualifier); undefined for anything else. */
export function functionNameOfArn(arn: string): string | undefined {
  return FUNCTION_ARN.exec(arn)?.[1];
}

/**
 * The function name in a Lambda FunctionName value: a name, a full or partial ARN, with or without
 * a version or alias qualifier (what Lambda's Invoke accepts). Bindings are looked up by it.
 */
export function lambdaFunctionName(nameOrArn: string): string {
  const full = functionNameOfArn(nameOrArn);
  if (full !== undefined) return full;
  const partial = PARTIAL_FUNCTION_ARN.exec(nameOrArn);
  if (partial) return partial[1];
  const qualifier = nameOrArn.indexOf(':');
  return qualifier > 0 ? nameOrArn.slice(0, qualifier) : nameOrArn;
}
