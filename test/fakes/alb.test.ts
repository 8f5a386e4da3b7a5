import {
  AddTagsCommand, CreateListenerCommand, CreateLoadBalancerCommand, CreateRuleCommand, CreateTargetGroupCommand, DeleteRuleCommand,
  DeregisterTargetsCommand, DescribeListenersCommand, DescribeRulesCommand, DescribeTagsCommand, DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand, ModifyRuleCommand, ModifyTargetGroupAttributesCommand,
  PriorityInUseException, RegisterTargetsCommand, RuleCondition, RuleNotFoundException, SetRulePrioritiesCommand, TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsFakes } from '../../rehearsal/fakes';
import { ManualClock } from './manual-clock';
import { expectError } from './expect-error';

const PATH_ALL: RuleCondition[] = [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }];

function forward(weights: Record<string, number>, stickinessSeconds?: number) {
  return [{
    Type: 'forward' as const,
    ForwardConfig: {
      TargetGroups: Object.entries(weights).map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
      ...(stickinessSeconds === undefined ? {} : { TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: stickinessSeconds } }),
    },
  }];
}


describe('FakeAlb', () => {
  let clock: ManualClock;
  let aws: AwsFakes;
  let elb: ElasticLoadBalancingV2Client;
  let lbArn: string;
  let blue: string;
  let green: string;
  let listenerArn: string;
  let liveRuleArn: string;

  async function targetGroup(name: string): Promise<string> {
    const out = await elb.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'ip' }));
    return out.TargetGroups![0].TargetGroupArn!;
  }

  beforeEach(async () => {
    clock = new ManualClock();
    aws = new AwsFakes({ clock }).install();
    elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
    lbArn = (await elb.send(new CreateLoadBalancerCommand({ Name: 'shop', Subnets: ['subnet-a', 'subnet-b'] }))).LoadBalancers![0].LoadBalancerArn!;
    blue = await targetGroup('shop-blue');
    green = await targetGroup('shop-green');
    listenerArn = (await elb.send(new CreateListenerCommand({
      LoadBalancerArn: lbArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
    }))).Listeners![0].ListenerArn!;
    liveRuleArn = (await elb.send(new CreateRuleCommand({
      ListenerArn: listenerArn, Priority: 100, Conditions: PATH_ALL, Actions: forward({ [blue]: 100, [green]: 0 }),
    }))).Rules![0].RuleArn!;
  });

  afterEach(() => aws.restore());

  test('names resources with ARNs in the AWS format', () => {
    expect(lbArn).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer\/app\/shop\/[0-9a-f]{16}$/);
    expect(blue).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/shop-blue\/[0-9a-f]{16}$/);
    expect(listenerArn).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:123456789012:listener\/app\/shop\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
    expect(liveRuleArn).toMatch(/^arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule\/app\/shop\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
    expect(new Set([lbArn, blue, green, listenerArn, liveRuleArn].map((a) => a.slice(-16))).size).toBe(5);
  });

  test('creates the same ids in every run (deterministic)', async () => {
    const again = new AwsFakes({ clock: new ManualClock() });
    const arn = again.alb.createLoadBalancer({ Name: 'shop' }).LoadBalancers![0].LoadBalancerArn;
    expect(arn).toBe(lbArn);
  });

  test('lists a listener\'s rules by priority with the default rule last, page by page', async () => {
    for (const priority of [30, 10, 20]) {
      await elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: priority, Conditions: [{ Field: 'path-pattern', Values: [`/p${priority}`] }], Actions: forward({ [green]: 1 }) }));
    }
    const first = await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, PageSize: 3 }));
    expect(first.Rules!.map((r) => r.Priority)).toEqual(['10', '20', '30']);
    expect(first.NextMarker).toBeDefined();
    const second = await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, PageSize: 3, Marker: first.NextMarker }));
    expect(second.Rules!.map((r) => r.Priority)).toEqual(['100', 'default']);
    expect(second.Rules![1]).toMatchObject({ IsDefault: true, Conditions: [], Actions: [{ Type: 'fixed-response' }] });
    expect(second.NextMarker).toBeUndefined();
    await expectError(elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, PageSize: 401 })), 'ValidationError', /pageSize/);
  });

  test('returns a forward to one target group the way ALB does (TargetGroupArn plus a weight-1 ForwardConfig)', async () => {
    const out = await elb.send(new CreateRuleCommand({
      ListenerArn: listenerArn, Priority: 5, Conditions: [{ Field: 'path-pattern', Values: ['/api/*'] }], Actions: [{ Type: 'forward', TargetGroupArn: blue }],
    }));
    expect(out.Rules![0].Actions).toEqual([{
      Type: 'forward', TargetGroupArn: blue,
      ForwardConfig: { TargetGroups: [{ TargetGroupArn: blue, Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } },
    }]);
    expect(out.Rules![0].Conditions).toEqual([{ Field: 'path-pattern', Values: ['/api/*'], PathPatternConfig: { Values: ['/api/*'] } }]);
  });

  test('refuses a priority that is in use on the listener', async () => {
    const err = await expectError(elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 100, Conditions: PATH_ALL, Actions: forward({ [blue]: 1 }) })),
      'PriorityInUseException', /Priority '100' is currently in use/);
    expect(err).toBeInstanceOf(PriorityInUseException);
    expect((err as PriorityInUseException).$metadata.httpStatusCode).toBe(400);
  });

  test.each([0, 50001, 1.5])('refuses priority %p (ALB allows 1-50000)', async (priority) => {
    await expectError(elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: priority, Conditions: PATH_ALL, Actions: forward({ [blue]: 1 }) })),
      'ValidationError', /between 1 and 50000/);
  });

  test.each([
    ['a weight above 999', { a: 1000, b: 0 }, /between 0 and 999/],
    ['a negative weight', { a: -1, b: 50 }, /between 0 and 999/],
    ['only zero weights', { a: 0, b: 0 }, /at least one target group .* weight greater than 0/i],
  ])('refuses a forward with %s', async (_label, weights, message) => {
    await expectError(elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: weights.a, [green]: weights.b }) })), 'ValidationError', message);
  });

  test('refuses more than 5 target groups in one forward', async () => {
    const groups = [blue, green];
    for (const name of ['tg-3', 'tg-4', 'tg-5', 'tg-6']) groups.push(await targetGroup(name));
    await expectError(elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward(Object.fromEntries(groups.map((g) => [g, 1]))) })),
      'ValidationError', /at most 5 target groups/);
  });

  test('refuses a target group that does not exist', async () => {
    const missing = blue.replace('shop-blue', 'nope');
    const err = await expectError(elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [missing]: 1 }) })), 'TargetGroupNotFoundException');
    expect(err).toBeInstanceOf(TargetGroupNotFoundException);
    expect(err.message).toContain(missing);
  });

  test('refuses more than 5 condition values in a rule', async () => {
    const conditions: RuleCondition[] = [
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-zdt-segment', Values: ['a', 'b', 'c'] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/x', '/y', '/z'] } },
    ];
    await expectError(elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 7, Conditions: conditions, Actions: forward({ [green]: 1 }) })),
      'ValidationError', /'5' condition values.* has 6/);
  });

  test('refuses more than 3 values in one condition, naming the condition', async () => {
    const conditions: RuleCondition[] = [
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-zdt-segment', Values: ['a', 'b', 'c', 'd'] } },
    ];
    await expectError(elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 7, Conditions: conditions, Actions: forward({ [green]: 1 }) })),
      'ValidationError', /'http-header' condition at 'conditions\.1\.member' can only have '3' values; it has 4/);
  });

  test('stores an OIDC client secret, never describes it, and keeps it on ModifyRule with UseExistingClientSecret', async () => {
    const idp = { Issuer: 'https://idp', AuthorizationEndpoint: 'https://idp/a', TokenEndpoint: 'https://idp/t', UserInfoEndpoint: 'https://idp/u', ClientId: 'shop' };
    const withOidc = (config: Record<string, unknown>, weights: Record<string, number>) =>
      [{ Type: 'authenticate-oidc' as const, Order: 1, AuthenticateOidcConfig: { ...idp, ...config } }, { ...forward(weights)[0], Order: 2 }];
    await expectError(elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 8, Conditions: PATH_ALL, Actions: withOidc({}, { [blue]: 1 }) })),
      'ValidationError', /'actions\.1\.member\.authenticateOidcConfig\.clientSecret' or set '.*useExistingClientSecret' to true/);
    await expectError(elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 8, Conditions: PATH_ALL, Actions: withOidc({ UseExistingClientSecret: true }, { [blue]: 1 }) })),
      'ValidationError', /useExistingClientSecret' is true, but the new rule at priority 8 has no authenticate-oidc action with a client secret/);
    const created = (await elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 8, Conditions: PATH_ALL, Actions: withOidc({ ClientSecret: 's3cret' }, { [blue]: 1 }) }))).Rules![0];
    expect(created.Actions![0].AuthenticateOidcConfig).toEqual(idp);
    for (const weights of [{ [blue]: 50, [green]: 50 }, { [green]: 1 }]) {
      await elb.send(new ModifyRuleCommand({ RuleArn: created.RuleArn, Actions: withOidc({ UseExistingClientSecret: true }, weights) }));
    }
    const rule = (await elb.send(new DescribeRulesCommand({ RuleArns: [created.RuleArn!] }))).Rules![0];
    expect(rule.Actions!.map((a) => a.Type)).toEqual(['authenticate-oidc', 'forward']);
    expect(rule.Actions![0].AuthenticateOidcConfig).toEqual(idp);
    await expectError(elb.send(new ModifyRuleCommand({ RuleArn: created.RuleArn, Actions: withOidc({}, { [blue]: 1 }) })), 'ValidationError', /clientSecret/);
  });

  test.each([0, 604801])('refuses a stickiness duration of %p seconds (ALB allows 1-604800)', async (seconds) => {
    await expectError(elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: 50, [green]: 50 }, seconds) })),
      'ValidationError', /durationSeconds.*between 1 and 604800/);
  });

  test('ModifyRule keeps the conditions when only actions are given, and the actions when only conditions are', async () => {
    await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: 70, [green]: 30 }, 3600) }));
    let rule = (await elb.send(new DescribeRulesCommand({ RuleArns: [liveRuleArn] }))).Rules![0];
    expect(rule.Conditions).toEqual([{ Field: 'path-pattern', Values: ['/*'], PathPatternConfig: { Values: ['/*'] } }]);
    expect(rule.Actions![0].ForwardConfig).toEqual({
      TargetGroups: [{ TargetGroupArn: blue, Weight: 70 }, { TargetGroupArn: green, Weight: 30 }],
      TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
    });
    await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }] }));
    rule = (await elb.send(new DescribeRulesCommand({ RuleArns: [liveRuleArn] }))).Rules![0];
    expect(rule.Conditions![0].Field).toBe('host-header');
    expect(rule.Actions![0].ForwardConfig!.TargetGroups!.map((t) => t.Weight)).toEqual([70, 30]);
  });

  test('answers missing rules and listeners with RuleNotFound / ListenerNotFound', async () => {
    const gone = `${liveRuleArn.slice(0, -16)}ffffffffffffffff`;
    const err = await expectError(elb.send(new ModifyRuleCommand({ RuleArn: gone, Actions: forward({ [blue]: 1 }) })), 'RuleNotFoundException');
    expect(err).toBeInstanceOf(RuleNotFoundException);
    await expectError(elb.send(new DescribeRulesCommand({ RuleArns: [liveRuleArn, gone] })), 'RuleNotFoundException', /rules not found/);
    await expectError(elb.send(new DeleteRuleCommand({ RuleArn: gone })), 'RuleNotFoundException');
    await expectError(elb.send(new DescribeRulesCommand({ ListenerArn: `${listenerArn.slice(0, -16)}ffffffffffffffff` })), 'ListenerNotFoundException');
  });

  test('SetRulePriorities swaps priorities atomically and refuses a collision', async () => {
    const other = (await elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 200, Conditions: [{ Field: 'path-pattern', Values: ['/b'] }], Actions: forward({ [green]: 1 }) }))).Rules![0].RuleArn!;
    await elb.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: liveRuleArn, Priority: 200 }, { RuleArn: other, Priority: 100 }] }));
    const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules!;
    expect(rules.map((r) => [r.RuleArn, r.Priority])).toEqual([[other, '100'], [liveRuleArn, '200'], [rules[2].RuleArn, 'default']]);
    await expectError(elb.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: other, Priority: 200 }] })), 'PriorityInUseException');
    expect((await elb.send(new DescribeRulesCommand({ RuleArns: [other] }))).Rules![0].Priority).toBe('100');
  });

  test('deletes rules but never the default rule', async () => {
    const defaultRule = aws.alb.defaultRuleArn(listenerArn);
    await expectError(elb.send(new DeleteRuleCommand({ RuleArn: defaultRule })), 'OperationNotPermittedException');
    await elb.send(new DeleteRuleCommand({ RuleArn: liveRuleArn }));
    const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules!;
    expect(rules.map((r) => r.Priority)).toEqual(['default']);
  });

  test('tracks which load balancer uses a target group, and refuses a second one', async () => {
    const groups = (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [blue] }))).TargetGroups!;
    expect(groups[0].LoadBalancerArns).toEqual([lbArn]);
    const orphan = await targetGroup('orphan');
    expect((await elb.send(new DescribeTargetGroupsCommand({ Names: ['orphan'] }))).TargetGroups![0].LoadBalancerArns).toEqual([]);
    const otherLb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'other' }))).LoadBalancers![0].LoadBalancerArn!;
    await expectError(elb.send(new CreateListenerCommand({ LoadBalancerArn: otherLb, Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: blue }] })),
      'TargetGroupAssociationLimitException');
    await expectError(elb.send(new DescribeTargetGroupsCommand({ Names: ['nope'] })), 'TargetGroupNotFoundException');
    expect(orphan).toBeDefined();
  });

  test('reports target health: initial until the health checks pass, unused when no load balancer routes to the group', async () => {
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: blue, Targets: [{ Id: '10.0.0.1' }, { Id: '10.0.0.2' }] }));
    let health = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: blue }))).TargetHealthDescriptions!;
    expect(health.map((h) => h.TargetHealth!.State)).toEqual(['initial', 'initial']);
    expect(health[0].Target).toMatchObject({ Id: '10.0.0.1', Port: 80 });
    clock.advanceSeconds(30 * 5); // interval x healthy threshold
    health = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: blue }))).TargetHealthDescriptions!;
    expect(health.map((h) => h.TargetHealth!.State)).toEqual(['healthy', 'healthy']);

    const orphan = await targetGroup('orphan');
    aws.alb.setTargetHealth(orphan, { healthy: 2 });
    health = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: orphan }))).TargetHealthDescriptions!;
    expect(health.map((h) => [h.TargetHealth!.State, h.TargetHealth!.Reason])).toEqual([['unused', 'Target.NotInUse'], ['unused', 'Target.NotInUse']]);
  });

  test('setTargetHealth sets the healthy and unhealthy targets of a group', async () => {
    aws.alb.setTargetHealth(green, { healthy: 1, unhealthy: 2 });
    const health = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: green }))).TargetHealthDescriptions!;
    expect(health.map((h) => h.TargetHealth!.State).sort()).toEqual(['healthy', 'unhealthy', 'unhealthy']);
    aws.alb.setTargetHealth(green, { healthy: 0 });
    expect((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: green }))).TargetHealthDescriptions).toEqual([]);
  });

  test('drains deregistered targets for the deregistration delay', async () => {
    aws.alb.setTargetHealth(blue, { healthy: 1 });
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: blue, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '60' }] }));
    const id = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: blue }))).TargetHealthDescriptions![0].Target!.Id!;
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: blue, Targets: [{ Id: id }] }));
    expect((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: blue }))).TargetHealthDescriptions![0].TargetHealth)
      .toMatchObject({ State: 'draining', Reason: 'Target.DeregistrationInProgress' });
    clock.advanceSeconds(60);
    expect((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: blue }))).TargetHealthDescriptions).toEqual([]);
    await expectError(elb.send(new DeregisterTargetsCommand({ TargetGroupArn: blue, Targets: [{ Id: id }] })), 'InvalidTargetException');
  });

  test('splits a request\'s traffic by the first matching rule, then the default action', async () => {
    await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: 75, [green]: 25 }) }));
    await elb.send(new CreateRuleCommand({
      ListenerArn: listenerArn, Priority: 50,
      Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-ZDT-Segment', Values: ['beta*', 'internal'] } }],
      Actions: forward({ [green]: 1 }),
    }));
    expect(aws.alb.forwardWeights(listenerArn, { path: '/cart' })).toEqual({ [blue]: 0.75, [green]: 0.25 });
    expect(aws.alb.forwardWeights(listenerArn, { path: '/cart', headers: { 'x-zdt-segment': 'BETA-testers' } })).toEqual({ [green]: 1 });
    expect(aws.alb.forwardWeights(listenerArn, { path: '/cart', headers: { 'x-zdt-segment': 'premium' } })).toEqual({ [blue]: 0.75, [green]: 0.25 });
    await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Conditions: [{ Field: 'path-pattern', Values: ['/api/*'] }] }));
    expect(aws.alb.forwardWeights(listenerArn, { path: '/index.html' })).toEqual({});
    expect(aws.alb.route(listenerArn, { path: '/index.html' }).priority).toBe('default');
    await elb.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: [{ Type: 'forward', TargetGroupArn: blue }] }));
    expect(aws.alb.forwardWeights(listenerArn, { path: '/index.html' })).toEqual({ [blue]: 1 });
  });

  test('keeps the history of every weight change with its virtual time', async () => {
    const start = clock.now();
    clock.advanceSeconds(60);
    await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: 90, [green]: 10 }) }));
    clock.advanceSeconds(60);
    await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Conditions: PATH_ALL })); // conditions only: no weight change
    await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: 90, [green]: 10 }) })); // same weights
    clock.advanceSeconds(60);
    await elb.send(new DeleteRuleCommand({ RuleArn: liveRuleArn }));
    expect(aws.alb.weightHistory(liveRuleArn)).toEqual([
      { time: start, weights: { [blue]: 100, [green]: 0 } },
      { time: start + 60_000, weights: { [blue]: 90, [green]: 10 } },
      { time: start + 180_000, weights: {}, deleted: true },
    ]);
  });

  describe('lagReads (read-after-write lag of DescribeRules)', () => {
    const liveWeights = async (read: 'arn' | 'listing') => {
      const rules = read === 'arn'
        ? (await elb.send(new DescribeRulesCommand({ RuleArns: [liveRuleArn] }))).Rules!
        : (await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules!.filter((r) => r.RuleArn === liveRuleArn);
      return rules[0].Actions![0].ForwardConfig!.TargetGroups!.map((t) => t.Weight);
    };

    test('shows a rule as it was before the write for the next n reads, by ARN or in its listener\'s listing', async () => {
      aws.alb.lagReads({ rule: liveRuleArn, reads: 2 });
      const written = await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: 70, [green]: 30 }) }));
      expect(written.Rules![0].Actions![0].ForwardConfig!.TargetGroups!.map((t) => t.Weight)).toEqual([70, 30]);
      expect(aws.alb.forwardWeights(listenerArn, { path: '/' })).toEqual({ [blue]: 0.7, [green]: 0.3 });
      expect(await liveWeights('arn')).toEqual([100, 0]);
      expect(await liveWeights('listing')).toEqual([100, 0]);
      expect(await liveWeights('arn')).toEqual([70, 30]);
      expect(await liveWeights('listing')).toEqual([70, 30]);
    });

    test('without a rule, lags the next write to any rule: a created rule is missing, a deleted one still listed', async () => {
      aws.alb.lagReads({ reads: 1 });
      const created = (await elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 5, Conditions: PATH_ALL, Actions: forward({ [green]: 1 }) }))).Rules![0].RuleArn!;
      await expectError(elb.send(new DescribeRulesCommand({ RuleArns: [created] })), 'RuleNotFoundException');
      expect((await elb.send(new DescribeRulesCommand({ RuleArns: [created] }))).Rules![0].Priority).toBe('5');

      aws.alb.lagReads({ reads: 1 });
      await elb.send(new DeleteRuleCommand({ RuleArn: created }));
      const listed = async () => (await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules!.map((r) => r.Priority);
      expect(await listed()).toEqual(['5', '100', 'default']);
      expect(await listed()).toEqual(['100', 'default']);
    });

    test('keeps a lagging rule at its state before the first write, and leaves other rules consistent', async () => {
      aws.alb.lagReads({ rule: liveRuleArn, reads: 2 });
      const other = (await elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 5, Conditions: PATH_ALL, Actions: forward({ [green]: 1 }) }))).Rules![0].RuleArn!;
      expect((await elb.send(new DescribeRulesCommand({ RuleArns: [other] }))).Rules).toHaveLength(1);
      await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: 90, [green]: 10 }) }));
      await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: 50, [green]: 50 }) }));
      expect(await liveWeights('arn')).toEqual([100, 0]);
      expect(await liveWeights('arn')).toEqual([100, 0]);
      expect(await liveWeights('arn')).toEqual([50, 50]);
      await elb.send(new ModifyRuleCommand({ RuleArn: liveRuleArn, Actions: forward({ [blue]: 0, [green]: 100 }) }));
      expect(await liveWeights('arn')).toEqual([0, 100]); // one lag, one write
    });

    test('refuses a lag of fewer than one read', () => {
      expect(() => aws.alb.lagReads({ reads: 0 })).toThrow(/reads must be an integer >= 1, got 0/);
    });
  });

  test('tags resources and answers unknown ones with their not-found error', async () => {
    await elb.send(new AddTagsCommand({ ResourceArns: [blue, liveRuleArn], Tags: [{ Key: 'zdt:color', Value: 'blue' }] }));
    const out = await elb.send(new DescribeTagsCommand({ ResourceArns: [blue, liveRuleArn, listenerArn] }));
    expect(out.TagDescriptions).toEqual([
      { ResourceArn: blue, Tags: [{ Key: 'zdt:color', Value: 'blue' }] },
      { ResourceArn: liveRuleArn, Tags: [{ Key: 'zdt:color', Value: 'blue' }] },
      { ResourceArn: listenerArn, Tags: [] },
    ]);
    await expectError(elb.send(new DescribeTagsCommand({ ResourceArns: [blue.replace('shop-blue', 'gone')] })), 'TargetGroupNotFoundException');
    await expectError(elb.send(new AddTagsCommand({ ResourceArns: [blue], Tags: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] })), 'DuplicateTagKeysException');
  });

  test('lists listeners of a load balancer and refuses a second listener on the same port', async () => {
    const out = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }));
    expect(out.Listeners!.map((l) => l.ListenerArn)).toEqual([listenerArn]);
    await expectError(elb.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: blue }] })), 'DuplicateListenerException');
    await expectError(elb.send(new DescribeListenersCommand({})), 'ValidationError', /listener ARNs or a load balancer ARN/);
  });
});
