import { DescribeTargetHealthCommand, TargetHealthStateEnum } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Color, ErrorName, RouterCheckTargetsResult } from '../shared/contracts';
import { awsCall, ZdtError } from '../shared/errors';
import { log } from '../shared/log';
import { elbv2 } from './elbv2';

/** Default share of registered targets that must be healthy before traffic moves to a color. */
export const DEFAULT_MIN_HEALTHY_PERCENT = 100;

/** Percentages are out of this. */
const PERCENT = 100;

/** Target states that mean "on its way out or not serving this target group": not counted as registered. */
const NOT_REGISTERED: ReadonlySet<string> = new Set([
  TargetHealthStateEnum.DRAINING,
  TargetHealthStateEnum.UNHEALTHY_DRAINING,
  TargetHealthStateEnum.UNUSED,
]);

/**
 * Refuses (TARGETS_UNHEALTHY) unless the color's target group has registered targets, at least
 * one healthy, and at least `minHealthyPercent` of the registered ones healthy. Registered means
 * any state but draining and unused; healthy means the state `healthy`.
 */
export async function checkTargets(targetGroupArn: string, color: Color, minHealthyPercent = DEFAULT_MIN_HEALTHY_PERCENT): Promise<RouterCheckTargetsResult> {
  const out = await awsCall(`DescribeTargetHealth(${targetGroupArn})`, () =>
    elbv2().send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })));
  const states = (out.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State ?? TargetHealthStateEnum.UNAVAILABLE);
  const registered = states.filter((s) => !NOT_REGISTERED.has(s)).length;
  const healthy = states.filter((s) => s === TargetHealthStateEnum.HEALTHY).length;
  const result: RouterCheckTargetsResult = { color, healthy, registered };
  const refuse = (why: string) => new ZdtError(ErrorName.TARGETS_UNHEALTHY,
    `Target group ${targetGroupArn} (${color}) ${why}: ${healthy}/${registered} registered targets healthy; traffic moves to ${color} only when at least one target is registered and healthy and at least ${minHealthyPercent}% of the registered targets are healthy`);
  if (registered === 0 && states.some((st) => st === TargetHealthStateEnum.UNUSED)) {
    throw refuse('has targets, but they are unused: no listener rule of the load balancer forwards to the target group');
  }
  if (registered === 0) throw refuse('has no registered targets');
  if (healthy === 0) throw refuse('has no healthy targets');
  if ((healthy * PERCENT) / registered < minHealthyPercent) throw refuse(`is below ${minHealthyPercent}% healthy`);
  log('info', 'targets healthy', { targetGroupArn, color, healthy, registered, minHealthyPercent });
  return result;
}
