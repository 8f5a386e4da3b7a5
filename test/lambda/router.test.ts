import {
  Action,
  DescribeRulesInput, DescribeTargetHealthCommand, ElasticLoadBalancingV2ClientResolvedConfig, ModifyRuleInput, RuleCondition,
  ServiceInputTypes, ServiceOutputTypes,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsStub } from 'aws-sdk-client-mock';
import { ErrorName, RouterConfig } from '../../lambda/shared/contracts';
import { handler } from '../../lambda/routing/router-handler';
import { VERIFY_BACKOFF_MS, VERIFY_READS } from '../../lambda/routing/alb-router';
import { echoAction } from '../../lambda/routing/forward-action';
import { MAX_WRITE_ATTEMPTS } from '../../lambda/routing/rule-writer';
import { FakeAws, forwardTo, HOST_SHOP, installAwsFakes, PATH_ALL, WebAlb } from './support/aws';
import { expectInvalidRequest, setConfig } from './support/env';

const HEADER = 'x-zdt-segment';
const LIVE_PRIORITY = 10;
const SEGMENT_PRIORITY = 9;

let fakes: FakeAws;
let alb: WebAlb;
let blue: string;
let green: string;
let liveRuleArn: string;
/** Calls before this index are left out of writes(). */
let callsSeen = 0;

/** `before`: actions the live rule runs before its forward action (each with its Order), e.g. authentication. */
function configure(live: Record<string, number>, options: { stickinessSeconds?: number; conditions?: RuleCondition[]; before?: Action[] } = {}): void {
  const before = options.before ?? [];
  const forward = before.length > 0 ? { ...forwardTo(live, options.stickinessSeconds), Order: before.length + 1 } : forwardTo(live, options.stickinessSeconds);
  liveRuleArn = alb.addRule(alb.listenerArn, LIVE_PRIORITY, options.conditions ?? [PATH_ALL], [...before, forward]);
  const config: RouterConfig = {
    listenerArn: alb.listenerArn,
    liveRuleArn,
    targetGroupArns: { blue, green },
    segmentHeader: HEADER,
    segmentRulePriority: SEGMENT_PRIORITY,
  };
  setConfig(config);
}

function addSegmentRule(color: 'blue' | 'green', segments: string[]): string {
  const tg = color === 'blue' ? blue : green;
  const other = color === 'blue' ? green : blue;
  return alb.addRule(alb.listenerArn, SEGMENT_PRIORITY,
    [PATH_ALL, { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: HEADER, Values: segments } }],
    [forwardTo({ [tg]: 100, [other]: 0 })]);
}

/** The writes the router sent since the last forgetCalls(), in order, as "Command rule" strings. */
function writes(): string[] {
  return fakes.aws.calls.slice(callsSeen)
    .filter((c) => c.service === 'elbv2' && !c.command.startsWith('Describe'))
    .map((c) => `${c.command} ${(c.input as { RuleArn?: string }).RuleArn === liveRuleArn ? 'live' : 'segment'}`);
}

function forgetCalls(): void {
  callsSeen = fakes.aws.calls.length;
}

/** The waits between the router's read-backs of the live rule after its first write (virtual ms). */
function readBackWaits(): number[] {
  const firstWrite = fakes.aws.calls.findIndex((c) => c.service === 'elbv2' && !c.command.startsWith('Describe'));
  const reads = fakes.aws.calls.slice(firstWrite)
    .filter((c) => c.command === 'DescribeRules' && (c.input as DescribeRulesInput).ListenerArn === alb.listenerArn)
    .map((c) => c.time);
  return reads.slice(1).map((time, i) => time - reads[i]);
}

/** Registers targets in a target group, in its "initial" state while the load balancer health-checks them. */
function register(targetGroupArn: string, ...ips: string[]): void {
  fakes.aws.alb.registerTargets({ TargetGroupArn: targetGroupArn, Targets: ips.map((Id) => ({ Id })) });
}

/** Deregisters the target group's first target: it drains for the deregistration delay. */
function drainFirstTarget(targetGroupArn: string): void {
  const [first] = fakes.aws.alb.describeTargetHealth({ TargetGroupArn: targetGroupArn }).TargetHealthDescriptions!;
  fakes.aws.alb.deregisterTargets({ TargetGroupArn: targetGroupArn, Targets: [first.Target!] });
}

beforeEach(() => {
  fakes = installAwsFakes();
  alb = new WebAlb(fakes.aws);
  ({ blueTg: blue, greenTg: green } = alb);
  callsSeen = 0;
});
afterEach(() => fakes.restore());

describe('ALB router', () => {
  describe('describe', () => {
    test('reports the weights by color and the color that holds all traffic', async () => {
      configure({ [blue]: 100, [green]: 0 });
      await expect(handler({ action: 'describe' })).resolves.toEqual({ weights: { blue: 100, green: 0 }, liveColor: 'blue', segmentRoute: null });
    });

    test('reports no live color while traffic is split', async () => {
      configure({ [blue]: 30, [green]: 70 });
      await expect(handler({ action: 'describe' })).resolves.toMatchObject({ weights: { blue: 30, green: 70 }, liveColor: null });
    });

    test('counts a color the forward action does not list as weight 0', async () => {
      configure({ [green]: 1 });
      await expect(handler({ action: 'describe' })).resolves.toMatchObject({ weights: { blue: 0, green: 100 }, liveColor: 'green' });
    });

    test.each([
      [1, 1, 50, 50],
      [1, 2, 33, 67],
      [1, 7, 13, 87],
      [1, 999, 1, 99],
      [999, 1, 99, 1],
    ])('normalizes raw weights %d/%d to percentages %d/%d, never rounding a trickle to 0', async (rawBlue, rawGreen, pBlue, pGreen) => {
      configure({ [blue]: rawBlue, [green]: rawGreen });
      await expect(handler({ action: 'describe' })).resolves.toMatchObject({ weights: { blue: pBlue, green: pGreen }, liveColor: null });
    });

    test('reports the segment route', async () => {
      configure({ [blue]: 100, [green]: 0 });
      const ruleArn = addSegmentRule('green', ['internal', 'beta']);
      await expect(handler({ action: 'describe' })).resolves.toMatchObject({ segmentRoute: { ruleArn, color: 'green', segments: ['internal', 'beta'] } });
    });

    test('refuses a live rule that forwards to a foreign target group, naming it', async () => {
      const foreign = alb.targetGroup('someone-else');
      configure({ [blue]: 50, [foreign]: 50 });
      await expect(handler({ action: 'describe' })).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringContaining(foreign),
      });
    });

    test('refuses with ROUTE_INVALID when the live rule does not exist', async () => {
      configure({ [blue]: 100 });
      alb.removeRule(liveRuleArn);
      await expect(handler({ action: 'describe' })).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringContaining(liveRuleArn),
      });
    });

    test('refuses a rule at the segment priority that is not a segment route', async () => {
      configure({ [blue]: 100 });
      alb.addRule(alb.listenerArn, SEGMENT_PRIORITY, [PATH_ALL], [forwardTo({ [blue]: 1 })]);
      await expect(handler({ action: 'describe' })).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringMatching(/Priority 9 .* not a segment route/),
      });
    });
  });

  describe('shift', () => {
    test('writes the weights and returns them as read back', async () => {
      configure({ [blue]: 100, [green]: 0 });
      const result = await handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] });
      expect(result).toEqual({ before: { blue: 100, green: 0 }, after: { blue: 90, green: 10 }, changed: true, segmentRoute: null });
      expect(alb.weights(liveRuleArn)).toEqual({ [blue]: 90, [green]: 10 });
    });

    test('does not write when the weights already match', async () => {
      configure({ [blue]: 90, [green]: 10 });
      const result = await handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] });
      expect(result).toEqual({ before: { blue: 90, green: 10 }, after: { blue: 90, green: 10 }, changed: false, segmentRoute: null });
      expect(writes()).toEqual([]);
    });

    test('does not rewrite weights that match once normalized (1/1 is 50/50)', async () => {
      configure({ [blue]: 1, [green]: 1 });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 50, segments: [] })).resolves.toMatchObject({ changed: false });
      expect(writes()).toEqual([]);
    });

    test('writes only the segment rule when only the segment route differs', async () => {
      configure({ [blue]: 100, [green]: 0 });
      const created = await handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['internal'] });
      expect(writes()).toEqual(['CreateRule segment']);
      expect(created).toMatchObject({ changed: true, after: { blue: 100, green: 0 }, segmentRoute: { color: 'green', segments: ['internal'] } });

      forgetCalls();
      const widened = await handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['internal', 'beta'] });
      expect(writes()).toEqual(['ModifyRule segment']);
      expect(widened).toMatchObject({ changed: true, segmentRoute: { color: 'green', segments: ['internal', 'beta'] } });

      forgetCalls();
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['beta', 'internal'] })).resolves.toMatchObject({ changed: false });
      expect(writes()).toEqual([]);
    });

    test('keeps the live rule\'s conditions and stickiness when it writes weights', async () => {
      configure({ [blue]: 100, [green]: 0 }, { stickinessSeconds: 300, conditions: [HOST_SHOP, PATH_ALL] });
      const before = alb.rule(liveRuleArn)!;
      await handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] });
      const [modify] = alb.sent<ModifyRuleInput>('ModifyRule');
      expect(modify.RuleArn).toBe(liveRuleArn);
      expect(modify).not.toHaveProperty('Conditions');
      const after = alb.rule(liveRuleArn)!;
      expect(after.Conditions).toEqual(before.Conditions);
      expect(after.Priority).toBe(String(LIVE_PRIORITY));
      expect(after.Actions![0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 300 });
      expect(alb.weights(liveRuleArn)).toEqual({ [blue]: 75, [green]: 25 });
    });

    /** Runs `change` (another writer: a deploy of the live route) right after the fake's `command` call number `nth`. */
    function afterCall(command: 'describeRules' | 'modifyRule', nth: number, change: () => void): void {
      const fake = fakes.aws.alb;
      const real = fake[command].bind(fake) as (input: never) => unknown;
      let seen = 0;
      jest.spyOn(fake, command).mockImplementation(((input: never) => {
        const out = real(input);
        seen += 1;
        if (seen === nth) change();
        return out;
      }) as never);
    }
    /** A deploy sets the live rule's stickiness to `seconds` (and, given, its weights), as the live-route handler writes it. */
    const deploySets = (seconds: number, weights?: Record<string, number>) => () => {
      fakes.aws.alb.modifyRule({ RuleArn: liveRuleArn, Actions: [forwardTo(weights ?? alb.weights(liveRuleArn), seconds)] });
    };
    const stickiness = () => alb.rule(liveRuleArn)!.Actions![0].ForwardConfig!.TargetGroupStickinessConfig;

    test('keeps a stickiness change another writer makes between the router\'s read and its write (600 -> 300)', async () => {
      configure({ [blue]: 100, [green]: 0 }, { stickinessSeconds: 600 });
      afterCall('describeRules', 1, deploySets(300));
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] })).resolves.toMatchObject({ after: { blue: 90, green: 10 } });
      expect(stickiness()).toEqual({ Enabled: true, DurationSeconds: 300 });
      expect(alb.weights(liveRuleArn)).toEqual({ [blue]: 90, [green]: 10 });
    });

    test('re-applies its weights, keeping the other writer\'s stickiness, when a write lands after its own and undoes them', async () => {
      configure({ [blue]: 100, [green]: 0 }, { stickinessSeconds: 600 });
      // A deploy that read the rule before the shift writes it back with the old weights and its new stickiness.
      afterCall('modifyRule', 1, deploySets(300, { [blue]: 100, [green]: 0 }));
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] })).resolves.toMatchObject({ after: { blue: 90, green: 10 } });
      expect(alb.weights(liveRuleArn)).toEqual({ [blue]: 90, [green]: 10 });
      expect(stickiness()).toEqual({ Enabled: true, DurationSeconds: 300 });
      expect(writes()).toEqual(['ModifyRule live', 'ModifyRule live']);
    });

    test('gives up after MAX_WRITE_ATTEMPTS with WEIGHT_VERIFICATION_FAILED naming the fight, traffic left where it was, when another writer changes the rule under every attempt', async () => {
      configure({ [blue]: 100, [green]: 0 }, { stickinessSeconds: 600 });
      // Another writer (a second deploy, a hand-run script) changes the rule after every read the router makes.
      let seconds = 600;
      const fake = fakes.aws.alb;
      const real = fake.describeRules.bind(fake);
      let fighting = true;
      jest.spyOn(fake, 'describeRules').mockImplementation((input) => {
        const out = real(input);
        if (fighting) {
          seconds = seconds === 600 ? 300 : 600;
          fake.modifyRule({ RuleArn: liveRuleArn, Actions: [forwardTo({ [blue]: 100, [green]: 0 }, seconds)] });
        }
        return out;
      });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] })).rejects.toMatchObject({
        name: ErrorName.WEIGHT_VERIFICATION_FAILED,
        message: expect.stringMatching(new RegExp(`^Live rule ${liveRuleArn} kept changing under ${MAX_WRITE_ATTEMPTS} compare-and-retry writes \\(another writer is changing it\\): desired blue 90 / green 10 .* actual blue 100 / green 0$`)),
      });
      fighting = false;
      // The router wrote nothing it could not compare first: production traffic is still all on blue, the stable color.
      expect(writes()).toEqual([]);
      expect(alb.weights(liveRuleArn)).toEqual({ [blue]: 100, [green]: 0 });
      expect(alb.sent<DescribeRulesInput>('DescribeRules')).toHaveLength(1 + MAX_WRITE_ATTEMPTS);
    });

    test('shifts weights on a live rule that authenticates with OIDC, keeping the action and its client secret', async () => {
      const idp = { Issuer: 'https://idp', AuthorizationEndpoint: 'https://idp/a', TokenEndpoint: 'https://idp/t', UserInfoEndpoint: 'https://idp/u', ClientId: 'web' };
      configure({ [blue]: 100, [green]: 0 }, { before: [{ Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: { ...idp, ClientSecret: 's3cret' } }] });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] })).resolves.toMatchObject({ changed: true, after: { blue: 75, green: 25 } });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 50, segments: [] })).resolves.toMatchObject({ changed: true, after: { blue: 50, green: 50 } });
      expect(alb.weights(liveRuleArn)).toEqual({ [blue]: 50, [green]: 50 });
      const after = alb.rule(liveRuleArn)!;
      expect(after.Actions!.map((a) => [a.Type, a.Order])).toEqual([['authenticate-oidc', 1], ['forward', 2]]);
      expect(after.Actions![0].AuthenticateOidcConfig).toEqual(idp);
    });

    test('scopes the segment route like the live rule (same host and path, plus the header)', async () => {
      configure({ [blue]: 100, [green]: 0 }, { conditions: [HOST_SHOP, PATH_ALL] });
      await handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['internal'] });
      const [segment] = alb.rules(alb.listenerArn).filter((r) => r.Priority === String(SEGMENT_PRIORITY));
      const fields = segment.Conditions!.map((c) => [c.Field, c.HostHeaderConfig?.Values ?? c.PathPatternConfig?.Values ?? c.HttpHeaderConfig?.Values]);
      expect(fields).toEqual([['host-header', ['shop.example.com']], ['path-pattern', ['/*']], ['http-header', ['internal']]]);
      expect(segment.Conditions![2].HttpHeaderConfig!.HttpHeaderName).toBe(HEADER);
      expect(alb.weights(segment.RuleArn!)).toEqual({ [blue]: 0, [green]: 100 });
      expect(fakes.aws.alb.forwardWeights(alb.listenerArn, { host: 'shop.example.com', path: '/cart', headers: { [HEADER]: 'internal' } })).toEqual({ [blue]: 0, [green]: 1 });
    });

    test('removes the segment route when no segments are given', async () => {
      configure({ [blue]: 0, [green]: 100 });
      const segmentArn = addSegmentRule('green', ['internal']);
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 100, segments: [] })).resolves.toMatchObject({ changed: true, segmentRoute: null });
      expect(alb.rule(segmentArn)).toBeUndefined();
    });

    test('reads the live rule and the segment rule with one listing of the listener per read', async () => {
      configure({ [blue]: 100, [green]: 0 });
      await handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] });
      const describes = alb.sent<DescribeRulesInput>('DescribeRules');
      expect(describes).toHaveLength(3); // before the write, again just before it (compare-and-retry), and the read-back
      expect(describes.every((d) => d.ListenerArn === alb.listenerArn && d.RuleArns === undefined)).toBe(true);
    });

    test('refuses a segment shift, before any write, when the segment priority holds a broken segment rule', async () => {
      configure({ [blue]: 100, [green]: 0 });
      alb.addRule(alb.listenerArn, SEGMENT_PRIORITY, [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: HEADER, Values: ['internal'] } }],
        [forwardTo({ [blue]: 50, [green]: 50 })]);
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 10, segments: ['internal'] })).rejects.toMatchObject({ name: ErrorName.ROUTE_INVALID });
      expect(writes()).toEqual([]);
    });

    test('succeeds when the read-back settles after eventual consistency', async () => {
      configure({ [blue]: 100, [green]: 0 });
      // The first read-back (one listing of the listener's rules) still shows the old weights.
      fakes.aws.alb.lagReads({ rule: liveRuleArn, reads: 1 });
      const result = await handler({ action: 'shift', targetColor: 'green', percent: 50, segments: [] });
      expect(result).toMatchObject({ changed: true, after: { blue: 50, green: 50 } });
      expect(readBackWaits()).toEqual([VERIFY_BACKOFF_MS]);
    });

    test('reads back until a segment route it created shows in the listener\'s rules', async () => {
      configure({ [blue]: 100, [green]: 0 });
      fakes.aws.alb.lagReads({ reads: 1 }); // the next write, the CreateRule: the first listing misses the new rule
      const result = await handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['internal'] });
      expect(result).toMatchObject({ changed: true, segmentRoute: { color: 'green', segments: ['internal'] } });
      expect(readBackWaits()).toEqual([VERIFY_BACKOFF_MS]);
    });

    test('fails with WEIGHT_VERIFICATION_FAILED, desired vs actual, when the read-back never shows the write', async () => {
      configure({ [blue]: 100, [green]: 0 });
      fakes.aws.alb.lagReads({ rule: liveRuleArn, reads: 1000 });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 50, segments: [] })).rejects.toMatchObject({
        name: ErrorName.WEIGHT_VERIFICATION_FAILED,
        message: expect.stringMatching(/desired blue 50 \/ green 50 .* actual blue 100 \/ green 0/),
      });
      const waits = readBackWaits();
      expect(waits).toHaveLength(VERIFY_READS - 1);
      expect(waits[1]).toBeGreaterThan(waits[0]);
    });

    test('turns throttling into a ZdtRetryableError naming the operation', async () => {
      configure({ [blue]: 100, [green]: 0 });
      fakes.aws.faults.add({ service: 'elbv2', command: 'ModifyRule', error: 'ThrottlingException', times: Infinity });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 10, segments: [] })).rejects.toMatchObject({
        name: ErrorName.RETRYABLE,
        message: expect.stringContaining(`ModifyRule(${liveRuleArn})`),
      });
    });

    test('refuses more segments than one ALB condition holds', async () => {
      configure({ [blue]: 100, [green]: 0 });
      await expect(handler({ action: 'shift', targetColor: 'green', percent: 0, segments: ['a', 'b', 'c', 'd'] })).rejects.toMatchObject({
        name: ErrorName.INVALID_REQUEST,
        message: expect.stringContaining('"segments"'),
      });
      expect(writes()).toEqual([]);
    });

    test('refuses a segment route that with the live rule\'s conditions exceeds ALB\'s 5 match evaluations', async () => {
      configure({ [blue]: 100, [green]: 0 }, {
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
      configure({ [blue]: 100, [green]: 0 });
      await expectInvalidRequest(handler(request), field, given);
    });
  });

  describe('rollback', () => {
    test('restores 100% stable, then removes a broken segment rule, whatever that rule holds', async () => {
      configure({ [blue]: 30, [green]: 70 });
      const broken = alb.addRule(alb.listenerArn, SEGMENT_PRIORITY, [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: HEADER, Values: ['beta'] } }],
        [forwardTo({ [blue]: 50, [green]: 50 })]);
      await expect(handler({ action: 'rollback', stableColor: 'blue' })).resolves.toMatchObject({ after: { blue: 100, green: 0 }, segmentRoute: null });
      expect(alb.weights(liveRuleArn)).toEqual({ [blue]: 100, [green]: 0 });
      expect(alb.rule(broken)).toBeUndefined();
      expect(writes()).toEqual(['ModifyRule live', 'DeleteRule segment']);
    });

    test('restores 100% stable and leaves alone a rule of someone else at the segment priority', async () => {
      configure({ [blue]: 30, [green]: 70 });
      const foreign = alb.addRule(alb.listenerArn, SEGMENT_PRIORITY, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/admin/*'] } }],
        [forwardTo({ [blue]: 1 })]);
      await expect(handler({ action: 'rollback', stableColor: 'blue' })).resolves.toMatchObject({ after: { blue: 100, green: 0 } });
      expect(alb.rule(foreign)).toBeDefined();
    });

    test('restores all traffic to the stable color before it removes the segment route, and verifies', async () => {
      configure({ [blue]: 70, [green]: 30 });
      const segmentArn = addSegmentRule('green', ['internal', 'beta']);
      const result = await handler({ action: 'rollback', stableColor: 'blue' });
      expect(result).toEqual({ before: { blue: 70, green: 30 }, after: { blue: 100, green: 0 }, changed: true, segmentRoute: null });
      expect(writes()).toEqual(['ModifyRule live', 'DeleteRule segment']);
      expect(alb.rule(segmentArn)).toBeUndefined();
      expect(alb.weights(liveRuleArn)).toEqual({ [blue]: 100, [green]: 0 });
    });

    test('writes nothing when traffic is already all on the stable color', async () => {
      configure({ [blue]: 100, [green]: 0 });
      await expect(handler({ action: 'rollback', stableColor: 'blue' })).resolves.toMatchObject({ changed: false, after: { blue: 100, green: 0 } });
      expect(writes()).toEqual([]);
    });
  });

  describe('checkTargets', () => {
    // The live rule forwards to both colors (green at weight 0), so the load balancer health-checks both.
    test.each<[string, () => void, number | undefined, RegExp]>([
      ['no target is registered', () => undefined, undefined, /has no registered targets: 0\/0/],
      ['every target is draining or unused', () => {
        // No rule forwards to green any more: its targets are unused, and the deregistered one drains.
        fakes.aws.alb.modifyRule({ RuleArn: liveRuleArn, Actions: [forwardTo({ [blue]: 1 })] });
        register(green, '10.0.1.1', '10.0.1.2', '10.0.1.3');
        drainFirstTarget(green);
      }, undefined, /has targets, but they are unused: no listener rule of the load balancer forwards to the target group/],
      ['no target is healthy', () => {
        fakes.aws.alb.setTargetHealth(green, { healthy: 0, unhealthy: 1 });
        register(green, '10.0.1.9'); // initial: its health checks have not passed yet
      }, undefined, /has no healthy targets: 0\/2/],
      ['fewer targets are healthy than required', () => fakes.aws.alb.setTargetHealth(green, { healthy: 2, unhealthy: 1 }), undefined, /below 100% healthy: 2\/3/],
      ['fewer targets are healthy than a lower bar', () => fakes.aws.alb.setTargetHealth(green, { healthy: 1, unhealthy: 2 }), 50, /below 50% healthy: 1\/3/],
    ])('refuses with TARGETS_UNHEALTHY when %s', async (_why, setUp, minHealthyPercent, message) => {
      configure({ [blue]: 100, [green]: 0 });
      setUp();
      const error = await handler({ action: 'checkTargets', color: 'green', minHealthyPercent }).catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorName.TARGETS_UNHEALTHY, message: expect.stringMatching(message) });
      expect((error as Error).message).toContain(green);
      expect((error as Error).message).toContain('(green)');
    });

    test('does not count targets that are unhealthy and draining as registered', async () => {
      // A state the fake does not simulate (its deregistered targets are "draining"): answered by a stub.
      configure({ [blue]: 100, [green]: 0 });
      const elbv2 = fakes.aws.stub('elbv2') as unknown as AwsStub<ServiceInputTypes, ServiceOutputTypes, ElasticLoadBalancingV2ClientResolvedConfig>;
      elbv2.on(DescribeTargetHealthCommand).resolves({
        TargetHealthDescriptions: [
          { Target: { Id: '10.0.1.1', Port: 8080 }, TargetHealth: { State: 'unhealthy.draining' } },
          { Target: { Id: '10.0.1.2', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        ],
      });
      await expect(handler({ action: 'checkTargets', color: 'green' })).resolves.toEqual({ color: 'green', healthy: 1, registered: 1 });
    });

    test('passes when enough registered targets are healthy, ignoring draining ones', async () => {
      configure({ [blue]: 100, [green]: 0 });
      fakes.aws.alb.setTargetHealth(green, { healthy: 3, unhealthy: 1 });
      drainFirstTarget(green); // a healthy one
      await expect(handler({ action: 'checkTargets', color: 'green', minHealthyPercent: 60 })).resolves.toEqual({ color: 'green', healthy: 2, registered: 3 });
    });

    test('requires every registered target healthy by default', async () => {
      configure({ [blue]: 100, [green]: 0 });
      fakes.aws.alb.setTargetHealth(blue, { healthy: 2 });
      await expect(handler({ action: 'checkTargets', color: 'blue' })).resolves.toEqual({ color: 'blue', healthy: 2, registered: 2 });
    });
  });
});

describe('echoAction', () => {
  test('keeps the existing OIDC client secret when an action read from ALB is written back', () => {
    const oidc: Action = {
      Type: 'authenticate-oidc', Order: 1,
      AuthenticateOidcConfig: { Issuer: 'https://idp', AuthorizationEndpoint: 'https://idp/a', TokenEndpoint: 'https://idp/t', UserInfoEndpoint: 'https://idp/u', ClientId: 'web' },
    };
    expect(echoAction(oidc).AuthenticateOidcConfig).toMatchObject({ ClientId: 'web', UseExistingClientSecret: true });
    const forward: Action = { Type: 'forward', Order: 2, TargetGroupArn: 'arn:tg' };
    expect(echoAction(forward)).toBe(forward);
  });
});
