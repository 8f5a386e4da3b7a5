import 'aws-sdk-client-mock-jest';
import { CreateRuleCommand, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ErrorName, RouterConfig } from '../../lambda/shared/contracts';
import { handler } from '../../lambda/routing/router-handler';
import { VERIFY_BACKOFF_MS, VERIFY_READS } from '../../lambda/routing/alb-router';
import { BLUE_TG, FakeAlb, forwardTo, GREEN_TG, HOST_SHOP, LISTENER, PATH_ALL, tgArn } from './support/fake-alb';
import { fixedClock, setConfig } from './support/env';

const HEADER = 'x-zdt-segment';
const LIVE_PRIORITY = '10';
const SEGMENT_PRIORITY = 9;

let alb: FakeAlb;
let clock: ReturnType<typeof fixedClock>;
let liveRuleArn: string;

function configure(live: Record<string, number>, options: { stickinessSeconds?: number; conditions?: typeof PATH_ALL[] } = {}): void {
  liveRuleArn = alb.addRule(LISTENER, {
    Priority: LIVE_PRIORITY,
    Conditions: options.conditions ?? [PATH_ALL],
    Actions: [forwardTo(live, options.stickinessSeconds)],
  });
  const config: RouterConfig = {
    listenerArn: LISTENER,
    liveRuleArn,
    targetGroupArns: { blue: BLUE_TG, green: GREEN_TG },
    segmentHeader: HEADER,
    segmentRulePriority: SEGMENT_PRIORITY,
  };
  setConfig(config);
}

function addSegmentRule(color: 'blue' | 'green', segments: string[]): string {
  const tg = color === 'blue' ? BLUE_TG : GREEN_TG;
  const other = color === 'blue' ? GREEN_TG : BLUE_TG;
  return alb.addRule(LISTENER, {
    Priority: String(SEGMENT_PRIORITY),
    Conditions: [PATH_ALL, { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: HEADER, Values: segments } }],
    Actions: [forwardTo({ [tg]: 100, [other]: 0 })],
  });
}

/** The writes the router sent, in order, as "Command rule" strings. */
function writes(): string[] {
  return alb.mock.calls()
    .map((c) => c.args[0] as { constructor: { name: string }; input: { RuleArn?: string; ListenerArn?: string } })
    .filter((cmd) => !cmd.constructor.name.startsWith('Describe'))
    .map((cmd) => `${cmd.constructor.name.replace('Command', '')} ${cmd.input.RuleArn === liveRuleArn ? 'live' : 'segment'}`);
}

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  alb = new FakeAlb();
  clock = fixedClock();
});
afterEach(() => {
  alb.mock.restore();
  clock.restore();
});

describe('ALB router', () => {
  describe('describe', () => {
    test('reports the weights by color and the color that holds all traffic', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      await expect(handler({ action: 'describe' })).resolves.toEqual({ weights: { blue: 100, green: 0 }, liveColor: 'blue', segmentRoute: null });
    });

    test('reports no live color while traffic is split', async () => {
      configure({ [BLUE_TG]: 30, [GREEN_TG]: 70 });
      await expect(handler({ action: 'describe' })).resolves.toMatchObject({ weights: { blue: 30, green: 70 }, liveColor: null });
    });

    test('counts a color the forward action does not list as weight 0', async () => {
      configure({ [GREEN_TG]: 1 });
      await expect(handler({ action: 'describe' })).resolves.toMatchObject({ weights: { blue: 0, green: 100 }, liveColor: 'green' });
    });

    test.each([
      [1, 1, 50, 50],
      [1, 2, 33, 67],
      [1, 7, 13, 87],
      [1, 999, 1, 99],
      [999, 1, 99, 1],
    ])('normalizes raw weights %d/%d to percentages %d/%d, never rounding a trickle to 0', async (blue, green, pBlue, pGreen) => {
      configure({ [BLUE_TG]: blue, [GREEN_TG]: green });
      await expect(handler({ action: 'describe' })).resolves.toMatchObject({ weights: { blue: pBlue, green: pGreen }, liveColor: null });
    });

    test('reports the segment route', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      const ruleArn = addSegmentRule('green', ['internal', 'beta']);
      await expect(handler({ action: 'describe' })).resolves.toMatchObject({ segmentRoute: { ruleArn, color: 'green', segments: ['internal', 'beta'] } });
    });

    test('refuses a live rule that forwards to a foreign target group, naming it', async () => {
      const foreign = tgArn('someone-else');
      configure({ [BLUE_TG]: 50, [foreign]: 50 });
      await expect(handler({ action: 'describe' })).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringContaining(foreign),
      });
    });

    test('refuses with ROUTE_INVALID when the live rule does not exist', async () => {
      configure({ [BLUE_TG]: 100 });
      alb.removeRule(liveRuleArn);
      await expect(handler({ action: 'describe' })).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringContaining(liveRuleArn),
      });
    });

    test('refuses a rule at the segment priority that is not a segment route', async () => {
      configure({ [BLUE_TG]: 100 });
      alb.addRule(LISTENER, { Priority: String(SEGMENT_PRIORITY), Conditions: [PATH_ALL], Actions: [forwardTo({ [BLUE_TG]: 1 })] });
      await expect(handler({ action: 'describe' })).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringMatching(/Priority 9 .* not a segment route/),
      });
    });
  });

  describe('shift', () => {
    test('writes the weights and returns them as read back', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      const result = await handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] });
      expect(result).toEqual({ before: { blue: 100, green: 0 }, after: { blue: 90, green: 10 }, changed: true, segmentRoute: null });
      expect(alb.weights(liveRuleArn)).toEqual({ [BLUE_TG]: 90, [GREEN_TG]: 10 });
    });

    test('does not write when the weights already match', async () => {
      configure({ [BLUE_TG]: 90, [GREEN_TG]: 10 });
      const result = await handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] });
      expect(result).toEqual({ before: { blue: 90, green: 10 }, after: { blue: 90, green: 10 }, changed: false, segmentRoute: null });
      expect(alb.mock).not.toHaveReceivedCommand(ModifyRuleCommand);
      expect(writes()).toEqual([]);
    });

    test('does not rewrite weights that match once normalized (1/1 is 50/50)', async () => {
      configure({ [BLUE_TG]: 1, [GREEN_TG]: 1 });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 50, segments: [] })).resolves.toMatchObject({ changed: false });
      expect(writes()).toEqual([]);
    });

    test('writes only the segment rule when only the segment route differs', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      const created = await handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['internal'] });
      expect(writes()).toEqual(['CreateRule segment']);
      expect(created).toMatchObject({ changed: true, after: { blue: 100, green: 0 }, segmentRoute: { color: 'green', segments: ['internal'] } });

      alb.mock.resetHistory();
      const widened = await handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['internal', 'beta'] });
      expect(writes()).toEqual(['ModifyRule segment']);
      expect(widened).toMatchObject({ changed: true, segmentRoute: { color: 'green', segments: ['internal', 'beta'] } });

      alb.mock.resetHistory();
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['beta', 'internal'] })).resolves.toMatchObject({ changed: false });
      expect(writes()).toEqual([]);
    });

    test('keeps the live rule\'s conditions and stickiness when it writes weights', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 }, { stickinessSeconds: 300, conditions: [HOST_SHOP, PATH_ALL] });
      const before = alb.rule(liveRuleArn)!;
      await handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] });
      const [modify] = alb.mock.commandCalls(ModifyRuleCommand);
      expect(modify.args[0].input.RuleArn).toBe(liveRuleArn);
      expect(modify.args[0].input).not.toHaveProperty('Conditions');
      const after = alb.rule(liveRuleArn)!;
      expect(after.Conditions).toEqual(before.Conditions);
      expect(after.Priority).toBe(LIVE_PRIORITY);
      expect(after.Actions![0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 300 });
      expect(alb.weights(liveRuleArn)).toEqual({ [BLUE_TG]: 75, [GREEN_TG]: 25 });
    });

    test('scopes the segment route like the live rule (same host and path, plus the header)', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 }, { conditions: [HOST_SHOP, PATH_ALL] });
      await handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['internal'] });
      const [segment] = alb.listenerRules(LISTENER).filter((r) => r.Priority === String(SEGMENT_PRIORITY));
      const fields = segment.Conditions!.map((c) => [c.Field, c.HostHeaderConfig?.Values ?? c.PathPatternConfig?.Values ?? c.HttpHeaderConfig?.Values]);
      expect(fields).toEqual([['host-header', ['shop.example.com']], ['path-pattern', ['/*']], ['http-header', ['internal']]]);
      expect(segment.Conditions![2].HttpHeaderConfig!.HttpHeaderName).toBe(HEADER);
      expect(alb.weights(segment.RuleArn!)).toEqual({ [BLUE_TG]: 0, [GREEN_TG]: 100 });
    });

    test('removes the segment route when no segments are given', async () => {
      configure({ [BLUE_TG]: 0, [GREEN_TG]: 100 });
      const segmentArn = addSegmentRule('green', ['internal']);
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 100, segments: [] })).resolves.toMatchObject({ changed: true, segmentRoute: null });
      expect(alb.rule(segmentArn)).toBeUndefined();
    });

    test('succeeds when the read-back settles after eventual consistency', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      alb.lagNextWrite(2); // the first read-back (live rule + listener listing) still shows the old weights
      const result = await handler({ action: 'shift', targetColor: 'green', percent: 50, segments: [] });
      expect(result).toMatchObject({ changed: true, after: { blue: 50, green: 50 } });
      expect(clock.sleeps).toEqual([VERIFY_BACKOFF_MS]);
    });

    test('fails with WEIGHT_VERIFICATION_FAILED, desired vs actual, when the read-back never shows the write', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      alb.lagNextWrite(1000);
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 50, segments: [] })).rejects.toMatchObject({
        name: ErrorName.WEIGHT_VERIFICATION_FAILED,
        message: expect.stringMatching(/desired blue 50 \/ green 50 .* actual blue 100 \/ green 0/),
      });
      expect(clock.sleeps).toHaveLength(VERIFY_READS - 1);
      expect(clock.sleeps[1]).toBeGreaterThan(clock.sleeps[0]);
    });

    test('turns throttling into a ZdtRetryableError naming the operation', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      alb.mock.on(ModifyRuleCommand).rejects(throttled());
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] })).rejects.toMatchObject({
        name: ErrorName.RETRYABLE,
        message: expect.stringContaining(`ModifyRule(${liveRuleArn})`),
      });
    });

    test('refuses more segments than one ALB condition holds', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['a', 'b', 'c', 'd'] })).rejects.toMatchObject({
        name: ErrorName.INVALID_REQUEST,
        message: expect.stringContaining('"segments"'),
      });
      expect(writes()).toEqual([]);
    });

    test('refuses a segment route that with the live rule\'s conditions exceeds ALB\'s 5 match evaluations', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 }, {
        conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['a.example.com', 'b.example.com'] } }, PATH_ALL],
      });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['internal', 'beta', 'premium'] })).rejects.toMatchObject({
        name: ErrorName.INVALID_REQUEST,
        message: expect.stringContaining('6 match evaluations'),
      });
      expect(writes()).toEqual([]);
    });

    test.each([
      [{ action: 'shift', targetColor: 'green', percent: 150, segments: [] }, 'percent', '150'],
      [{ action: 'shift', targetColor: 'green', percent: 12.5, segments: [] }, 'percent', '12.5'],
      [{ action: 'shift', targetColor: 'purple', percent: 10, segments: [] }, 'targetColor', '"purple"'],
      [{ action: 'shift', targetColor: 'green', percent: 10, segments: ['a', 'a'] }, 'segments', '["a","a"]'],
      [{ action: 'shift', targetColor: 'green', percent: 10 }, 'segments', 'undefined'],
      [{ action: 'teleport' }, 'action', '"teleport"'],
      [{ action: 'rollback' }, 'stableColor', 'undefined'],
      [{ action: 'checkTargets', color: 'blue', minHealthyPercent: -1 }, 'minHealthyPercent', '-1'],
    ])('refuses %j with INVALID_REQUEST naming the field and the value', async (request, field, given) => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      const error = await handler(request).catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorName.INVALID_REQUEST });
      expect((error as Error).message).toContain(`"${field}"`);
      expect((error as Error).message).toContain(`got ${given}`);
    });
  });

  describe('rollback', () => {
    test('restores all traffic to the stable color before it removes the segment route, and verifies', async () => {
      configure({ [BLUE_TG]: 70, [GREEN_TG]: 30 });
      const segmentArn = addSegmentRule('green', ['internal', 'beta']);
      const result = await handler({ action: 'rollback', stableColor: 'blue' });
      expect(result).toEqual({ before: { blue: 70, green: 30 }, after: { blue: 100, green: 0 }, changed: true, segmentRoute: null });
      expect(writes()).toEqual(['ModifyRule live', 'DeleteRule segment']);
      expect(alb.rule(segmentArn)).toBeUndefined();
      expect(alb.weights(liveRuleArn)).toEqual({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
    });

    test('writes nothing when traffic is already all on the stable color', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      await expect(handler({ action: 'rollback', stableColor: 'blue' })).resolves.toMatchObject({ changed: false, after: { blue: 100, green: 0 } });
      expect(alb.mock).not.toHaveReceivedCommand(ModifyRuleCommand);
      expect(alb.mock).not.toHaveReceivedCommand(CreateRuleCommand);
    });
  });

  describe('checkTargets', () => {
    test.each([
      ['no target is registered', [], undefined, /has no registered targets: 0\/0/],
      ['every target is draining or unused', ['draining', 'unused', 'unhealthy.draining'], undefined, /has no registered targets/],
      ['no target is healthy', ['initial', 'unhealthy'], undefined, /has no healthy targets: 0\/2/],
      ['fewer targets are healthy than required', ['healthy', 'healthy', 'unhealthy'], undefined, /below 100% healthy: 2\/3/],
      ['fewer targets are healthy than a lower bar', ['healthy', 'unhealthy', 'unhealthy'], 50, /below 50% healthy: 1\/3/],
    ])('refuses with TARGETS_UNHEALTHY when %s', async (_why, states, minHealthyPercent, message) => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      alb.setTargets(GREEN_TG, states);
      const error = await handler({ action: 'checkTargets', color: 'green', minHealthyPercent }).catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorName.TARGETS_UNHEALTHY, message: expect.stringMatching(message) });
      expect((error as Error).message).toContain(GREEN_TG);
      expect((error as Error).message).toContain('(green)');
    });

    test('passes when enough registered targets are healthy, ignoring draining ones', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      alb.setTargets(GREEN_TG, ['healthy', 'healthy', 'unhealthy', 'draining']);
      await expect(handler({ action: 'checkTargets', color: 'green', minHealthyPercent: 60 })).resolves.toEqual({ color: 'green', healthy: 2, registered: 3 });
    });

    test('requires every registered target healthy by default', async () => {
      configure({ [BLUE_TG]: 100, [GREEN_TG]: 0 });
      alb.setTargets(BLUE_TG, ['healthy', 'healthy']);
      await expect(handler({ action: 'checkTargets', color: 'blue' })).resolves.toEqual({ color: 'blue', healthy: 2, registered: 2 });
    });
  });
});
