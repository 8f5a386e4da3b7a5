import { setClock } from '../../lambda/shared/clock';
import { Deployer } from '../../rehearsal/deployer';
import { AwsFakes, forwardWeightsOf } from '../../rehearsal/fakes';
import { changeLiveRouteStickiness } from '../../rehearsal/scenarios';
import { selectRollout } from '../../rehearsal/simulation-target';
import { stateMachineOf } from '../../rehearsal/template';
import { VirtualClock } from '../../rehearsal/virtual-clock';
import { synthEverJust } from './scenarios-support';

const stacks = synthEverJust();

describe('Deployer', () => {
  let aws: AwsFakes;
  let restoreClock: () => void;
  const logLevel = process.env.ZDT_LOG_LEVEL;
  beforeEach(() => {
    const clock = new VirtualClock();
    restoreClock = setClock(clock);
    aws = new AwsFakes({ clock }).install();
    process.env.ZDT_LOG_LEVEL = 'silent';
  });
  afterEach(() => {
    aws.restore();
    restoreClock();
    if (logLevel === undefined) delete process.env.ZDT_LOG_LEVEL;
    else process.env.ZDT_LOG_LEVEL = logLevel;
  });

  test('deploys the example app: live route at 100% initial color, services healthy, state machine on real ARNs', async () => {
    const deployer = new Deployer(aws);
    const report = await deployer.deploy(stacks);
    expect(report.created).toEqual(expect.arrayContaining(['EverJust-router/RoutingLiveRouteD7E513F8']));
    const [route] = deployer.liveRoutes();
    const rule = aws.alb.describeRules({ RuleArns: [route.ruleArn] }).Rules![0];
    expect(forwardWeightsOf(rule.Actions!)).toEqual({ [route.targetGroupArns.blue]: 100, [route.targetGroupArns.green]: 0 });
    const health = aws.alb.describeTargetHealth({ TargetGroupArn: route.targetGroupArns.green }).TargetHealthDescriptions!;
    expect(health.map((h) => h.TargetHealth?.State)).toEqual(['healthy', 'healthy']);
    // The router stack also holds the guarded flag rollout's state machine: the traffic rollout is the one selectRollout picks.
    const machine = stateMachineOf(deployer.template('EverJust-router'), selectRollout(stacks).logicalId, deployer.resolverOptions('EverJust-router'));
    expect(JSON.stringify(machine.definition)).toContain(deployer.physicalId('EverJust-router', 'RolloutStateTable148356C9'));
    // The health composite of each color, and the one alarm the flags environment watches (FeatureFlags.rollbackAlarm).
    const composites = aws.cloudwatch.describeAlarms({ AlarmTypes: ['CompositeAlarm'] }).CompositeAlarms ?? [];
    expect(composites.map((a) => a.AlarmName).sort()).toEqual([
      expect.stringMatching(/^EverJustRouterFlagsRollbackAlarm/),
      expect.stringMatching(/^EverJustRouterRolloutBlueHealth/),
      expect.stringMatching(/^EverJustRouterRolloutGreenHealth/),
    ]);
  });

  test('an update of the live route keeps the weights the runtime set', async () => {
    const deployer = new Deployer(aws);
    await deployer.deploy(stacks);
    const [route] = deployer.liveRoutes();
    const forward = (blue: number, green: number) => [{ Type: 'forward' as const, ForwardConfig: { TargetGroups: [
      { TargetGroupArn: route.targetGroupArns.blue, Weight: blue }, { TargetGroupArn: route.targetGroupArns.green, Weight: green }] } }];
    aws.alb.modifyRule({ RuleArn: route.ruleArn, Actions: forward(75, 25) });
    const report = await deployer.update(stacks.map((s) => ({ ...s, template: changeLiveRouteStickiness(s.template, '300') })));
    expect(report.updated).toEqual(['EverJust-router/RoutingLiveRouteD7E513F8']);
    const rule = aws.alb.describeRules({ RuleArns: [route.ruleArn] }).Rules![0];
    const action = rule.Actions!.find((a) => a.Type === 'forward')!;
    expect(forwardWeightsOf(rule.Actions!)).toEqual({ [route.targetGroupArns.blue]: 75, [route.targetGroupArns.green]: 25 });
    expect(action.ForwardConfig?.TargetGroupStickinessConfig?.DurationSeconds).toBe(300);
  });
});
