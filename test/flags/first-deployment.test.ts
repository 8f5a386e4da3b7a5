import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { setClock } from '../../lambda/shared/clock';
import { FlagsDocument } from '../../lambda/flags';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { Deployer } from '../../rehearsal/deployer';
import { AwsFakes } from '../../rehearsal/fakes';
import { TemplateResolver } from '../../rehearsal/template';
import { VirtualClock } from '../../rehearsal/virtual-clock';
import { network, rollout } from '../constructs/fixtures';

/**
 * AppConfig User Guide, "Monitoring deployments for automatic rollback": a monitored alarm in ALARM or in
 * INSUFFICIENT_DATA during a deployment rolls it back. The flags' first deployment runs in the deploy that creates
 * their rollback alarms; here that deploy goes to the fake CloudWatch (which follows CloudWatch's documented alarm
 * states), and every alarm AppConfig would watch is read as AppConfig would read it.
 */

const flags: FlagsDocument = { version: 1, flags: { 'new-checkout': { enabled: true, default: false } } };
const ROLLBACK_STATES = ['ALARM', 'INSUFFICIENT_DATA'];

async function deployWithQuietAlarms() {
  const f = network();
  const r = rollout(f);
  // A metric alarm of the user's (no data yet: a new metric) and the rollout's health composites.
  const errors = new cloudwatch.Alarm(f.stack, 'CheckoutErrors', {
    metric: new cloudwatch.Metric({ namespace: 'EverJust', metricName: 'CheckoutErrors' }), threshold: 1, evaluationPeriods: 1,
  });
  new FeatureFlags(f.stack, 'Flags', { flags, rollbackAlarms: [...r.alarms, errors] });
  const template = Template(f.stack);
  const clock = new VirtualClock();
  const restoreClock = setClock(clock);
  const aws = new AwsFakes({ clock }).install();
  try {
    const deployer = new Deployer(aws);
    await deployer.deploy([{ stackName: f.stack.stackName, template }]);
    const resolver = new TemplateResolver(deployer.template(f.stack.stackName), deployer.resolverOptions(f.stack.stackName));
    const [env] = resolver.resourcesOfType('AWS::AppConfig::Environment');
    const monitors = (resolver.resourceProperties(env.logicalId).Monitors as Array<{ AlarmArn: string }>).map((m) => m.AlarmArn);
    const stateOf = () => {
      const all = aws.cloudwatch.describeAlarms({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
      const alarms = [...all.MetricAlarms ?? [], ...all.CompositeAlarms ?? []];
      return monitors.map((arn) => ({ arn, state: alarms.find((a) => a.AlarmArn === arn)?.StateValue }));
    };
    // AppConfig's exponential strategy deploys over 20 minutes and bakes 10: the first minutes are the ones at risk.
    const states = [stateOf()];
    clock.advance(5 * 60_000);
    states.push(stateOf());
    const errorsName = deployer.physicalId(f.stack.stackName, f.stack.getLogicalId(errors.node.defaultChild as cloudwatch.CfnAlarm))!;
    aws.cloudwatch.setAlarmState({ AlarmName: errorsName, StateValue: 'ALARM', StateReason: 'test: checkout errors' });
    const afterAlarm = stateOf();
    return { monitors, states, afterAlarm, aws };
  } finally {
    aws.restore();
    restoreClock();
  }
}

function Template(stack: Stack) {
  return (stack.node.root as any).synth().getStackByName(stack.stackName).template;
}

describe('FeatureFlags rollback alarms', () => {
  test('the first flags deployment, in the deploy that creates the alarms, sees no alarm AppConfig would roll back on', async () => {
    const { monitors, states } = await deployWithQuietAlarms();
    expect(monitors.length).toBeGreaterThan(0);
    for (const snapshot of states) {
      for (const { arn, state } of snapshot) {
        expect({ arn, state }).toEqual({ arn, state: expect.not.stringMatching(new RegExp(`^(${ROLLBACK_STATES.join('|')})$`)) });
        expect(state).toBeDefined();
      }
    }
  });

  test('one of the rollback alarms in ALARM still rolls the flags back', async () => {
    const { afterAlarm } = await deployWithQuietAlarms();
    expect(afterAlarm.map((m) => m.state)).toContain('ALARM');
  });
});
