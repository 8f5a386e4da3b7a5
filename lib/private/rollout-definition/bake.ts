import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sfnTasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { errorRateTripped, judgeErrorParameters, judgeSuccessParameters } from '../judge-circuit-breaker';
import { DefinitionContext, READ_RETRY } from './context';
import { TrafficHooks } from './hooks';
import { Rollback } from './rollback';
import { abortRequestedForThisExecution, invoke, readAbortFlag, RETRYABLE } from './tasks';
import { BAKE_TOKEN_WRITE, COLORS, ErrorName, StateTable } from '../../../lambda/shared/contracts';

/** The bake loop of a step: enter at `wait`; after `judged` comes the verdict. */
export interface Bake {
  /** Waits one judge interval (or less: a high-resolution alarm of the new color), then the abort check and the judgement. */
  readonly wait: sfn.State;
  /** The judgement recorded in $.bake (and $.verdict): the verdict decides what follows. */
  readonly judged: sfn.Pass;
  /** Rolls back for an abort the operator requested (`zdt abort`). */
  readonly abortRequested: sfn.IChainable;
  /** The choice after the operator's flags are read, before the judgement (promote-full.ts adds its branch). */
  readonly operatorChoice: sfn.Choice;
}

/**
 * The bake: wait one judge interval -> the operator's abort flag -> judge. A judge error (after its retries) is
 * counted by the circuit breaker (judge-circuit-breaker.ts), which rolls back after maxJudgeErrors in a row or too
 * many in the window, else waits and judges again.
 */
export function bakeStates(ctx: DefinitionContext, rollback: Rollback): Bake {
  const { scope, props, plan } = ctx;
  // The operator's `zdt abort` (and `zdt promote --full`) sets a flag on the state item: checked before every
  // judgement, so it takes effect within one judge interval whatever the step is doing.
  const checkAbort = readAbortFlag(ctx, 'Check Abort', [StateTable.LOCK_OWNER, StateTable.PROMOTE_FULL_REQUESTED]);
  const wait = props.eventDrivenBake ? eventDrivenWait(ctx, rollback, checkAbort)
    : new sfn.Wait(scope, 'Bake', { time: sfn.WaitTime.secondsPath(bakeWaitPath(ctx)) });
  const abortRequested = rollback.trigger('Abort Requested', 'aborted', {
    'error': ErrorName.ABORTED,
    'reason.$': "States.Format('aborted by the operator: {}', $.control.item.abortReason.S)",
  });
  const abortChoice = new sfn.Choice(scope, 'Abort Requested?').when(abortRequestedForThisExecution(), abortRequested);
  const judge = invoke(ctx, 'Judge', props.judgeFunction, {
    'action': 'judge',
    'targetColor.$': '$.colors.target',
    'stableColor.$': '$.colors.stable',
    'bake.$': '$.bake',
    // The step's weight: the sequential judge merges a step too small to decide into the next (sequential-sizing.ts).
    'percent.$': '$.cursor.step.percent',
    // A step with header segments serves more than its weight: it is never sized by its weight alone.
    'segments.$': '$.cursor.step.segments',
  }, '$.verdict', READ_RETRY, RETRYABLE);
  const countJudgeError = new sfn.Pass(scope, 'Count Judge Error', { parameters: judgeErrorParameters(plan), resultPath: '$.judge' });
  judge.addCatch(countJudgeError, { resultPath: '$.error' });
  countJudgeError.next(new sfn.Choice(scope, 'Circuit Breaker')
    .when(sfn.Condition.numberGreaterThanEquals('$.judge.errors', plan.maxJudgeErrors), rollback.onBreaker)
    .when(errorRateTripped(), rollback.onErrorRate)
    .otherwise(wait));
  // The judge returns the whole bake: passes, required, startedAt and the sequential judge's evidence of the step.
  const judged = new sfn.Pass(scope, 'Record Verdict', { inputPath: '$.verdict.bake', resultPath: '$.bake' });
  const resetErrors = new sfn.Pass(scope, 'Reset Judge Errors', { parameters: judgeSuccessParameters(plan), resultPath: '$.judge' });

  // A failed abort check must not stop the rollout: it is judged as usual.
  checkAbort.addCatch(judge, { resultPath: '$.controlError' });
  if (wait instanceof sfn.Wait) wait.next(checkAbort);
  checkAbort.next(abortChoice.otherwise(judge));
  judge.next(resetErrors).next(judged);
  return { wait, judged, abortRequested, operatorChoice: abortChoice };
}

/**
 * The event-driven bake: the task stores its own token on the state item ('bake', with this execution as its owner
 * and the new color) through DynamoDB UpdateItem, and waits for it: an AWS SDK integration with the callback pattern
 * ("Wait for Callback (.waitForTaskToken)" is supported for AWS SDK integrations in Standard workflows: Step
 * Functions Developer Guide, "Integrating optimized services with Step Functions"), so no Lambda invocation per
 * judgement. Its timeout, one judge interval, is the ordinary end of the bake ("judge now": on to the abort check and
 * the judge). A high-resolution alarm of the new color answers the token with HIGH_RESOLUTION_ALARM
 * (release-alarm-handler.ts); one that fired before the token was stored is on the state item, and the write's
 * condition refuses to wait (this execution must hold the lock, and no alarm flag may name it): the flag read back
 * rolls back with its reason. Either way the execution itself rolls back (one writer of the weights), traffic first
 * and verified. Should the write fail otherwise (after its retries), the bake falls back to a plain wait, as without
 * the signal.
 */
function eventDrivenWait(ctx: DefinitionContext, rollback: Rollback, judgeNow: sfn.IChainable): sfn.State {
  const { scope, props, plan } = ctx;
  const bake = new sfnTasks.CallAwsService(scope, 'Bake', {
    service: 'dynamodb',
    action: 'updateItem',
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    parameters: {
      TableName: props.stateTable.tableName,
      Key: { [StateTable.PARTITION_KEY]: { S: plan.service } },
      UpdateExpression: BAKE_TOKEN_WRITE.UPDATE,
      ConditionExpression: BAKE_TOKEN_WRITE.CONDITION,
      ExpressionAttributeNames: {
        '#owner': StateTable.LOCK_OWNER,
        '#updated': StateTable.UPDATED_AT,
        '#bakeToken': StateTable.BAKE_TOKEN,
        '#bakeOwner': StateTable.BAKE_OWNER,
        '#bakeColor': StateTable.BAKE_COLOR,
        '#flag': sfn.JsonPath.format(`${StateTable.HIGH_RESOLUTION_ALARM_OWNER_PREFIX}{}`, sfn.JsonPath.stringAt('$.colors.target')),
      },
      ExpressionAttributeValues: {
        ':token': { S: sfn.JsonPath.taskToken },
        ':owner': { S: sfn.JsonPath.stringAt('$.execution') },
        ':color': { S: sfn.JsonPath.stringAt('$.colors.target') },
        ':updated': { S: sfn.JsonPath.stringAt('$$.State.EnteredTime') },
      },
    },
    iamResources: [props.stateTable.tableArn],
    iamAction: 'dynamodb:UpdateItem',
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: props.judgeSetsWait ? sfn.Timeout.at(BAKE_WAIT_PATH) : sfn.Timeout.duration(Duration.seconds(plan.judgeIntervalSeconds)),
  });
  bake.addRetry({ errors: DYNAMODB_SDK_TRANSIENT, ...READ_RETRY });
  const alarmFired = rollback.trigger('High-Resolution Alarm', 'high-resolution-alarm', {
    'error': ErrorName.HIGH_RESOLUTION_ALARM,
    'reason.$': '$.error.Cause',
  });
  const fallback = new sfn.Wait(scope, 'Bake Without Token', { time: sfn.WaitTime.secondsPath(bakeWaitPath(ctx)) });
  fallback.next(judgeNow);

  // Refused: an alarm of the new color fired before this bake (its flag names this execution), or the lock is lost.
  const readFlag = new sfnTasks.DynamoGetItem(scope, 'Read High-Resolution Flag', {
    table: props.stateTable,
    key: ctx.stateKey,
    consistentRead: true,
    resultSelector: { 'item.$': '$.Item' },
    resultPath: '$.bakeRefused',
  });
  readFlag.addRetry({ errors: ['States.ALL'], ...READ_RETRY });
  readFlag.addCatch(fallback, { resultPath: '$.bakeError' });
  const flagged = new sfn.Choice(scope, 'Alarm Fired Before Bake?');
  for (const color of COLORS) {
    const owner = `$.bakeRefused.item.${StateTable.HIGH_RESOLUTION_ALARM_OWNER_PREFIX}${color}.S`;
    const reason = `$.bakeRefused.item.${StateTable.HIGH_RESOLUTION_ALARM_REASON_PREFIX}${color}.S`;
    flagged.when(sfn.Condition.and(
      sfn.Condition.stringEquals('$.colors.target', color),
      sfn.Condition.isPresent(owner),
      sfn.Condition.stringEqualsJsonPath(owner, '$.execution'),
      sfn.Condition.isPresent(reason),
    ), new sfn.Pass(scope, `Alarm Reason Of ${color[0].toUpperCase()}${color.slice(1)}`, { parameters: { 'Cause.$': reason }, resultPath: '$.error' }).next(alarmFired));
  }
  flagged.otherwise(fallback);
  readFlag.next(flagged);

  bake.addCatch(alarmFired, { errors: [ErrorName.HIGH_RESOLUTION_ALARM], resultPath: '$.error' });
  bake.addCatch(judgeNow, { errors: ['States.Timeout'], resultPath: sfn.JsonPath.DISCARD });
  bake.addCatch(readFlag, { errors: [CONDITION_REFUSED], resultPath: '$.bakeError' });
  bake.addCatch(fallback, { errors: ['States.ALL'], resultPath: '$.bakeError' });
  bake.next(judgeNow);
  return bake;
}

/** Where the judge leaves the next wait, when it sets it (DefinitionProps.judgeSetsWait; BakeProgress.waitSeconds). */
export const BAKE_WAIT_PATH = '$.bake.waitSeconds';

/** How long the bake waits for its next judgement: the judge's choice, or the plan's judge interval. */
function bakeWaitPath(ctx: DefinitionContext): string {
  return ctx.props.judgeSetsWait ? BAKE_WAIT_PATH : '$.plan.judgeIntervalSeconds';
}

/** The error of a refused condition, as an AWS SDK integration names it (service name DynamoDb, then the exception). */
const CONDITION_REFUSED = 'DynamoDb.ConditionalCheckFailedException';
/** DynamoDB's throttling and service errors, as an AWS SDK integration names them: retried. */
const DYNAMODB_SDK_TRANSIENT = [
  'DynamoDb.ProvisionedThroughputExceededException', 'DynamoDb.RequestLimitExceeded', 'DynamoDb.InternalServerErrorException',
  'DynamoDb.ThrottlingException',
];

/**
 * A phase's hooks, then `next`. After the hooks (which may run for minutes) an abort requested meanwhile rolls back
 * there, before the first shift or before the live color is recorded, instead of at the next judgement (or never,
 * after the last step). No hooks: `next` itself.
 */
export function hooksThenAbortCheck(ctx: DefinitionContext, hooks: TrafficHooks, label: string, abortRequested: sfn.IChainable,
  next: sfn.IChainable): sfn.IChainable {
  if (hooks.hooks === 0) return next;
  const read = readAbortFlag(ctx, `Check Abort After ${label} Hooks`);
  read.addCatch(next, { resultPath: '$.controlError' });
  return hooks.then(read.next(new sfn.Choice(ctx.scope, `Abort Requested After ${label} Hooks?`)
    .when(abortRequestedForThisExecution(), abortRequested)
    .otherwise(next)));
}
