import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { DefinitionContext, NOTIFY_RETRY } from './context';
import { countMetric } from './tasks';
import { EVENT_SOURCE, NOTIFICATION_FAILURES_METRIC, RolloutEventType } from '../../../lambda/shared/contracts';

/** The states of one notification: enter at `start`, go on from `end`. */
export interface NotifyStates {
  readonly start: sfn.State;
  readonly end: sfn.Pass;
}

function putEvents(ctx: DefinitionContext, id: string, entries: Array<{ type: RolloutEventType; detail: Record<string, unknown> }>): tasks.EventBridgePutEvents {
  const task = new tasks.EventBridgePutEvents(ctx.scope, id, {
    entries: entries.map((e) => ({
      source: EVENT_SOURCE,
      detailType: e.type,
      detail: sfn.TaskInput.fromObject(e.detail),
      eventBus: ctx.props.eventBus,
    })),
    resultPath: sfn.JsonPath.DISCARD,
  });
  task.addRetry({ errors: ['States.ALL'], ...NOTIFY_RETRY });
  return task;
}

function publish(ctx: DefinitionContext, id: string, type: RolloutEventType, detail: Record<string, unknown>): tasks.SnsPublish {
  const task = new tasks.SnsPublish(ctx.scope, id, {
    topic: ctx.props.topic,
    subject: `[cdk-zero-downtime] ${ctx.plan.service}: ${type}`.slice(0, 100),
    message: sfn.TaskInput.fromObject({ event: type, ...detail }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  task.addRetry({ errors: ['States.ALL'], ...NOTIFY_RETRY });
  return task;
}

/**
 * Event to EventBridge (with the `extra` event types first), then the SNS notification. A failure of either (after
 * its retries) does not stop the rollout, a rollback least of all, but it is not silent: it is kept in $.notifyError
 * and counted as the NotificationFailures metric (dimension Service), which
 * ProgressiveRollout.metricNotificationFailures() alarms on.
 */
export function notify(ctx: DefinitionContext, id: string, type: RolloutEventType, detail: Record<string, unknown>,
  extra: RolloutEventType[] = []): NotifyStates {
  const done = new sfn.Pass(ctx.scope, `${id} Sent`);
  const ev = putEvents(ctx, `${id} Event`, [...extra.map((t) => ({ type: t, detail })), { type, detail }]);
  const sms = publish(ctx, `${id} Notification`, type, detail);
  const eventFailed = countMetric(ctx, `${id} Event Failed`, NOTIFICATION_FAILURES_METRIC);
  const smsFailed = countMetric(ctx, `${id} Notification Failed`, NOTIFICATION_FAILURES_METRIC);
  // Counting the failure may fail too (CloudWatch down): then the error stays in $.metricError and the flow goes on.
  eventFailed.addCatch(sms, { resultPath: '$.metricError' });
  smsFailed.addCatch(done, { resultPath: '$.metricError' });
  ev.addCatch(eventFailed, { resultPath: '$.notifyError' });
  eventFailed.next(sms);
  sms.addCatch(smsFailed, { resultPath: '$.notifyError' });
  smsFailed.next(done);
  ev.next(sms).next(done);
  return { start: ev, end: done };
}
