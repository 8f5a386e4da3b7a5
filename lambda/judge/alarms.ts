import { AlarmType, DescribeAlarmsCommand, StateValue } from '@aws-sdk/client-cloudwatch';
import { AlarmStatus, CheckAlarmsResult, Color, ErrorName, JudgeConfig, otherColor } from '../shared/contracts';
import { awsCall, ZdtError } from '../shared/errors';
import { cloudWatch } from '../shared/clients';

/** DescribeAlarms accepts at most 100 alarm names per call, and returns at most 100 per page. */
export const ALARMS_PER_CALL = 100;

/** An alarm's state and why it is in it (the reason is for the judge's findings). */
export interface AlarmReading extends AlarmStatus {
  readonly reason?: string;
}

/** The alarms that judge a release of `color`: that color's alarms, then the shared ones (each once). */
export function watchedAlarms(config: JudgeConfig, color: Color): string[] {
  return [...new Set([...(config.alarmsByColor[color] ?? []), ...config.sharedAlarms])];
}

function toState(value: string | undefined): AlarmStatus['state'] {
  if (value === StateValue.ALARM || value === StateValue.OK) return value;
  return StateValue.INSUFFICIENT_DATA;
}

/**
 * The state of every named alarm, metric or composite, in the order given. An alarm that does
 * not exist is an error, never "OK": ALARM_NOT_FOUND lists every missing name.
 */
export async function readAlarms(names: readonly string[]): Promise<AlarmReading[]> {
  const found = new Map<string, AlarmReading>();
  for (let i = 0; i < names.length; i += ALARMS_PER_CALL) {
    const chunk = names.slice(i, i + ALARMS_PER_CALL);
    let nextToken: string | undefined;
    do {
      const out = await awsCall(`DescribeAlarms(${chunk.length} alarms: ${chunk[0]}...)`, () => cloudWatch().send(new DescribeAlarmsCommand({
        AlarmNames: chunk,
        AlarmTypes: [AlarmType.MetricAlarm, AlarmType.CompositeAlarm],
        MaxRecords: ALARMS_PER_CALL,
        NextToken: nextToken,
      })));
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName) found.set(alarm.AlarmName, { name: alarm.AlarmName, state: toState(alarm.StateValue), reason: alarm.StateReason });
      }
      nextToken = out.NextToken;
    } while (nextToken);
  }
  const missing = names.filter((n) => !found.has(n));
  if (missing.length > 0) {
    throw new ZdtError(ErrorName.ALARM_NOT_FOUND, `${missing.length} of the ${names.length} alarm(s) the judge watches do not exist in CloudWatch: ${missing.join(', ')}. Every alarm in the judge's configuration must exist; a missing alarm is never treated as OK.`);
  }
  return names.map((n) => found.get(n)!);
}

/** The stable color's own alarms: they judge its health as a baseline (a degraded baseline holds the step). */
export function baselineAlarms(config: JudgeConfig, stableColor: Color): string[] {
  return [...new Set(config.alarmsByColor[stableColor] ?? [])];
}

/** ALARM_NOT_FOUND unless every alarm that judges `targetColor`, or the other color as its baseline, exists. */
export async function checkAlarms(config: JudgeConfig, targetColor: Color): Promise<CheckAlarmsResult> {
  const watched = watchedAlarms(config, targetColor);
  const baseline = baselineAlarms(config, otherColor(targetColor)).filter((n) => !watched.includes(n));
  const readings = await readAlarms([...watched, ...baseline]);
  return { alarms: readings.map(({ name, state }) => ({ name, state })) };
}
