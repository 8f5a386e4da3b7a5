import { Duration } from 'aws-cdk-lib';
import { RolloutStrategy } from '../../lib';

const bind = (s: RolloutStrategy, judgeInterval = Duration.minutes(1)) => s.bind({ path: 'App/Rollout', judgeInterval });
const percents = (s: RolloutStrategy) => bind(s).steps.map((step) => step.percent);

describe('RolloutStrategy', () => {
  test('canary follows the seed 1, 5, 25, 50, 100 by default', () => {
    expect(percents(RolloutStrategy.canary())).toEqual([1, 5, 25, 50, 100]);
  });
  test('canary with only a percent goes straight to 100 after it, like CodeDeploy canaries', () => {
    expect(percents(RolloutStrategy.canary({ percent: 10 }))).toEqual([10, 100]);
    expect(percents(RolloutStrategy.canary({ percent: 10, then: [50] }))).toEqual([10, 50, 100]);
  });
  test('linear follows the seed 10, 25, 50, 75, 100, or equal increments', () => {
    expect(percents(RolloutStrategy.linear())).toEqual([10, 25, 50, 75, 100]);
    expect(percents(RolloutStrategy.linear({ stepPercent: 30 }))).toEqual([30, 60, 90, 100]);
  });
  test('allAtOnce is one step at 100', () => {
    expect(percents(RolloutStrategy.allAtOnce())).toEqual([100]);
  });
  test('segmentFirst adds segments one by one, then everyone', () => {
    const steps = bind(RolloutStrategy.segmentFirst()).steps;
    expect(steps.map((s) => [s.percent, s.segments])).toEqual([
      [0, ['internal']], [0, ['internal', 'beta']], [0, ['internal', 'beta', 'premium']], [100, []],
    ]);
  });
  test('bake time becomes whole judge intervals, at least one', () => {
    const steps = bind(RolloutStrategy.steps([
      { percent: 10, bake: Duration.minutes(5) },
      { percent: 50, bake: Duration.seconds(150), pause: true },
      { percent: 100 },
    ], { bake: Duration.minutes(2) })).steps;
    expect(steps.map((s) => [s.bakeSeconds, s.bakeIntervals, s.pause])).toEqual([[300, 5, false], [150, 3, true], [120, 2, false]]);
  });
  test.each<[string, RolloutStrategy, RegExp]>([
    ['non-increasing weights', RolloutStrategy.steps([{ percent: 50 }, { percent: 20 }, { percent: 100 }]), /steps\[1\]\.percent must increase.*got 20 after 50/],
    ['a weight above 100', RolloutStrategy.steps([{ percent: 150 }]), /steps\[0\]\.percent must be an integer from 0 to 100, got 150/],
    ['a negative weight', RolloutStrategy.steps([{ percent: -5 }, { percent: 100 }]), /steps\[0\]\.percent .* got -5/],
    ['a fractional weight', RolloutStrategy.steps([{ percent: 2.5 }, { percent: 100 }]), /steps\[0\]\.percent .* got 2.5/],
    ['empty steps', RolloutStrategy.steps([]), /steps must not be empty/],
    ['a last step below 100', RolloutStrategy.steps([{ percent: 10 }, { percent: 50 }]), /last step must send 100 percent.*got 50/],
    ['a bake shorter than the judge interval', RolloutStrategy.linear({ bake: Duration.seconds(30) }), /bake is 30 seconds, shorter than the judge interval \(1 minute\)/],
    ['a step bake shorter than the judge interval', RolloutStrategy.steps([{ percent: 100, bake: Duration.seconds(10) }]), /steps\[0\]\.bake is 10 seconds/],
    ['a linear step of 0', RolloutStrategy.linear({ stepPercent: 0 }), /stepPercent must be an integer from 1 to 99, got 0/],
    ['a pause on the last step', RolloutStrategy.steps([{ percent: 100, pause: true }]), /last step must not pause/],
    ['a step with no traffic', RolloutStrategy.steps([{ percent: 0 }, { percent: 100 }]), /steps\[0\] sends no traffic/],
    ['too many segments', RolloutStrategy.segmentFirst({ segments: ['a', 'b', 'c', 'd'] }), /^.*: segments may hold at most 3 segments.*got 4$/],
    ['too many segments in a step', RolloutStrategy.steps([{ segments: ['a', 'b', 'c', 'd'] }, { percent: 100 }]), /steps\[0\]\.segments may hold at most 3 segments .*got 4/],
    ['a segment with a space', RolloutStrategy.segmentFirst({ segments: ['beta users'] }), /segments has "beta users"/],
    ['an empty segment list', RolloutStrategy.segmentFirst({ segments: [] }), /segments must list at least one segment/],
  ])('fails on %s, naming the construct path and the field', (_, strategy, message) => {
    expect(() => bind(strategy)).toThrow(message);
    expect(() => bind(strategy)).toThrow(/^App\/Rollout: invalid strategy RolloutStrategy\.\w+\(\)/);
  });
});
