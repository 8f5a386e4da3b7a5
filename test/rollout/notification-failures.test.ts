import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NOTIFICATION_FAILURES_METRIC, RolloutEvent } from '../../lambda/shared/contracts';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import type { CallRecord } from '../../rehearsal/fakes';
import { rehearse } from '../../rehearsal/rehearse';
import { network, rollout } from '../constructs/fixtures';

/** A short release whose SNS publishes all fail as they do when the role may not use the topic's KMS key. */
async function releaseWithFailingNotifications() {
  const f = network();
  const r = rollout(f, { strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(2) }) });
  let calls: CallRecord[] = [];
  const result = await rehearse(f.stack, {
    faults: [{ service: 'sns', command: 'Publish', error: 'KMSAccessDeniedException', times: Infinity,
      message: 'User is not authorized to perform kms:GenerateDataKey on the topic key' }],
    inspect: (world) => { calls = [...world.simulation.aws.calls]; },
  });
  return { r, result, calls };
}

describe('rollout notifications', () => {
  test('a notification that fails after its retries is counted as NotificationFailures for the service, and the rollout goes on', async () => {
    const { r, result, calls } = await releaseWithFailingNotifications();
    expect(result.summary.outcome).toBe('RELEASED');
    const publishes = calls.filter((c) => c.service === 'sns' && c.command === 'Publish');
    expect(publishes.length).toBeGreaterThan(0);
    expect(publishes.every((c) => c.error)).toBe(true);
    const counted = calls.filter((c) => c.service === 'cloudwatch' && c.command === 'PutMetricData' && !c.error
      && JSON.stringify(c.input).includes(`"MetricName":"${NOTIFICATION_FAILURES_METRIC}"`));
    // Started, one step completed, Completed: each one failed notification, each one counted.
    const notified = result.summary.events.filter((e) => [RolloutEvent.STARTED, RolloutEvent.STEP_COMPLETED, RolloutEvent.COMPLETED].includes(e.detailType as never));
    expect(notified.length).toBe(3);
    expect(counted.length).toBe(notified.length);
    expect((counted[0].input as any).MetricData[0]).toMatchObject({ Dimensions: [{ Name: 'Service', Value: r.serviceName }], Value: 1, Unit: 'Count' });
    expect(r.metricNotificationFailures().metricName).toBe(NOTIFICATION_FAILURES_METRIC);
  });

  test('the state machine may publish to the KMS-encrypted topic: kms:GenerateDataKey* and kms:Decrypt on its key', () => {
    const f = network();
    const r = rollout(f);
    const t = Template.fromStack(f.stack);
    const roleId = f.stack.getLogicalId((r.stateMachine as sfn.StateMachine).role.node.defaultChild as any);
    const keyId = Object.keys(t.findResources('AWS::KMS::Key'))[0];
    const statements = Object.values<any>(t.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((ref: any) => ref.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const onKey = statements.filter((s) => JSON.stringify(s.Resource).includes(keyId)).flatMap((s) => [s.Action].flat());
    expect(onKey).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
  });
});
