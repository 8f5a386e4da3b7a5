import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { BlueGreenRoutingProps, BlueGreenStacks, ProgressiveRolloutProps } from '../../lib';
import { network, rollout, routing, testApp } from './fixtures';

/** Synth-time range checks: reported by app.synth() with the construct path. */
describe('bad props are reported at synth, naming the prop, the construct path, the value and what is allowed', () => {
  test.each<[string, Partial<BlueGreenRoutingProps>, RegExp]>([
    ['targetPort', { targetPort: 70000 }, /targetPort must be an integer from 1 to 65535, got 70000/],
    ['deregistrationDelay', { deregistrationDelay: Duration.hours(2) }, /deregistrationDelay must be from 0 seconds to 1 hour, got 2 hours/],
    ['stickiness', { stickiness: Duration.days(8) }, /stickiness must be from 1 second to 7 days, got 8 days/],
    ['slowStart', { slowStart: Duration.seconds(10) }, /slowStart must be 0 or from 30 to 900 seconds, got 10 seconds/],
    ['segmentHeader', { segmentHeader: 'x segment' }, /segmentHeader must be an HTTP header name of 1-40 token characters, got "x segment"/],
    ['testRoute.headerName', { testRoute: { headerName: '' } }, /testRoute\.headerName must be an HTTP header name/],
    ['initialColor', { initialColor: 'red' as never }, /initialColor must be one of "blue", "green", got "red"/],
  ])('BlueGreenRouting %s', (_, props, message) => {
    const f = network();
    routing(f, props);
    expect(() => f.app.synth()).toThrow(message);
  });

  test.each<[string, Partial<ProgressiveRolloutProps>, RegExp]>([
    ['judgeInterval below a minute', { judgeInterval: Duration.seconds(30) }, /Service\/Rollout\] judgeInterval must be from 1 minute to 1 hour, got 30 seconds/],
    ['judgeInterval not whole minutes', { judgeInterval: Duration.seconds(90) }, /judgeInterval must be a whole multiple of 1 minute, got 1 minute 30 seconds/],
    ['metricDelay above 15 minutes', { metricDelay: Duration.minutes(16) }, /Service\/Rollout\] metricDelay must be from 0 seconds to 15 minutes, got 16 minutes/],
    ['pauseTimeout', { pauseTimeout: Duration.days(30) }, /pauseTimeout must be from 1 minute to 7 days, got 30 days/],
    ['hookTimeout beyond Lambda\'s 15 minutes', { hookTimeout: Duration.minutes(20) }, /Service\/Rollout\] hookTimeout must be from 1 second to 15 minutes, got 20 minutes/],
    ['maxConsecutiveJudgeErrors', { maxConsecutiveJudgeErrors: 0 }, /maxConsecutiveJudgeErrors must be an integer from 1 to 100, got 0/],
    ['judgeErrorWindow', { judgeErrorWindow: 1 }, /judgeErrorWindow must be an integer from 2 to 100, got 1/],
    ['maxJudgeErrorsInWindow above the window', { judgeErrorWindow: 4, maxJudgeErrorsInWindow: 5 }, /maxJudgeErrorsInWindow must be an integer from 1 to 4, got 5/],
    ['maxJudgeErrorsInWindow above 20', { judgeErrorWindow: 50, maxJudgeErrorsInWindow: 21 }, /maxJudgeErrorsInWindow must be an integer from 1 to 20, got 21/],
    ['minHealthyTargetsPercent', { minHealthyTargetsPercent: 120 }, /minHealthyTargetsPercent must be an integer from 1 to 100, got 120/],
    ['serviceName', { serviceName: 'my service!' }, /serviceName must be 1-64 letters, digits, "\.", "_" or "-", got "my service!"/],
    ['onInconclusive', { onInconclusive: 'IGNORE' as never }, /onInconclusive must be one of "ROLLBACK", "PROCEED", "PAUSE", got "IGNORE"/],
    ['analysis.minRequests', { analysis: { minRequests: 0 } }, /analysis\.minRequests must be an integer from 1 to 10000000, got 0/],
    ['analysis.maxErrorRatePercent', { analysis: { maxErrorRatePercent: 101 } }, /analysis\.maxErrorRatePercent must be a number from 0.01 to 100, got 101/],
    ['analysis.errorRateBaselineFactor', { analysis: { errorRateBaselineFactor: 0.5 } }, /analysis\.errorRateBaselineFactor must be a number from 1 to 1000, got 0.5/],
    ['analysis.latencyBaselineFactor', { analysis: { latencyBaselineFactor: 0 } }, /analysis\.latencyBaselineFactor must be a number from 1 to 1000, got 0/],
    ['healthAlarms.maxErrorRatePercent', { healthAlarms: { maxErrorRatePercent: 0 } }, /BlueHealth\] maxErrorRatePercent must be a number from 0.01 to 100, got 0/],
    ['healthAlarms.datapointsToAlarm', { healthAlarms: { evaluationPeriods: 3, datapointsToAlarm: 4 } }, /datapointsToAlarm must be an integer from 1 to 3, got 4/],
    ['healthAlarms.latencyBaselineFactor', { healthAlarms: { latencyBaselineFactor: 0.9 } }, /GreenHealth\] latencyBaselineFactor must be a number from 1 to 1000, got 0.9/],
  ])('ProgressiveRollout %s', (_, props, message) => {
    const f = network();
    rollout(f, props);
    expect(() => f.app.synth()).toThrow(message);
  });
});

/** Contradictory props: thrown at once by the constructor. */
describe('contradictory props throw at construction', () => {
  test('a rollout with nothing to judge by', () => {
    const f = network();
    expect(() => rollout(f, { healthAlarms: { enabled: false }, analysis: { enabled: false } })).toThrow(
      /Service\/Rollout: healthAlarms, analysis, alarms and highResolutionSignal are all off/);
  });
  test('a rollout with only a user alarm is fine', () => {
    const f = network();
    const alarm = new cloudwatch.Alarm(f.stack, 'Kpi', {
      metric: new cloudwatch.Metric({ namespace: 'EverJust', metricName: 'Signups' }), threshold: 1, evaluationPeriods: 1,
    });
    expect(() => rollout(f, { healthAlarms: { enabled: false }, analysis: { enabled: false }, alarms: [alarm] })).not.toThrow();
  });
  test('the same header for the test route and the segments', () => {
    const f = network();
    expect(() => routing(f, { testRoute: { headerName: 'x-route' }, segmentHeader: 'X-Route' })).toThrow(
      /Service\/Routing: testRoute\.headerName and segmentHeader must differ.*"X-Route"/);
  });
  test.each([2, 50001, 10.5])('a priority of %p leaves no room for the rules before the production rule', (priority) => {
    const f = network();
    expect(() => routing(f, { priority })).toThrow(new RegExp(`Service/Routing: priority must be an integer from 4 to 50000 .*got ${priority}$`));
  });
  test('a health alarm period that is not whole minutes', () => {
    const f = network();
    expect(() => rollout(f, { healthAlarms: { period: Duration.seconds(90) } })).toThrow(
      /Service\/Rollout\/BlueHealth: period must be a whole multiple of 1 minute .*got 1 minute 30 seconds/);
  });
  test('empty conditions', () => {
    const f = network();
    expect(() => routing(f, { conditions: [] })).toThrow(/Service\/Routing: conditions must hold at least one condition.*got \[\]/);
  });
  test('an invalid strategy names the rollout path', () => {
    const f = network();
    expect(() => rollout(f, { strategy: undefined, judgeInterval: Duration.minutes(10) })).toThrow(
      /Service\/Rollout: invalid strategy RolloutStrategy\.canary\(\): bake \(default 5 minutes\) is 5 minutes, shorter than the judge interval \(10 minutes\)/);
  });
  test('BlueGreenStacks with an id that cannot prefix stack names', () => {
    expect(() => new BlueGreenStacks(testApp(), 'every just', {
      network: { createNetwork: () => { throw new Error('not reached'); } },
      colorEnvironment: { createEnvironment: () => undefined },
    })).toThrow(/every just: id must start with a letter.*got "every just"/);
  });
});
