import { Duration } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { LAMBDA_SERVICE_ERRORS } from '../lambda-errors';
import type { GateTestBuild } from '../../gates/validation-gate-binding';
import { DefinitionContext, READ_RETRY } from './context';
import { Rollback } from './rollback';
import { TestBuildVariable } from '../../../lambda/gates/gate-contract';

/** Lambda's own faults retried for a hook; the hook's errors are its verdict and are not retried. */
const HOOK_RETRY = { errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 };

/** The hooks of one phase, chained in order. */
export interface TrafficHooks {
  /** How many hooks the phase has (0: no states at all). */
  readonly hooks: number;
  /** Chains `next` after the last hook and returns the first state (`next` itself when there are no hooks). */
  then(next: sfn.IChainable): sfn.IChainable;
}

/**
 * The hooks of a phase (preTraffic: before any traffic moves; postTraffic: once the last step has given the new color
 * its share) in order: each invoked with a TrafficHookEvent; an error, a timeout or a result whose status
 * is not 'Succeeded' rolls the rollout back (before any traffic moved, the rollback only verifies 100% stable).
 */
export function trafficHooks(ctx: DefinitionContext, rollback: Rollback, phase: 'preTraffic' | 'postTraffic', label: string, fns: readonly lambda.IFunction[]): TrafficHooks {
  const { scope, props, plan } = ctx;
  // No hooks, no states: a trigger nothing reaches would make the definition invalid.
  if (fns.length === 0) return { hooks: 0, then: (next: sfn.IChainable): sfn.IChainable => next };
  // Which hook ($.hookRun.number, set before each) and, a timeout's Cause being possibly empty, the error's name.
  const name = label.toLowerCase();
  const failed = rollback.trigger(`${label} Hook Failed`, 'hook-failed', {
    'error.$': '$.error.Error',
    'reason.$': `States.Format('${name} hook {} failed ({}): {}', $.hookRun.number, $.error.Error, $.error.Cause)`,
  });
  // The hook's own reason when it gave one (TrafficHookResult.reason), else what it returned.
  const refusedWithReason = rollback.trigger(`${label} Hook Refused With Reason`, 'hook-failed', {
    'reason.$': `States.Format('${name} hook {} did not succeed: {}', $.hookRun.number, $.hook.reason)`,
  });
  const refused = rollback.trigger(`${label} Hook Refused`, 'hook-failed', {
    'reason.$': `States.Format('${name} hook {} did not succeed, it returned {} (expected {"status":"Succeeded"})', $.hookRun.number, States.JsonToString($.hook))`,
  });
  const states = fns.map((fn, i) => {
    const begins = new sfn.Pass(scope, `${label} Hook ${i + 1} Begins`, { result: sfn.Result.fromObject({ number: i + 1 }), resultPath: '$.hookRun' });
    const task = new tasks.LambdaInvoke(scope, `${label} Hook ${i + 1}`, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({
        'hook': phase,
        'service': plan.service,
        'execution.$': '$.execution',
        'targetColor.$': '$.colors.target',
        'stableColor.$': '$.colors.stable',
        ...(props.testRouteHeader ? { testRoute: { 'header': props.testRouteHeader, 'value.$': '$.colors.target' } } : {}),
        ...(props.hookBuilds?.has(fn) ? { 'testRun.$': '$.testRun' } : {}),
      }),
      payloadResponseOnly: true,
      resultPath: '$.hook',
      taskTimeout: sfn.Timeout.duration(props.hookTimeout),
      retryOnServiceExceptions: false,
    });
    task.addRetry({ ...HOOK_RETRY, jitterStrategy: sfn.JitterType.FULL });
    task.addCatch(failed, { resultPath: '$.error' });
    const ok = new sfn.Pass(scope, `${label} Hook ${i + 1} Passed`);
    const build = props.hookBuilds?.get(fn);
    begins.next(build ? testBuildStates(ctx, `${label} Hook ${i + 1}`, build, task) : task);
    task.next(new sfn.Choice(scope, `${label} Hook ${i + 1} Succeeded?`)
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.hook.status'), sfn.Condition.stringEquals('$.hook.status', 'Succeeded')), ok)
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.hook.reason'), sfn.Condition.isString('$.hook.reason')), refusedWithReason)
      .otherwise(refused));
    return { begins, ok };
  });
  return {
    hooks: states.length,
    then(next: sfn.IChainable): sfn.IChainable {
      states.forEach((s, i) => s.ok.next(i + 1 < states.length ? states[i + 1].begins : next));
      return states[0].begins;
    },
  };
}

/**
 * A functional-test gate's build before its hook: codebuild:startBuild.sync with the new color's address (a failed
 * or timed-out build goes to the hook with its error in $.testRun), then the build's reports (batchGetReports),
 * which the hook judges. Both are native integrations: the build may run far longer than a Lambda function.
 */
function testBuildStates(ctx: DefinitionContext, name: string, build: GateTestBuild, hook: sfn.IChainable): sfn.IChainable {
  const { scope, props, plan } = ctx;
  const plain = (value: string) => ({ type: codebuild.BuildEnvironmentVariableType.PLAINTEXT, value });
  const start = new tasks.CodeBuildStartBuild(scope, `${name} Test Build`, {
    project: build.project,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    environmentVariablesOverride: {
      [TestBuildVariable.BASE_URL]: plain(build.baseUrl),
      [TestBuildVariable.TEST_ROUTE_HEADER]: plain(props.testRouteHeader ?? ''),
      [TestBuildVariable.TEST_ROUTE_VALUE]: plain(sfn.JsonPath.stringAt('$.colors.target')),
      [TestBuildVariable.TARGET_COLOR]: plain(sfn.JsonPath.stringAt('$.colors.target')),
      [TestBuildVariable.STABLE_COLOR]: plain(sfn.JsonPath.stringAt('$.colors.stable')),
      [TestBuildVariable.SERVICE]: plain(plan.service),
      [TestBuildVariable.EXECUTION]: plain(sfn.JsonPath.stringAt('$.execution')),
    },
    resultSelector: { 'build.$': '$.Build' },
    resultPath: '$.testRun',
    taskTimeout: sfn.Timeout.duration(build.timeout),
  });
  start.addCatch(hook, { resultPath: '$.testRun' });
  const reports = new tasks.CallAwsService(scope, `${name} Test Reports`, {
    service: 'codebuild',
    action: 'batchGetReports',
    parameters: { 'ReportArns.$': '$.testRun.build.ReportArns' },
    iamResources: [build.reportGroup.reportGroupArn],
    iamAction: 'codebuild:BatchGetReports',
    resultPath: '$.testRun.reports',
  });
  reports.addRetry({ errors: ['CodeBuild.ThrottlingException', 'CodeBuild.CodeBuildException'], ...READ_RETRY });
  reports.addCatch(hook, { resultPath: '$.testRun.reportsError' });
  reports.next(hook);
  return start.next(new sfn.Choice(scope, `${name} Test Reports Written?`)
    .when(sfn.Condition.isPresent('$.testRun.build.ReportArns[0]'), reports)
    .otherwise(hook));
}
