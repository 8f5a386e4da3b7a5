import 'aws-sdk-client-mock-jest';
import {
  CreateRuleCommand, DeleteRuleCommand, ModifyRuleCommand, SetRulePrioritiesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ErrorName, LiveRouteProperties } from '../../lambda/shared/contracts';
import { handler, LiveRouteEvent } from '../../lambda/routing/live-route-handler';
import { BLUE_TG, FakeAlb, forwardTo, GREEN_TG, LISTENER, OTHER_LISTENER, PATH_ALL, tgArn } from './support/fake-alb';
import { fixedClock } from './support/env';

const NEW_BLUE_TG = tgArn('web-blue-v2');
const NEW_GREEN_TG = tgArn('web-green-v2');
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:111122223333:function:provider';

let alb: FakeAlb;
let clock: ReturnType<typeof fixedClock>;

function props(overrides: Partial<LiveRouteProperties> = {}): LiveRouteProperties & { ServiceToken: string } {
  return {
    ServiceToken: SERVICE_TOKEN,
    ListenerArn: LISTENER,
    Priority: '10',
    BlueTargetGroupArn: BLUE_TG,
    GreenTargetGroupArn: GREEN_TG,
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
  return alb.addRule(LISTENER, { Priority: '10', Conditions: [PATH_ALL], Actions: [forwardTo({ [BLUE_TG]: 30, [GREEN_TG]: 70 })] });
}

beforeEach(() => {
  alb = new FakeAlb();
  clock = fixedClock();
});
afterEach(() => {
  alb.mock.restore();
  clock.restore();
});

describe('Live route custom resource', () => {
  describe('create', () => {
    test('creates the rule with all traffic on the initial color, the conditions and the stickiness', async () => {
      const result = await handler(create(props({ InitialColor: 'green', StickinessSeconds: '300' })));
      const ruleArn = result.PhysicalResourceId!;
      expect(result).toEqual({ PhysicalResourceId: ruleArn, Data: { RuleArn: ruleArn } });
      const rule = alb.rule(ruleArn)!;
      expect(rule.Priority).toBe('10');
      expect(rule.Conditions![0].PathPatternConfig!.Values).toEqual(['/*']);
      expect(alb.weights(ruleArn)).toEqual({ [BLUE_TG]: 0, [GREEN_TG]: 100 });
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
      expect(alb.mock).not.toHaveReceivedCommand(CreateRuleCommand);
      expect(alb.mock).not.toHaveReceivedCommand(ModifyRuleCommand);
      expect(alb.weights(existing)).toEqual({ [BLUE_TG]: 30, [GREEN_TG]: 70 });
    });

    test('refuses a priority held by a rule that forwards to other target groups', async () => {
      const foreign = tgArn('another-service');
      alb.addRule(LISTENER, { Priority: '10', Conditions: [PATH_ALL], Actions: [forwardTo({ [foreign]: 1 })] });
      await expect(handler(create())).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringMatching(new RegExp(`priority 10 .*${foreign}`)),
      });
      expect(alb.mock).not.toHaveReceivedCommand(CreateRuleCommand);
    });

    test.each([
      [{ Priority: 'ten' }, 'Priority', '"ten"'],
      [{ Priority: '0' }, 'Priority', '"0"'],
      [{ StickinessSeconds: '-5' }, 'StickinessSeconds', '"-5"'],
      [{ InitialColor: 'red' as never }, 'InitialColor', '"red"'],
      [{ Conditions: '{not json' }, 'Conditions', '"{not json"'],
      [{ Conditions: '[{"Values":["/*"]}]' }, 'Conditions', 'Values'],
      [{ GreenTargetGroupArn: BLUE_TG }, 'GreenTargetGroupArn', BLUE_TG],
    ])('refuses properties %j with INVALID_REQUEST naming the property', async (overrides, field, given) => {
      const error = await handler(create(props(overrides))).catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorName.INVALID_REQUEST });
      expect((error as Error).message).toContain(`"${field}"`);
      expect((error as Error).message).toContain(given);
      expect(alb.mock).not.toHaveReceivedCommand(CreateRuleCommand);
    });
  });

  describe('update', () => {
    const HOST_AND_PATH = JSON.stringify([
      { Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } },
    ]);

    test.each<[string, Partial<LiveRouteProperties>]>([
      ['the target group ARNs', { BlueTargetGroupArn: NEW_BLUE_TG, GreenTargetGroupArn: NEW_GREEN_TG }],
      ['the conditions', { Conditions: HOST_AND_PATH }],
      ['the stickiness', { StickinessSeconds: '600' }],
      ['the initial color', { InitialColor: 'green' as const }],
      ['the initial color back to blue', { InitialColor: 'blue' as const }],
      ['everything at once', { BlueTargetGroupArn: NEW_BLUE_TG, GreenTargetGroupArn: NEW_GREEN_TG, Conditions: HOST_AND_PATH, StickinessSeconds: '600', InitialColor: 'green' as const }],
    ])('a deploy that changes %s keeps live traffic split 30/70 by color', async (_what, changes) => {
      const ruleArn = splitRule();
      const next = props(changes);
      const result = await handler(update(ruleArn, next, props({ InitialColor: changes.InitialColor === 'blue' ? 'green' : 'blue' })));
      expect(result).toEqual({ PhysicalResourceId: ruleArn, Data: { RuleArn: ruleArn } });
      expect(alb.weights(ruleArn)).toEqual({ [next.BlueTargetGroupArn]: 30, [next.GreenTargetGroupArn]: 70 });
    });

    test('re-points the rule at the new target groups, conditions and stickiness', async () => {
      const ruleArn = splitRule();
      await handler(update(ruleArn, props({ BlueTargetGroupArn: NEW_BLUE_TG, GreenTargetGroupArn: NEW_GREEN_TG, Conditions: HOST_AND_PATH, StickinessSeconds: '600' })));
      const rule = alb.rule(ruleArn)!;
      expect(rule.Conditions!.map((c) => c.Field)).toEqual(['host-header', 'path-pattern']);
      expect(rule.Conditions![1].PathPatternConfig!.Values).toEqual(['/api/*']);
      expect(rule.Actions![0].ForwardConfig!.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 600 });
      expect(alb.mock).toHaveReceivedCommandTimes(ModifyRuleCommand, 1);
    });

    test('writes only the part that differs', async () => {
      const ruleArn = splitRule();
      await handler(update(ruleArn, props({ StickinessSeconds: '60' })));
      const [modify] = alb.mock.commandCalls(ModifyRuleCommand);
      expect(modify.args[0].input.Actions).toBeDefined();
      expect(modify.args[0].input).not.toHaveProperty('Conditions');
    });

    test('writes nothing when only the initial color or the service token changed', async () => {
      const ruleArn = splitRule();
      await handler(update(ruleArn, { ...props({ InitialColor: 'green' }), ServiceToken: `${SERVICE_TOKEN}-v2` }));
      expect(alb.mock).not.toHaveReceivedCommand(ModifyRuleCommand);
      expect(alb.mock).not.toHaveReceivedCommand(SetRulePrioritiesCommand);
      expect(alb.mock).not.toHaveReceivedCommand(CreateRuleCommand);
    });

    test('changes the priority with SetRulePriorities and keeps the weights', async () => {
      const ruleArn = splitRule();
      await handler(update(ruleArn, props({ Priority: '20' })));
      expect(alb.mock).toHaveReceivedCommandWith(SetRulePrioritiesCommand, { RulePriorities: [{ RuleArn: ruleArn, Priority: 20 }] });
      expect(alb.mock).not.toHaveReceivedCommand(ModifyRuleCommand);
      expect(alb.rule(ruleArn)!.Priority).toBe('20');
      expect(alb.weights(ruleArn)).toEqual({ [BLUE_TG]: 30, [GREEN_TG]: 70 });
    });

    test('keeps the weights when a retried update finds the rule already re-pointed', async () => {
      const ruleArn = alb.addRule(LISTENER, { Priority: '10', Conditions: [PATH_ALL], Actions: [forwardTo({ [NEW_BLUE_TG]: 30, [NEW_GREEN_TG]: 70 })] });
      await handler(update(ruleArn, props({ BlueTargetGroupArn: NEW_BLUE_TG, GreenTargetGroupArn: NEW_GREEN_TG })));
      expect(alb.mock).not.toHaveReceivedCommand(ModifyRuleCommand);
      expect(alb.weights(ruleArn)).toEqual({ [NEW_BLUE_TG]: 30, [NEW_GREEN_TG]: 70 });
    });

    test('moves to a new listener with a new rule carrying the current weights by color', async () => {
      const ruleArn = splitRule();
      const result = await handler(update(ruleArn, props({ ListenerArn: OTHER_LISTENER, BlueTargetGroupArn: NEW_BLUE_TG, GreenTargetGroupArn: NEW_GREEN_TG })));
      const newArn = result.PhysicalResourceId!;
      expect(newArn).not.toBe(ruleArn);
      expect(result).toEqual({ PhysicalResourceId: newArn, Data: { RuleArn: newArn } });
      expect(alb.listenerRules(OTHER_LISTENER).map((r) => r.RuleArn)).toEqual([newArn]);
      expect(alb.weights(newArn)).toEqual({ [NEW_BLUE_TG]: 30, [NEW_GREEN_TG]: 70 });
      expect(alb.weights(ruleArn)).toEqual({ [BLUE_TG]: 30, [GREEN_TG]: 70 });
    });

    test('refuses with ROUTE_INVALID when the rule is gone, rather than guessing the weights', async () => {
      const ruleArn = splitRule();
      alb.removeRule(ruleArn);
      await expect(handler(update(ruleArn, props({ StickinessSeconds: '60' })))).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringContaining(ruleArn),
      });
      expect(alb.mock).not.toHaveReceivedCommand(CreateRuleCommand);
    });

    test('refuses with ROUTE_INVALID when the rule forwards to a target group of neither color', async () => {
      const foreign = tgArn('hand-edited');
      const ruleArn = alb.addRule(LISTENER, { Priority: '10', Conditions: [PATH_ALL], Actions: [forwardTo({ [BLUE_TG]: 50, [foreign]: 50 })] });
      await expect(handler(update(ruleArn, props({ StickinessSeconds: '60' })))).rejects.toMatchObject({
        name: ErrorName.ROUTE_INVALID,
        message: expect.stringContaining(foreign),
      });
      expect(alb.mock).not.toHaveReceivedCommand(ModifyRuleCommand);
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
      expect(alb.mock).toHaveReceivedCommand(DeleteRuleCommand);
    });

    test('succeeds without calling ALB for a physical id that is not a rule ARN (a create that failed)', async () => {
      await expect(handler(remove('req-1'))).resolves.toEqual({ PhysicalResourceId: 'req-1' });
      expect(alb.mock).not.toHaveReceivedCommand(DeleteRuleCommand);
    });
  });
});
