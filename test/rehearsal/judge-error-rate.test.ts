// The circuit breaker on the judge's error RATE, on the example app's real state machine (aws-local-stepfunctions,
// the real handlers, the fakes): a judge that fails 4 judgements in 5 never fails 5 in a row.
import { awsError, FakeCloudWatch } from '../../rehearsal/fakes';
import type { StackTemplate } from '../../rehearsal/deployer';
import { observe, synthEverJust } from './scenarios-support';

let stacks: StackTemplate[];
beforeAll(() => {
  stacks = synthEverJust();
});
afterEach(() => jest.restoreAllMocks());

test('a judge that fails 4 judgements in 5 trips the circuit breaker on its error rate and rolls back', async () => {
  // Every judgement whose number is not a multiple of 5 fails: its GetMetricData calls (the first and every retry)
  // fail with InternalFailure, so the judge errors after its retries; every 5th judgement succeeds.
  let judgements = 0;
  const real = FakeCloudWatch.prototype.getMetricData;
  jest.spyOn(FakeCloudWatch.prototype, 'getMetricData').mockImplementation(function (this: FakeCloudWatch, input) {
    if (judgements % 5 !== 0) throw awsError('cloudwatch', 'InternalFailure', 'We encountered an internal error. Please try again.', { httpStatusCode: 500 });
    return real.call(this, input);
  });
  const o = await observe(stacks, 'healthy-release', {
    onTimeline: (entry) => { if (entry.kind === 'state' && entry.state === 'Judge') judgements += 1; },
  });

  expect(o.result.summary.outcome).toBe('ROLLED_BACK');
  expect(o.result.summary.cause).toMatch(/\(circuit-breaker\): 5 judge errors in the last 10 judgements/);
  const states = o.result.timeline.filter((e) => e.kind === 'state').map((e) => e.text);
  expect(states).toContain('Judge Error Rate Too High');
  expect(states).not.toContain('Circuit Breaker Open');
  // The 5th error trips it within 10 judgements (a judgement that reads no metrics yet cannot fail this way), not
  // 97 minutes later when the execution times out.
  expect(states.filter((s) => s === 'Count Judge Error')).toHaveLength(5);
  expect(judgements).toBeLessThanOrEqual(10);
  // Traffic first: 100% back on the stable color.
  expect(o.albWeights[o.colors.stable]).toBe(100);
});
