import { ModifyRuleInput, SetRulePrioritiesInput } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ErrorName, LiveRouteProperties } from '../../lambda/shared/contracts';
import { handler, LiveRouteEvent } from '../../lambda/routing/live-route-handler';
import { TARGET_HEALTH_WAIT_MS } from '../../lambda/routing/live-route';
import { FakeAws, forwardTo, installAwsFakes, PATH_ALL, WebAlb } from './support/aws';

const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:111122223333:function:provider';
const LIVE_PRIORITY = 10;

let fakes: FakeAws;
let alb: WebAlb;
let blue: string;
let green: string;
let newBlue: string;
let newGreen: string;

function props(overrides: Partial<LiveRouteProperties> = {}): LiveRouteProperties & { ServiceToken: string } {
  return {
    ServiceToken: SERVICE_TOKEN,
    ListenerArn: alb.listenerArn,
    Priority: String(LIVE_PRIORITY),
    BlueTargetGroupArn: blue,
    GreenTargetGroupArn: green,
    InitialColor: 'blue',
    Conditions: JSON.stringify([{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }]),
    StickinessSeconds: '0',
    ...overrides,
  };
}

/**
 * CloudFormation's requests, as it sends them: every one names the stack and the logical id
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html).
 */
const STACK = 'arn:aws:cloudformation:us-east-1:123456789012:stack/web/2f1d5e10-0000-11ef-8000-0a1b2c3d4e5f';
const OTHER_STACK = 'arn:aws:cloudformation:us-east-1:123456789012:stack/web-router/7a9e0c20-0000-11ef-8000-0a1b2c3d4e5f';
const LOGICAL_ID = 'RoutingLiveRoute5E4C1A2B';
interface Resource { readonly logicalId?: string; readonly stackId?: string }
const identity = (r: Resource = {}) => ({ LogicalResourceId: r.logicalId ?? LOGICAL_ID, StackId: r.stackId ?? STACK, RequestId: 'req-1', ResourceType: 'Custom::ZdtLiveRoute' });
const create = (p = props(), r?: Resource): LiveRouteEvent => ({ RequestType: 'Create', ResourceProperties: p, ...identity(r) });
const update = (ruleArn: string, next: ReturnType<typeof props>, old = props(), r?: Resource): LiveRouteEvent => ({
  RequestType: 'Update', PhysicalResourceId: ruleArn, ResourceProperties: next, OldResourceProperties: old, ...identity(r),
});
const remove = (physicalId: string, p = props(), r?: Resource): LiveRouteEvent => ({ RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: p, ...identity(r) });

/** A live rule split 30% blue / 70% green, as a rollout may leave it. */
function splitRule(): string {
  return alb.addRule(alb.listenerArn, LIVE_PRIORITY, [PATH_ALL], [forwardTo({ [blue]: 30, [green]: 70 })]);
}

const calls = (command: string) => fakes.aws.callCount('elbv2', command);
/** Target groups with two healthy targets each (health counts once a rule forwards to them, as on ALB). */
const healthyTargets = (...targetGroupArns: string[]) => targetGroupArns.forEach((tg) => fakes.aws.alb.setTargetHealth(tg, { healthy: 2 }));

beforeEach(() => {
  fakes = installAwsFakes();
  alb = new WebAlb(fakes.aws);
  ({ blueTg: blue, greenTg: green } = alb);
  newBlue = alb.targetGroup('web-blue-v2');
  newGreen = alb.targetGroup('web-green-v2');
});
afterEach(() => fakes.restore());

describe('Live route custom resource', () => {
  describe('create', () => {
    test('creates the rule with all traffic on the initial color, the conditions and the stickiness', async () => {
      const result = await handler(create(props({ InitialColor: 'green', StickinessSeconds: '300' })));
      const ruleArn = result.PhysicalResourceId!;
      expect(result).toEqual({ PhysicalResourceId: ruleArn, Data: { RuleArn: ruleArn } });
      const rule = alb.rule(ruleArn)!;
      expect(rule.Priority).toBe('10');
      expect(rule.Conditions![0].PathPatternConfig!.Values).toEqual(['/*']);
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 0, [green]: 100 });
      expect(rule.Actions![0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 300 });
    });

    test('creates the rule without stickiness when StickinessSeconds is "0"', async () => {
      const { PhysicalResourceId } = await handler(create());
      expect(alb.rule(PhysicalResourceId!)!.Actions![0].ForwardConfig!.TargetGroupStickinessConfig?.Enabled ?? false).toBe(false);
    });

    test('adopts a rule a retried create already made, without changing its weights', async () => {
      const existing = splitRule();
      const result = await handler(create(props({ InitialColor: 'blue' })));
      expect(result.PhysicalResourceId).toBe(existing);
      expect(calls('CreateRule')).toBe(0);
      expect(calls('ModifyRule')).toBe(0);
      expect(alb.weights(existing)).toEqual({ [blue]: 30, [green]: 70 });
    });

    test('refuses a priority held by a rule that forwards to other target groups', async () => {
      const foreign = alb.targetGroup('another-service');
      alb.addRule(alb.listenerArn, LIVE_PRIORITY, [PATH_ALL], [forwardTo({ [foreign]: 1 })]);
      await expect(handler(create())).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringMatching(new RegExp(`priority 10 .*${foreign}`)),
      });
      expect(calls('CreateRule')).toBe(0);
    });

    test.each([
      [{ Priority: 'ten' }, 'Priority', '"ten"'],
      [{ Priority: '0' }, 'Priority', '"0"'],
      [{ StickinessSeconds: '-5' }, 'StickinessSeconds', '"-5"'],
      [{ InitialColor: 'red' as never }, 'InitialColor', '"red"'],
      [{ Conditions: '{not json' }, 'Conditions', '"{not json"'],
      [{ Conditions: '[{"Values":["/*"]}]' }, 'Conditions', 'Values'],
    ])('refuses properties %j with INVALID_REQUEST naming the property', async (overrides, field, given) => {
      const error = await handler(create(props(overrides))).catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorName.INVALID_REQUEST });
      expect((error as Error).message).toContain(`"${field}"`);
      expect((error as Error).message).toContain(given);
      expect(calls('CreateRule')).toBe(0);
    });

    test('refuses the same target group for both colors with INVALID_REQUEST naming the property', async () => {
      const error = await handler(create(props({ GreenTargetGroupArn: blue }))).catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorName.INVALID_REQUEST });
      expect((error as Error).message).toContain('"GreenTargetGroupArn"');
      expect((error as Error).message).toContain(blue);
      expect(calls('CreateRule')).toBe(0);
    });
  });

  describe('update', () => {
    const HOST_AND_PATH = JSON.stringify([
      { Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } },
    ]);
    /** The v2 target groups exist only once the fakes do: rows that use them are functions. */
    const NEW_GROUPS = () => ({ BlueTargetGroupArn: newBlue, GreenTargetGroupArn: newGreen });

    test.each<[string, () => Partial<LiveRouteProperties>]>([
      ['the target group ARNs', NEW_GROUPS],
      ['the conditions', () => ({ Conditions: HOST_AND_PATH })],
      ['the stickiness', () => ({ StickinessSeconds: '600' })],
      ['the initial color', () => ({ InitialColor: 'green' })],
      ['the initial color back to blue', () => ({ InitialColor: 'blue' })],
      ['everything at once', () => ({ ...NEW_GROUPS(), Conditions: HOST_AND_PATH, StickinessSeconds: '600', InitialColor: 'green' })],
    ])('a deploy that changes %s keeps live traffic split 30/70 by color', async (_what, changes) => {
      healthyTargets(newBlue, newGreen);
      const ruleArn = splitRule();
      const changed = changes();
      const next = props(changed);
      const result = await handler(update(ruleArn, next, props({ InitialColor: changed.InitialColor === 'blue' ? 'green' : 'blue' })));
      expect(result).toEqual({ PhysicalResourceId: ruleArn, Data: { RuleArn: ruleArn } });
      expect(alb.weights(ruleArn)).toEqual({ [next.BlueTargetGroupArn]: 30, [next.GreenTargetGroupArn]: 70 });
      expect(fakes.aws.alb.forwardWeights(alb.listenerArn, { host: 'shop.example.com', path: '/api/orders' }))
        .toEqual({ [next.BlueTargetGroupArn]: 0.3, [next.GreenTargetGroupArn]: 0.7 });
    });

    test('reads the rule three times for a re-point: to find it, to compare just before the write, and to read the write back', async () => {
      const ruleArn = splitRule();
      await handler(update(ruleArn, props({ StickinessSeconds: '600' })));
      expect(calls('ModifyRule')).toBe(1);
      expect(calls('DescribeRules')).toBe(3);
    });

    test('re-points the rule at the new target groups, conditions and stickiness', async () => {
      healthyTargets(newBlue, newGreen);
      const ruleArn = splitRule();
      await handler(update(ruleArn, props({ BlueTargetGroupArn: newBlue, GreenTargetGroupArn: newGreen, Conditions: HOST_AND_PATH, StickinessSeconds: '600' })));
      const rule = alb.rule(ruleArn)!;
      expect(rule.Conditions!.map((c) => c.Field)).toEqual(['host-header', 'path-pattern']);
      expect(rule.Conditions![1].PathPatternConfig!.Values).toEqual(['/api/*']);
      expect(rule.Actions![0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 600 });
      // The new target groups attached at weight 0 (so ALB health-checks them), then the weights moved to them.
      expect(calls('ModifyRule')).toBe(2);
    });

    test('writes only the part that differs', async () => {
      const ruleArn = splitRule();
      await handler(update(ruleArn, props({ StickinessSeconds: '60' })));
      const [modify] = alb.sent<ModifyRuleInput>('ModifyRule');
      expect(modify.Actions).toBeDefined();
      expect(modify).not.toHaveProperty('Conditions');
    });

    test('writes nothing when only the initial color or the service token changed', async () => {
      const ruleArn = splitRule();
      await handler(update(ruleArn, { ...props({ InitialColor: 'green' }), ServiceToken: `${SERVICE_TOKEN}-v2` }));
      expect(calls('ModifyRule')).toBe(0);
      expect(calls('SetRulePriorities')).toBe(0);
      expect(calls('CreateRule')).toBe(0);
    });

    test('changes the priority with SetRulePriorities and keeps the weights', async () => {
      const ruleArn = splitRule();
      await handler(update(ruleArn, props({ Priority: '20' })));
      expect(alb.sent<SetRulePrioritiesInput>('SetRulePriorities')).toEqual([{ RulePriorities: [{ RuleArn: ruleArn, Priority: 20 }] }]);
      expect(calls('ModifyRule')).toBe(0);
      expect(alb.rule(ruleArn)!.Priority).toBe('20');
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 30, [green]: 70 });
    });

    test('keeps the weights when a retried update finds the rule already re-pointed', async () => {
      const ruleArn = alb.addRule(alb.listenerArn, LIVE_PRIORITY, [PATH_ALL], [forwardTo({ [newBlue]: 30, [newGreen]: 70 })]);
      await handler(update(ruleArn, props({ BlueTargetGroupArn: newBlue, GreenTargetGroupArn: newGreen })));
      expect(calls('ModifyRule')).toBe(0);
      expect(alb.weights(ruleArn)).toEqual({ [newBlue]: 30, [newGreen]: 70 });
    });

    test('moves to a new listener with a new rule carrying the current weights by color', async () => {
      const ruleArn = splitRule();
      const result = await handler(update(ruleArn, props({ ListenerArn: alb.otherListenerArn })));
      const newArn = result.PhysicalResourceId!;
      expect(newArn).not.toBe(ruleArn);
      expect(result).toEqual({ PhysicalResourceId: newArn, Data: { RuleArn: newArn } });
      expect(alb.rules(alb.otherListenerArn).map((r) => r.RuleArn)).toEqual([newArn]);
      expect(alb.weights(newArn)).toEqual({ [blue]: 30, [green]: 70 });
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 30, [green]: 70 });
      // CloudFormation's cleanup then deletes the old physical id: the old rule only.
      await handler(remove(ruleArn));
      expect(alb.rule(ruleArn)).toBeUndefined();
      expect(alb.weights(newArn)).toEqual({ [blue]: 30, [green]: 70 });
    });

    test('refuses to move to a new listener and to target groups without healthy targets at once (TARGETS_UNHEALTHY)', async () => {
      const ruleArn = splitRule();
      await expect(handler(update(ruleArn, props({ ListenerArn: alb.otherListenerArn, BlueTargetGroupArn: newBlue, GreenTargetGroupArn: newGreen }))))
        .rejects.toMatchObject({ name: ErrorName.TARGETS_UNHEALTHY, message: expect.stringContaining(newBlue) });
      expect(alb.rules(alb.otherListenerArn)).toEqual([]);
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 30, [green]: 70 });
    });

    test('refuses with ROUTE_INVALID when the rule forwards to a target group of neither color', async () => {
      const foreign = alb.targetGroup('hand-edited');
      const ruleArn = alb.addRule(alb.listenerArn, LIVE_PRIORITY, [PATH_ALL], [forwardTo({ [blue]: 50, [foreign]: 50 })]);
      await expect(handler(update(ruleArn, props({ StickinessSeconds: '60' })))).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringContaining(foreign),
      });
      expect(calls('ModifyRule')).toBe(0);
    });
  });

  describe('delete', () => {
    test('deletes the rule', async () => {
      const ruleArn = splitRule();
      await expect(handler(remove(ruleArn))).resolves.toEqual({ PhysicalResourceId: ruleArn });
      expect(alb.rule(ruleArn)).toBeUndefined();
    });

    test('succeeds when the rule is already gone', async () => {
      const ruleArn = splitRule();
      alb.removeRule(ruleArn);
      await expect(handler(remove(ruleArn))).resolves.toEqual({ PhysicalResourceId: ruleArn });
      expect(calls('DeleteRule')).toBe(0);
    });

    test('succeeds, deleting nothing, for a physical id that is not a rule ARN (a create that failed)', async () => {
      const someoneElses = splitRule();
      await expect(handler(remove('req-1'))).resolves.toEqual({ PhysicalResourceId: 'req-1' });
      expect(calls('DeleteRule')).toBe(0);
      expect(alb.weights(someoneElses)).toEqual({ [blue]: 30, [green]: 70 });
    });
  });

  /**
   * CloudFormation's own sequences of requests to one custom resource, or to two when it replaces one by another
   * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html,
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html):
   * an Update that fails elsewhere in the stack is followed by an Update with the properties swapped; a new logical id
   * is a Create of the new resource, then, once the whole update succeeded, a Delete of the old one in the cleanup
   * phase (or, if it failed, a Delete of the new one during the rollback).
   */
  describe('CloudFormation event sequences', () => {
    const RENAMED = { logicalId: 'RoutingMovedLiveRouteA1B2C3D4' };
    /** A rollout shifted traffic to 30/70 (the router's write). */
    const shift = (ruleArn: string) => fakes.aws.alb.modifyRule({ RuleArn: ruleArn, Actions: [forwardTo({ [blue]: 30, [green]: 70 })] });
    const served = () => fakes.aws.alb.forwardWeights(alb.listenerArn, { path: '/orders' });

    test('create, then update, then delete', async () => {
      const { PhysicalResourceId: ruleArn } = await handler(create());
      shift(ruleArn!);
      await handler(update(ruleArn!, props({ StickinessSeconds: '60' })));
      expect(served()).toEqual({ [blue]: 0.3, [green]: 0.7 });
      await handler(remove(ruleArn!, props({ StickinessSeconds: '60' })));
      expect(alb.rules(alb.listenerArn)).toEqual([]);
    });

    test('a renamed or moved live route (new logical id): the old resource\'s Delete in the cleanup keeps production\'s rule', async () => {
      const { PhysicalResourceId: ruleArn } = await handler(create());
      shift(ruleArn!);
      const adopted = await handler(create(props(), RENAMED));
      expect(adopted.PhysicalResourceId).toBe(ruleArn);
      await handler(remove(ruleArn!)); // the old logical id, in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
      expect(calls('DeleteRule')).toBe(0);
      expect(served()).toEqual({ [blue]: 0.3, [green]: 0.7 });
      // The new resource owns it alone: deleting the stack later deletes the rule.
      await handler(remove(ruleArn!, props(), RENAMED));
      expect(alb.rule(ruleArn!)).toBeUndefined();
    });

    test('routing moved into another stack: the new stack adopts the rule, the old stack\'s Delete keeps it', async () => {
      const { PhysicalResourceId: ruleArn } = await handler(create());
      shift(ruleArn!);
      await handler(create(props(), { stackId: OTHER_STACK, logicalId: LOGICAL_ID }));
      await handler(remove(ruleArn!));
      expect(served()).toEqual({ [blue]: 0.3, [green]: 0.7 });
    });

    test('a replacement rolled back: the new resource\'s Delete keeps the rule for the old one, which still owns it', async () => {
      const { PhysicalResourceId: ruleArn } = await handler(create());
      shift(ruleArn!);
      await handler(create(props(), RENAMED));
      await handler(remove(ruleArn!, props(), RENAMED)); // UPDATE_ROLLBACK_IN_PROGRESS deletes what the update created
      expect(served()).toEqual({ [blue]: 0.3, [green]: 0.7 });
      await handler(remove(ruleArn!));
      expect(alb.rule(ruleArn!)).toBeUndefined();
    });

    test('a rule made before ownership claims: its replacement keeps it, and the last Delete removes it', async () => {
      const ruleArn = splitRule(); // no claim: made by an earlier version of the handler
      await handler(create(props(), RENAMED));
      await handler(remove(ruleArn)); // the old resource holds no claim of its own: it gives up the rule's first owner's
      expect(served()).toEqual({ [blue]: 0.3, [green]: 0.7 });
      await handler(remove(ruleArn, props(), RENAMED));
      expect(alb.rule(ruleArn)).toBeUndefined();
    });

    test('a rule made before ownership claims, then updated by its own resource: that resource\'s Delete removes it', async () => {
      const ruleArn = splitRule(); // no claim: made by an earlier version of the handler, under this resource's physical id
      await handler(update(ruleArn, props({ StickinessSeconds: '60' })));
      expect(served()).toEqual({ [blue]: 0.3, [green]: 0.7 });
      await handler(remove(ruleArn, props({ StickinessSeconds: '60' })));
      expect(alb.rule(ruleArn)).toBeUndefined();
    });

    test('an update, then its rollback (an Update with the properties swapped), keeps the weights by color', async () => {
      healthyTargets(blue, green, newBlue, newGreen);
      const { PhysicalResourceId: ruleArn } = await handler(create());
      shift(ruleArn!);
      const v2 = props({ BlueTargetGroupArn: newBlue, GreenTargetGroupArn: newGreen, StickinessSeconds: '600' });
      await handler(update(ruleArn!, v2, props()));
      expect(alb.weights(ruleArn!)).toEqual({ [newBlue]: 30, [newGreen]: 70 });
      await handler(update(ruleArn!, props(), v2)); // UPDATE_ROLLBACK_IN_PROGRESS
      expect(alb.weights(ruleArn!)).toEqual({ [blue]: 30, [green]: 70 });
      expect(alb.rule(ruleArn!)!.Actions![0].ForwardConfig!.TargetGroupStickinessConfig?.Enabled ?? false).toBe(false);
    });

    test('a Delete after a Create that failed deletes nothing, not even a rule the create adopted', async () => {
      const ruleArn = splitRule();
      fakes.aws.faults.add({ service: 'elbv2', command: 'AddTags', error: 'TooManyTagsException', message: 'The quota for the number of tags that can be assigned to a load balancer has been reached.' });
      await expect(handler(create(props(), RENAMED))).rejects.toMatchObject({ name: 'TooManyTagsException' });
      await handler(remove('req-1', props(), RENAMED));
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 30, [green]: 70 });
    });
  });

  describe('target groups replaced by a deploy', () => {
    const v2 = () => props({ BlueTargetGroupArn: newBlue, GreenTargetGroupArn: newGreen });
    const register = (targetGroupArn: string, ip: string) => fakes.aws.alb.registerTargets({ TargetGroupArn: targetGroupArn, Targets: [{ Id: ip }] });
    const history = (ruleArn: string) => fakes.aws.alb.weightHistory(ruleArn).map((h) => h.weights);

    test('attaches the new target groups at weight 0 and moves the weights only once they have healthy targets', async () => {
      const ruleArn = splitRule();
      // The new services register; ALB health-checks them only once a rule forwards to their target groups.
      register(newBlue, '10.0.1.10');
      register(newGreen, '10.0.1.20');
      const started = fakes.clock.now();
      await expect(handler(update(ruleArn, v2()))).resolves.toEqual({ PhysicalResourceId: ruleArn, Data: { RuleArn: ruleArn } });
      expect(alb.weights(ruleArn)).toEqual({ [newBlue]: 30, [newGreen]: 70 });
      expect(history(ruleArn).slice(1)).toEqual([
        { [blue]: 30, [green]: 70, [newBlue]: 0, [newGreen]: 0 }, // attached: production still on the old target groups
        { [newBlue]: 30, [newGreen]: 70 }, // moved once healthy
      ]);
      // ALB's default health check: 5 checks 30 s apart before a target is healthy.
      const moved = fakes.aws.alb.weightHistory(ruleArn)[2].time;
      expect(moved - started).toBeGreaterThanOrEqual(5 * 30 * 1000);
    });

    test('fails when they get no healthy targets in time, production never having left the old target groups; the rollback detaches them', async () => {
      const ruleArn = splitRule();
      const started = fakes.clock.now();
      await expect(handler(update(ruleArn, v2()))).rejects.toMatchObject({
        name: ErrorName.TARGETS_UNHEALTHY,
        message: expect.stringContaining(newBlue),
      });
      expect(fakes.clock.now() - started).toBeLessThanOrEqual(TARGET_HEALTH_WAIT_MS);
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 30, [green]: 70, [newBlue]: 0, [newGreen]: 0 });
      // CloudFormation rolls the update back: an Update with the properties swapped.
      await expect(handler(update(ruleArn, props(), v2()))).resolves.toEqual({ PhysicalResourceId: ruleArn, Data: { RuleArn: ruleArn } });
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 30, [green]: 70 });
      expect(history(ruleArn).filter((w) => w[newBlue] > 0 || w[newGreen] > 0)).toEqual([]);
    });

    test('an idle color\'s new target group (weight 0) is not waited for', async () => {
      const ruleArn = alb.addRule(alb.listenerArn, LIVE_PRIORITY, [PATH_ALL], [forwardTo({ [blue]: 100, [green]: 0 })]);
      await handler(update(ruleArn, props({ GreenTargetGroupArn: newGreen })));
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 100, [newGreen]: 0 });
    });
  });

  describe('a live rule deleted out of band', () => {
    test('the next deploy recreates it with the initial color at 100%, under the same physical id', async () => {
      const { PhysicalResourceId: ruleArn } = await handler(create(props({ InitialColor: 'green' })));
      alb.removeRule(ruleArn!);
      const result = await handler(update(ruleArn!, props({ InitialColor: 'green', StickinessSeconds: '60' }), props({ InitialColor: 'green' })));
      expect(result.PhysicalResourceId).toBe(ruleArn);
      const recreated = (result as { Data: { RuleArn: string } }).Data.RuleArn;
      expect(recreated).not.toBe(ruleArn);
      expect(fakes.aws.alb.forwardWeights(alb.listenerArn, { path: '/orders' })).toEqual({ [blue]: 0, [green]: 1 });
      // Later requests find the recreated rule by its claim; the stack's delete removes it.
      await handler(update(ruleArn!, props({ InitialColor: 'green', StickinessSeconds: '120' }), props({ InitialColor: 'green', StickinessSeconds: '60' })));
      expect(alb.rule(recreated)!.Actions![0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 120 });
      await handler(remove(ruleArn!));
      expect(alb.rules(alb.listenerArn)).toEqual([]);
    });

    test('the update rollback (properties swapped) succeeds too: no UPDATE_ROLLBACK_FAILED', async () => {
      const { PhysicalResourceId: ruleArn } = await handler(create());
      alb.removeRule(ruleArn!);
      // The deploy failed before reaching this resource's Update, or that Update failed: CloudFormation rolls it back.
      const rollback = await handler(update(ruleArn!, props(), props({ StickinessSeconds: '60', Priority: '20' })));
      expect(rollback.PhysicalResourceId).toBe(ruleArn);
      expect(fakes.aws.alb.forwardWeights(alb.listenerArn, { path: '/orders' })).toEqual({ [blue]: 1, [green]: 0 });
      expect(alb.rules(alb.listenerArn).map((r) => r.Priority)).toEqual(['10']);
    });

    test('an update after the rule was recreated, then its rollback, ends on the old properties', async () => {
      const { PhysicalResourceId: ruleArn } = await handler(create());
      alb.removeRule(ruleArn!);
      await handler(update(ruleArn!, props({ Priority: '20' })));
      await handler(update(ruleArn!, props(), props({ Priority: '20' })));
      expect(alb.rules(alb.listenerArn).map((r) => r.Priority)).toEqual(['10']);
    });
  });

  describe('concurrent writers', () => {
    test('keeps a shift the router makes between the deploy\'s read and its write', async () => {
      const ruleArn = splitRule();
      const fake = fakes.aws.alb;
      const real = fake.describeRules.bind(fake);
      let reads = 0;
      jest.spyOn(fake, 'describeRules').mockImplementation((input) => {
        const out = real(input);
        // After the handler's first read of the rule, a rollout moves the weights to 50/50.
        if (input.RuleArns?.includes(ruleArn) && ++reads === 1) fake.modifyRule({ RuleArn: ruleArn, Actions: [forwardTo({ [blue]: 50, [green]: 50 })] });
        return out;
      });
      await handler(update(ruleArn, props({ StickinessSeconds: '600' })));
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 50, [green]: 50 });
      expect(alb.rule(ruleArn)!.Actions![0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 600 });
    });
  });
});
