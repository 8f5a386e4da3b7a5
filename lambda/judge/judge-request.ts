import { AnalysisConfig, CONFIG_ENV, JudgeConfig, JudgeRequest, METRIC_PERIOD_SECONDS } from '../shared/contracts';
import {
  invalid, optionalNumber, requireAction, requireColor, requireInteger, requireNumber, requireObject, requireString, requireStringArray,
} from '../shared/validate';

const REQUEST = 'Judge request';
const CONFIG = `Judge ${CONFIG_ENV}`;

/** Validates a judge request (INVALID_REQUEST naming the field and the value given). */
export function parseJudgeRequest(event: unknown): JudgeRequest {
  const obj = requireObject(event, REQUEST);
  const action = requireAction(obj, ['checkAlarms', 'judge'] as const, REQUEST);
  if (action === 'checkAlarms') return { action, targetColor: requireColor(obj, 'targetColor', REQUEST) };
  const targetColor = requireColor(obj, 'targetColor', REQUEST);
  const stableColor = requireColor(obj, 'stableColor', REQUEST);
  if (stableColor === targetColor) throw invalid(REQUEST, 'stableColor', `the other color than targetColor "${targetColor}"`, stableColor);
  const bake = requireObject(obj.bake, REQUEST, 'bake');
  const startedAt = bake.startedAt === undefined ? undefined : requireString(bake, 'startedAt', `${REQUEST} bake`);
  if (startedAt !== undefined && Number.isNaN(Date.parse(startedAt))) throw invalid(`${REQUEST} bake`, 'startedAt', 'an ISO 8601 time', startedAt);
  return {
    action,
    targetColor,
    stableColor,
    bake: {
      passes: requireInteger(bake, 'passes', { min: 0 }, `${REQUEST} bake`),
      required: requireInteger(bake, 'required', { min: 1 }, `${REQUEST} bake`),
      ...(startedAt === undefined ? {} : { startedAt }),
    },
  };
}

/** Alarm names: duplicates are harmless (each alarm is described once). */
const ALARM_NAMES = { unique: false } as const;
/** Thresholds and factors are finite and never negative. */
const NON_NEGATIVE = { min: 0 } as const;

/** Validates the judge's configuration. */
export function parseJudgeConfig(raw: unknown): JudgeConfig {
  const obj = requireObject(raw, CONFIG, CONFIG_ENV);
  const byColor = requireObject(obj.alarmsByColor, CONFIG, 'alarmsByColor');
  return {
    alarmsByColor: { blue: requireStringArray(byColor, 'blue', `${CONFIG} alarmsByColor`, ALARM_NAMES), green: requireStringArray(byColor, 'green', `${CONFIG} alarmsByColor`, ALARM_NAMES) },
    sharedAlarms: requireStringArray(obj, 'sharedAlarms', CONFIG, ALARM_NAMES),
    ...(obj.analysis === undefined ? {} : { analysis: parseAnalysis(obj.analysis) }),
    ...(obj.metricDelaySeconds === undefined ? {} : { metricDelaySeconds: requireInteger(obj, 'metricDelaySeconds', { min: 0 }, CONFIG) }),
  };
}

/** A window of whole CloudWatch periods (ALB metrics have one-minute resolution). */
function requireWholeMinutes(obj: Record<string, unknown>, field: string, source: string): number {
  const seconds = requireInteger(obj, field, { min: METRIC_PERIOD_SECONDS }, source);
  if (seconds % METRIC_PERIOD_SECONDS !== 0) throw invalid(source, field, `a multiple of ${METRIC_PERIOD_SECONDS}`, seconds);
  return seconds;
}

function parseAnalysis(raw: unknown): AnalysisConfig {
  const source = `${CONFIG} analysis`;
  const obj = requireObject(raw, CONFIG, 'analysis');
  const targetGroups = requireObject(obj.targetGroups, source, 'targetGroups');
  const maxLatencyP99Ms = optionalNumber(obj, 'maxLatencyP99Ms', NON_NEGATIVE, source);
  const latencyBaselineFactor = optionalNumber(obj, 'latencyBaselineFactor', NON_NEGATIVE, source);
  return {
    loadBalancer: requireString(obj, 'loadBalancer', source),
    targetGroups: { blue: requireString(targetGroups, 'blue', `${source} targetGroups`), green: requireString(targetGroups, 'green', `${source} targetGroups`) },
    windowSeconds: requireWholeMinutes(obj, 'windowSeconds', source),
    minRequests: requireInteger(obj, 'minRequests', { min: 0 }, source),
    maxErrorRatePercent: requireNumber(obj, 'maxErrorRatePercent', NON_NEGATIVE, source),
    errorRateBaselineFactor: requireNumber(obj, 'errorRateBaselineFactor', NON_NEGATIVE, source),
    ...(maxLatencyP99Ms === undefined ? {} : { maxLatencyP99Ms }),
    ...(latencyBaselineFactor === undefined ? {} : { latencyBaselineFactor }),
  };
}
