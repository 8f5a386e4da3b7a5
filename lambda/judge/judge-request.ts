import { AnalysisConfig, CONFIG_ENV, JudgeConfig, JudgeRequest } from '../shared/contracts';
import { invalid, requireAction, requireColor, requireInteger, requireObject, requireString } from '../shared/validate';

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
  return {
    action,
    targetColor,
    stableColor,
    bake: {
      passes: requireInteger(bake, 'passes', { min: 0 }, `${REQUEST} bake`),
      required: requireInteger(bake, 'required', { min: 1 }, `${REQUEST} bake`),
    },
  };
}

function requireNames(obj: Record<string, unknown>, field: string, source: string): string[] {
  const value = obj[field];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) throw invalid(source, field, 'an array of alarm names', value);
  return value as string[];
}

function requireNumber(obj: Record<string, unknown>, field: string, source: string): number {
  const value = obj[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(source, field, 'a number >= 0', value);
  return value;
}

function optionalNumber(obj: Record<string, unknown>, field: string, source: string): number | undefined {
  return obj[field] === undefined ? undefined : requireNumber(obj, field, source);
}

/** Validates the judge's configuration. */
export function parseJudgeConfig(raw: unknown): JudgeConfig {
  const obj = requireObject(raw, CONFIG, CONFIG_ENV);
  const byColor = requireObject(obj.alarmsByColor, CONFIG, 'alarmsByColor');
  return {
    alarmsByColor: { blue: requireNames(byColor, 'blue', `${CONFIG} alarmsByColor`), green: requireNames(byColor, 'green', `${CONFIG} alarmsByColor`) },
    sharedAlarms: requireNames(obj, 'sharedAlarms', CONFIG),
    ...(obj.analysis === undefined ? {} : { analysis: parseAnalysis(obj.analysis) }),
  };
}

function parseAnalysis(raw: unknown): AnalysisConfig {
  const source = `${CONFIG} analysis`;
  const obj = requireObject(raw, CONFIG, 'analysis');
  const targetGroups = requireObject(obj.targetGroups, source, 'targetGroups');
  const maxLatencyP99Ms = optionalNumber(obj, 'maxLatencyP99Ms', source);
  const latencyBaselineFactor = optionalNumber(obj, 'latencyBaselineFactor', source);
  return {
    loadBalancer: requireString(obj, 'loadBalancer', source),
    targetGroups: { blue: requireString(targetGroups, 'blue', `${source} targetGroups`), green: requireString(targetGroups, 'green', `${source} targetGroups`) },
    windowSeconds: requireInteger(obj, 'windowSeconds', { min: 1 }, source),
    minRequests: requireInteger(obj, 'minRequests', { min: 0 }, source),
    maxErrorRatePercent: requireNumber(obj, 'maxErrorRatePercent', source),
    errorRateBaselineFactor: requireNumber(obj, 'errorRateBaselineFactor', source),
    ...(maxLatencyP99Ms === undefined ? {} : { maxLatencyP99Ms }),
    ...(latencyBaselineFactor === undefined ? {} : { latencyBaselineFactor }),
  };
}
