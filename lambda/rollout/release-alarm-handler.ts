import { readConfig } from '../shared/config';
import { CONFIG_ENV, ErrorName, ReleaseAlarmConfig, ReleaseAlarmResult } from '../shared/contracts';
import { ZdtError } from '../shared/errors';
import { requireColor, requireObject, requireString } from '../shared/validate';
import { SDK_RETRIES, withRetryPolicy } from '../shared/sdk-retries';
import { AlarmStateChange, onReleaseAlarm } from './release-alarm';

const EVENT = 'Alarm state change event';
const CONFIG = `Release alarm ${CONFIG_ENV}`;

/** Validates the handler's configuration. */
export function parseReleaseAlarmConfig(raw: unknown): ReleaseAlarmConfig {
  const obj = requireObject(raw, CONFIG, CONFIG_ENV);
  if (!Array.isArray(obj.alarms)) throw new ZdtError(ErrorName.INVALID_REQUEST, `${CONFIG}: "alarms" must be a list of { alarmName, color }, got ${JSON.stringify(obj.alarms)}`);
  return {
    tableName: requireString(obj, 'tableName', CONFIG),
    service: requireString(obj, 'service', CONFIG),
    alarms: obj.alarms.map((raw, i) => {
      const alarm = requireObject(raw, `${CONFIG} alarms[${i}]`);
      return { alarmName: requireString(alarm, 'alarmName', `${CONFIG} alarms[${i}]`), color: requireColor(alarm, 'color', `${CONFIG} alarms[${i}]`) };
    }),
  };
}

/** The fields of an EventBridge "CloudWatch Alarm State Change" event (CloudWatch User Guide, "Alarm events and EventBridge"). */
export function parseAlarmStateChange(event: unknown): AlarmStateChange {
  const obj = requireObject(event, EVENT);
  const detail = requireObject(obj.detail, EVENT, 'detail');
  const state = requireObject(detail.state, `${EVENT} detail`, 'state');
  return {
    alarmName: requireString(detail, 'alarmName', `${EVENT} detail`),
    state: requireString(state, 'value', `${EVENT} detail.state`),
    reason: typeof state.reason === 'string' ? state.reason : undefined,
    time: typeof obj.time === 'string' ? obj.time : undefined,
  };
}

async function handle(event: unknown): Promise<ReleaseAlarmResult> {
  return onReleaseAlarm(parseReleaseAlarmConfig(readConfig<unknown>()), parseAlarmStateChange(event));
}

/** Invoked by EventBridge (asynchronously): Lambda retries only minutes apart, so the SDK retries throttling (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(SDK_RETRIES, handle);
