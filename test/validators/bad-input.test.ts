import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { BlueGreenRouting, ProgressiveRollout, RolloutStrategy } from '../../lib';
import { SchemaMigration } from '../../lib/database/schema-migration';
import { Migration } from '../../lambda/database/types';
import { network, rollout, routing, testApp } from '../constructs/fixtures';

/** Input that used to synthesize and fail on AWS (issue 9, defect 10): each refused at synth with the prop, path, value and limit. */
describe('bad input refused at synth', () => {
  test('two BlueGreenRouting on one listener with the same priorities: the clash names both constructs and the priority', () => {
    const f = network();
    routing(f);
    new BlueGreenRouting(f.stack, 'Checkout', { vpc: f.vpc, loadBalancer: f.loadBalancer, listener: f.listener });
    expect(() => f.app.synth()).toThrow(/\[Service\/Checkout\] priority: listener rule priority 50000 \(the production rule \(Custom::ZdtLiveRoute\) of this BlueGreenRouting\) is also taken by the production rule \(Custom::ZdtLiveRoute\) of Service\/Routing/);
  });

  test('two BlueGreenRouting on one listener whose ranges overlap (segment rule against a test route) clash; 4 apart is fine', () => {
    const f = network();
    routing(f, { priority: 100 });
    new BlueGreenRouting(f.stack, 'Checkout', { vpc: f.vpc, loadBalancer: f.loadBalancer, listener: f.listener, priority: 102 });
    expect(() => f.app.synth()).toThrow(/priority 99 \(the segment rule \(created at run time by segment-first rollouts\) of this BlueGreenRouting\) is also taken by the blue test route of Service\/Checkout/);
    const g = network();
    routing(g, { priority: 100 });
    new BlueGreenRouting(g.stack, 'Checkout', { vpc: g.vpc, loadBalancer: g.loadBalancer, listener: g.listener, priority: 104 });
    expect(() => g.app.synth()).not.toThrow();
  });

  test('a user\'s own listener rule at a priority the routing takes clashes, in another stack too', () => {
    const f = network();
    routing(f, { priority: 200 });
    const other = new Stack(f.app, 'Admin', { env: { region: 'us-east-1' } });
    new elbv2.ApplicationListenerRule(other, 'AdminRule', {
      listener: f.listener, priority: 199, conditions: [elbv2.ListenerCondition.pathPatterns(['/admin/*'])],
      action: elbv2.ListenerAction.fixedResponse(403),
    });
    expect(() => f.app.synth()).toThrow(/priority 199 \(the segment rule .*\) is also taken by the listener rule of Admin\/AdminRule/);
  });

  test('two BlueGreenRouting on different listeners may share a priority', () => {
    const f = network();
    routing(f);
    const https = f.loadBalancer.addListener('Other', { port: 8080, protocol: elbv2.ApplicationProtocol.HTTP, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    new BlueGreenRouting(f.stack, 'Checkout', { vpc: f.vpc, loadBalancer: f.loadBalancer, listener: https });
    expect(() => f.app.synth()).not.toThrow();
  });

  test('two rollouts on one routing are refused, naming both: their locks and live colors would be separate, so both could move the same weights at once', () => {
    const f = network();
    const shared = routing(f);
    new ProgressiveRollout(f.stack, 'Rollout', { routing: shared, serviceName: 'web' });
    new ProgressiveRollout(f.stack, 'Hotfix', { routing: shared, serviceName: 'web-hotfix', strategy: RolloutStrategy.allAtOnce() });
    expect(() => f.app.synth()).toThrow(/\[Service\/Hotfix\] routing: the routing Service\/Routing is also driven by the rollout Service\/Rollout/);
  });

  test('two rollouts on one imported routing (the same production rule) are refused too', () => {
    const f = network();
    const own = routing(f);
    new ProgressiveRollout(f.stack, 'Rollout', { routing: own, serviceName: 'web' });
    const other = new Stack(f.app, 'Ops', { env: { region: 'us-east-1' } });
    const imported = BlueGreenRouting.fromBlueGreenRoutingAttributes(other, 'Imported', {
      listener: f.listener, loadBalancer: f.loadBalancer, blueTargetGroup: own.blueTargetGroup, greenTargetGroup: own.greenTargetGroup,
      liveRuleArn: own.liveRuleArn, priority: own.priority,
    });
    new ProgressiveRollout(other, 'Rollout', { routing: imported, serviceName: 'web-ops' });
    expect(() => f.app.synth()).toThrow(/\[Ops\/Rollout\] routing: .*production rule .* is also driven by the rollout Service\/Rollout/);
  });

  test('two rollouts with the same serviceName in one account and region are refused, naming both', () => {
    const f = network();
    rollout(f, { serviceName: 'web' });
    const second = new Stack(f.app, 'Second', { env: { region: 'us-east-1' } });
    const vpc = new ec2.Vpc(second, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const lb = new elbv2.ApplicationLoadBalancer(second, 'Lb', { vpc });
    const listener = lb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    new ProgressiveRollout(second, 'Rollout', { routing: new BlueGreenRouting(second, 'Routing', { vpc, loadBalancer: lb, listener }), serviceName: 'web' });
    expect(() => f.app.synth()).toThrow(/\[Second\/Rollout\] serviceName "web" is also the serviceName of the rollout Service\/Rollout in the same account and region/);
  });

  test('the same serviceName in two regions is two services', () => {
    const app = testApp();
    for (const region of ['us-east-1', 'eu-west-1']) {
      const stack = new Stack(app, `Web-${region}`, { env: { region } });
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
      const lb = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc });
      const listener = lb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
      new ProgressiveRollout(stack, 'Rollout', { routing: new BlueGreenRouting(stack, 'Routing', { vpc, loadBalancer: lb, listener }), serviceName: 'web' });
    }
    expect(() => app.synth()).not.toThrow();
  });

  test.each([
    ['500 ms', Duration.millis(500), /\[Service\/Routing\] stickiness must be from 1 second to 7 days, got 500 millis/],
    ['8 days', Duration.days(8), /\[Service\/Routing\] stickiness must be from 1 second to 7 days, got 8 days/],
    ['1.5 s', Duration.millis(1500), /\[Service\/Routing\] stickiness must be a whole multiple of 1 second, got 1 second 500 millis/],
  ])('stickiness of %s is refused with our message, not Duration\'s', (_, stickiness, message) => {
    const f = network();
    expect(() => routing(f, { stickiness })).not.toThrow();
    expect(() => f.app.synth()).toThrow(message);
  });

  test('a plan longer than a Standard execution\'s year (a 400-day bake) is refused, naming the props', () => {
    const f = network();
    rollout(f, { strategy: RolloutStrategy.allAtOnce({ bake: Duration.days(400) }) });
    expect(() => f.app.synth()).toThrow(/\[Service\/Rollout\] strategy: the rollout's plan may last 60\d\.\d days .*a Standard Step Functions execution lasts at most 365 days: shorten the bakes \(strategy\) or pauseTimeout/);
    const ok = network();
    rollout(ok, { strategy: RolloutStrategy.allAtOnce({ bake: Duration.days(200) }) });
    expect(() => ok.app.synth()).not.toThrow();
  });

  test('a migration that outgrows Lambda\'s 4 KB environment is refused at synth, naming the prop and the way out', () => {
    const build = (columns: number) => {
      const app = new App({ builtinCloudFormationValidation: false });
      const stack = new Stack(app, 'Db');
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
      const migration: Migration = {
        name: 'widen_users',
        operations: Array.from({ length: columns }, (_, i) => ({ op: 'addColumn', table: 'users', column: { name: `preference_number_${i}`, type: 'text' } }) as never),
      };
      new SchemaMigration(stack, 'Migration', { vpc, secret: new secretsmanager.Secret(stack, 'Secret'), migration });
      return app;
    };
    expect(() => build(3).synth()).not.toThrow();
    expect(() => build(80).synth()).toThrow(/\[Db\/Migration\] migration: the migration is embedded in the handler's configuration; omit the prop and pass a migration this large in each execution's input .*environment \(ZDT_CONFIG\) would be about \d{4,} bytes .*Lambda allows 4096 bytes/);
  });

  test('a judge watching more alarms than its environment holds is refused, naming alarms and addAlarm', () => {
    const f = network();
    const r = rollout(f);
    for (let i = 0; i < 30; i++) {
      r.addAlarm(new cloudwatch.Alarm(f.stack, `Kpi${i}`, { metric: new cloudwatch.Metric({ namespace: 'EverJust', metricName: `Kpi${i}` }), threshold: 1, evaluationPeriods: 1 }));
    }
    expect(() => f.app.synth()).toThrow(/\[Service\/Rollout\] alarms \(and addAlarm\): the judge's configuration names every alarm it watches; combine alarms into a composite alarm/);
  });
});
