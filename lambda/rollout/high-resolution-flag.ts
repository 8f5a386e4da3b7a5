import { Color, StateTable } from '../shared/contracts';

/**
 * The attribute names, on the service's state item, of the high-resolution alarm flag of `color`: the release-alarm
 * handler sets it (release-alarm.ts), the state machine's event-driven bake refuses to wait while it names the running
 * rollout (BAKE_TOKEN_WRITE in contracts.ts, lib/private/rollout-definition/bake.ts).
 */
export function highResolutionAlarmAttributes(color: Color): { owner: string; reason: string } {
  return { owner: `${StateTable.HIGH_RESOLUTION_ALARM_OWNER_PREFIX}${color}`, reason: `${StateTable.HIGH_RESOLUTION_ALARM_REASON_PREFIX}${color}` };
}
