import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { errorRateReason } from '../judge-circuit-breaker';
import { DefinitionContext, ROLLBACK_RETRY } from './context';
import { notify } from './notify';
import { countMetric, invoke, releaseLock } from './tasks';
import { ErrorName, RolloutEvent } from '../../../lambda/shared/contracts';

/** The rollback and the ways into it. */
export interface Rollback {
  /** Records why the rollout rolls back ($.trigger), then rolls back. */
  trigger(id: string, kind: string, reason: Record<string, string>): sfn.IChainable;
  /** A step's task failed after its retries ($.error). */
  readonly onStepError: sfn.IChainable;
  /** The judge found a regression (FAIL). */
  readonly onJudgeFail: sfn.IChainable;
  /** maxJudgeErrors consecutive judge errors. */
  readonly onBreaker: sfn.IChainable;
  /** Too many judge errors in the window. */
  readonly onErrorRate: sfn.IChainable;
  /** The pause ended without a promotion (abort, timeout). */
  readonly onAbort: sfn.IChainable;
}

/**
 * Rollback: 100% to the stable color, verified, THEN the events, then the lock, then a failed execution whose cause
 * says why. A rollback that fails after its retries says so (Rollback Failed event, RollbackFailures metric) and
 * fails the execution with the stable color, the error and the trigger.
 */
export function rollbackStates(ctx: DefinitionContext): Rollback {
  const { scope, colorsDetail } = ctx;
  const rollback = invoke(ctx, 'Rollback', ctx.props.routerFunction,
    { 'action': 'rollback', 'stableColor.$': '$.colors.stable' }, '$.rollback',
    ROLLBACK_RETRY, [ErrorName.RETRYABLE, ErrorName.WEIGHT_VERIFICATION_FAILED, 'Lambda.TooManyRequestsException', 'States.Timeout', 'States.TaskFailed']);
  const rollbackDetail = { ...colorsDetail, 'trigger.$': '$.trigger', 'weights.$': '$.rollback.after' };
  const rolledBack = notify(ctx, 'Rolled Back', RolloutEvent.ROLLED_BACK, rollbackDetail, [RolloutEvent.ROLLBACK_TRIGGERED]);
  rollback.next(rolledBack.start);
  const countRollback = countMetric(ctx, 'Count Rollback', 'Rollbacks');
  const releaseAfterRollback = releaseLock(ctx, 'Release Lock After Rollback', false);
  releaseAfterRollback.addCatch(countRollback, { resultPath: '$.lockError' });
  rolledBack.end.next(releaseAfterRollback).next(countRollback);
  countRollback.next(new sfn.Fail(scope, 'Rolled Back', {
    error: ErrorName.ROLLED_BACK,
    causePath: sfn.JsonPath.format('Rolled back to {} ({}): {}', sfn.JsonPath.stringAt('$.colors.stable'),
      sfn.JsonPath.stringAt('$.trigger.kind'), sfn.JsonPath.stringAt('$.trigger.reason')),
  }));

  const rollbackFailed = notify(ctx, 'Rollback Failed', RolloutEvent.ROLLBACK_FAILED,
    { ...colorsDetail, 'trigger.$': '$.trigger', 'rollbackError.$': '$.rollbackError' }, [RolloutEvent.ROLLBACK_TRIGGERED]);
  rollback.addCatch(rollbackFailed.start, { resultPath: '$.rollbackError' });
  rollbackFailed.end
    .next(countMetric(ctx, 'Count Rollback Failure', 'RollbackFailures'))
    .next(new sfn.Fail(scope, 'Rollback Failed', {
      error: ErrorName.ROLLBACK_FAILED,
      causePath: sfn.JsonPath.format('Could not restore 100% to {} after retries ({}); traffic may still be split: check the listener. Rollback was triggered by {}: {}',
        sfn.JsonPath.stringAt('$.colors.stable'), sfn.JsonPath.stringAt('$.rollbackError.Cause'),
        sfn.JsonPath.stringAt('$.trigger.kind'), sfn.JsonPath.stringAt('$.trigger.reason')),
    }));

  const trigger = (id: string, kind: string, reason: Record<string, string>): sfn.IChainable =>
    new sfn.Pass(scope, id, { parameters: { kind, ...reason }, resultPath: '$.trigger' }).next(rollback);
  return {
    trigger,
    onStepError: trigger('Step Failed', 'step-error', { 'error.$': '$.error.Error', 'reason.$': '$.error.Cause' }),
    onJudgeFail: trigger('Regression Found', 'judge-fail', { 'reason.$': 'States.JsonToString($.verdict.reasons)' }),
    onBreaker: trigger('Circuit Breaker Open', 'circuit-breaker', {
      'error.$': '$.error.Error',
      'reason.$': "States.Format('{} consecutive judge errors, last: {}', $.judge.errors, $.error.Cause)",
    }),
    onErrorRate: trigger('Judge Error Rate Too High', 'circuit-breaker', { 'error.$': '$.error.Error', 'reason.$': errorRateReason(ctx.plan) }),
    onAbort: trigger('Aborted', 'aborted', { 'error.$': '$.error.Error', 'reason.$': '$.error.Cause' }),
  };
}
