import { ModifyRuleInput, SetRulePrioritiesInput } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ErrorName, LiveRouteProperties } from '../../lambda/shared/contracts';
import { handler, LiveRouteEvent } from '../../lambda/routing/live-route-handler';
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

const create = (p = props()): LiveRouteEvent => ({ RequestType: 'Create', ResourceProperties: p, LogicalResourceId: 'LiveRoute', RequestId: 'req-1' });
const update = (ruleArn: string, next: ReturnType<typeof props>, old = props()): LiveRouteEvent => ({
  RequestType: 'Update', PhysicalResourceId: ruleArn, ResourceProperties: next, OldResourceProperties: old,
});
const remove = (physicalId: string): LiveRouteEvent => ({ RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: props() });

/** A live rule split 30% blue / 70% green, as a rollout may leave it. */
function splitRule(): string {
  return alb.addRule(alb.listenerArn, LIVE_PRIORITY, [PATH_ALL], [forwardTo({ [blue]: 30, [green]: 70 })]);
}

const calls = (command: string) => fakes.aws.callCount('elbv2', command);

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
      const ruleArn = splitRule();
      const changed = changes();
      const next = props(changed);
      const result = await handler(update(ruleArn, next, props({ InitialColor: changed.InitialColor === 'blue' ? 'green' : 'blue' })));
      expect(result).toEqual({ PhysicalResourceId: ruleArn, Data: { RuleArn: ruleArn } });
      expect(alb.weights(ruleArn)).toEqual({ [next.BlueTargetGroupArn]: 30, [next.GreenTargetGroupArn]: 70 });
      expect(fakes.aws.alb.forwardWeights(alb.listenerArn, { host: 'shop.example.com', path: '/api/orders' }))
        .toEqual({ [next.BlueTargetGroupArn]: 0.3, [next.GreenTargetGroupArn]: 0.7 });
    });

    test('re-points the rule at the new target groups, conditions and stickiness', async () => {
      const ruleArn = splitRule();
      await handler(update(ruleArn, props({ BlueTargetGroupArn: newBlue, GreenTargetGroupArn: newGreen, Conditions: HOST_AND_PATH, StickinessSeconds: '600' })));
      const rule = alb.rule(ruleArn)!;
      expect(rule.Conditions!.map((c) => c.Field)).toEqual(['host-header', 'path-pattern']);
      expect(rule.Conditions![1].PathPatternConfig!.Values).toEqual(['/api/*']);
      expect(rule.Actions![0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 600 });
      expect(calls('ModifyRule')).toBe(1);
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
      const result = await handler(update(ruleArn, props({ ListenerArn: alb.otherListenerArn, BlueTargetGroupArn: newBlue, GreenTargetGroupArn: newGreen })));
      const newArn = result.PhysicalResourceId!;
      expect(newArn).not.toBe(ruleArn);
      expect(result).toEqual({ PhysicalResourceId: newArn, Data: { RuleArn: newArn } });
      expect(alb.rules(alb.otherListenerArn).map((r) => r.RuleArn)).toEqual([newArn]);
      expect(alb.weights(newArn)).toEqual({ [newBlue]: 30, [newGreen]: 70 });
      expect(alb.weights(ruleArn)).toEqual({ [blue]: 30, [green]: 70 });
    });

    test('refuses with ROUTE_INVALID when the rule is gone, rather than guessing the weights', async () => {
      const ruleArn = splitRule();
      alb.removeRule(ruleArn);
      await expect(handler(update(ruleArn, props({ StickinessSeconds: '60' })))).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringContaining(ruleArn),
      });
      expect(calls('CreateRule')).toBe(0);
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
      expect(calls('DeleteRule')).toBe(1);
    });

    test('succeeds without calling ALB for a physical id that is not a rule ARN (a create that failed)', async () => {
      await expect(handler(remove('req-1'))).resolves.toEqual({ PhysicalResourceId: 'req-1' });
      expect(calls('DeleteRule')).toBe(0);
    });
  });
});
