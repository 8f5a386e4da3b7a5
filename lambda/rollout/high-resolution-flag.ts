import { Color, StateTable } from '../shared/contracts';

/**
 * The attribute names, on the service's state item, of the high-resolution alarm flag of `color`: the release-alarm
 * handler sets it (release-alarm.ts), the lock's 'bake' refuses to wait while it names the running rollout (lock.ts).
 * A module of its own, so that neither handler carries the other's SDK calls.
 */
export function highResolutionAlarmAttributes(color: Color): { owner: string; reason: string } {
  return { owner: `${StateTable.HIGH_RESOLUTION_ALARM_OWNER_PREFIX}${color}`, reason: `${StateTable.HIGH_RESOLUTION_ALARM_REASON_PREFIX}${color}` };
}
