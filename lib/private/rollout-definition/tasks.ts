import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { DefinitionContext, LAMBDA_TIMEOUT, NOTIFY_RETRY, READ_RETRY, RetryTiming } from './context';
import { ErrorName, METRIC_NAMESPACE } from '../../../lambda/shared/contracts';
import { abortRequestedFor, readAbortFlagTask, releaseLockTask, StateLockItem } from '../state-lock';

/** The library's retryable error, the default retry of a handler invocation. */
export const RETRYABLE = [ErrorName.RETRYABLE];

/** A handler invocation whose response (payload only) lands at `resultPath`, retried on `retryOn`. */
export function invoke(ctx: DefinitionContext, id: string, fn: lambda.IFunction, payload: Record<string, unknown>, resultPath: string,
  retry: RetryTiming, retryOn: string[]): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(ctx.scope, id, {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject(payload),
    payloadResponseOnly: true,
    resultPath,
    taskTimeout: sfn.Timeout.duration(LAMBDA_TIMEOUT),
  });
  task.addRetry({ errors: retryOn, ...retry, jitterStrategy: sfn.JitterType.FULL });
  return task;
}

/** The router's target-health check of the new color (at least minHealthyTargetsPercent healthy). */
export function checkTargets(ctx: DefinitionContext, id: string): tasks.LambdaInvoke {
  return invoke(ctx, id, ctx.props.routerFunction,
    { 'action': 'checkTargets', 'color.$': '$.colors.target', 'minHealthyPercent': ctx.props.minHealthyTargetsPercent }, sfn.JsonPath.DISCARD, READ_RETRY, RETRYABLE);
}

/** One more count of a library metric (dimension Service). */
export function countMetric(ctx: DefinitionContext, id: string, metricName: string): tasks.CallAwsService {
  const task = new tasks.CallAwsService(ctx.scope, id, {
    service: 'cloudwatch',
    action: 'putMetricData',
    parameters: {
      Namespace: METRIC_NAMESPACE,
      MetricData: [{ MetricName: metricName, Dimensions: [{ Name: 'Service', Value: ctx.plan.service }], Value: 1, Unit: 'Count' }],
    },
    iamResources: ['*'],
    iamAction: 'cloudwatch:PutMetricData',
    resultPath: sfn.JsonPath.DISCARD,
  });
  task.addRetry({ errors: ['States.ALL'], ...NOTIFY_RETRY });
  return task;
}

/** The service's lock item, held by this execution ($.execution). */
function lockItem(ctx: DefinitionContext): StateLockItem {
  return { table: ctx.props.stateTable, key: ctx.stateKey, ownerPath: '$.execution' };
}

/** Releases this execution's lock (and with `setLive`, records the new color as live), on condition that it holds it. */
export function releaseLock(ctx: DefinitionContext, id: string, setLive: boolean): tasks.DynamoUpdateItem {
  return releaseLockTask(ctx.scope, id, lockItem(ctx), setLive ? '$.colors.target' : undefined);
}

/**
 * A consistent read of the operator's abort flag (`zdt abort`) on the state item into $.control, with `extra`
 * attributes besides the flag and its reason.
 */
export function readAbortFlag(ctx: DefinitionContext, id: string, extra: string[] = []): tasks.DynamoGetItem {
  return readAbortFlagTask(ctx.scope, id, lockItem(ctx), extra);
}

/** True when the abort flag read by readAbortFlag names this execution. */
export function abortRequestedForThisExecution(): sfn.Condition {
  return abortRequestedFor('$.execution');
}
