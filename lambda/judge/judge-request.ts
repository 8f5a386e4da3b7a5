import {
  AnalysisConfig, AnalysisMethodName, CONFIG_ENV, DispersionSums, JudgeConfig, JudgeRequest, METRIC_PERIOD_SECONDS, SequentialConfig, SignalReadConfig, StepEvidence,
} from '../shared/contracts';
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
  const percent = optionalNumber(obj, 'percent', { min: 0, max: 100 }, REQUEST);
  const segments = obj.segments === undefined ? undefined : requireStringArray(obj, 'segments', REQUEST);
  return {
    action,
    targetColor,
    stableColor,
    ...(percent === undefined ? {} : { percent }),
    ...(segments === undefined ? {} : { segments }),
    bake: {
      passes: requireInteger(bake, 'passes', { min: 0 }, `${REQUEST} bake`),
      required: requireInteger(bake, 'required', { min: 1 }, `${REQUEST} bake`),
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(bake.evidence === undefined ? {} : { evidence: parseEvidence(bake.evidence) }),
      ...(bake.waitSeconds === undefined ? {} : { waitSeconds: requireInteger(bake, 'waitSeconds', { min: 1 }, `${REQUEST} bake`) }),
    },
  };
}

/** The sequential judge's running evidence, as the previous judgement returned it (finite numbers, an ISO time). */
function parseEvidence(raw: unknown): StepEvidence {
  const source = `${REQUEST} bake.evidence`;
  const obj = requireObject(raw, `${REQUEST} bake`, 'evidence');
  const throughMs = optionalNumber(obj, 'throughMs', NON_NEGATIVE, source);
  const errorLlrs = obj.errorLlrs === undefined ? undefined : requireNumbers(obj, 'errorLlrs', source);
  const baselineCusum = optionalNumber(obj, 'baselineCusum', NON_NEGATIVE, source);
  const heldSince = obj.heldSince === undefined ? undefined : requireString(obj, 'heldSince', source);
  if (heldSince !== undefined && Number.isNaN(Date.parse(heldSince))) throw invalid(source, 'heldSince', 'an ISO 8601 time', heldSince);
  const newRequests = optionalNumber(obj, 'newRequests', NON_NEGATIVE, source);
  const newErrors = optionalNumber(obj, 'newErrors', NON_NEGATIVE, source);
  const restartMs = optionalNumber(obj, 'restartMs', NON_NEGATIVE, source);
  const trafficPerMinute = optionalNumber(obj, 'trafficPerMinute', NON_NEGATIVE, source);
  const stableErrorRate = optionalNumber(obj, 'stableErrorRate', { min: 0, max: 1 }, source);
  const limitLlrs = obj.limitLlrs === undefined ? undefined : requireNumbers(obj, 'limitLlrs', source);
  // An earlier judge's sums (excess, mu2, noise against a rate observed before the shift): dropped, the estimate restarts.
  const earlier = typeof obj.dispersion === 'object' && obj.dispersion !== null && !('minutes' in obj.dispersion) && 'excess' in obj.dispersion;
  const dispersion = obj.dispersion === undefined || earlier ? undefined : parseDispersion(obj.dispersion, source);
  const signLlrs = obj.signLlrs === undefined ? undefined : requireNumbers(obj, 'signLlrs', source);
  return {
    ...(throughMs === undefined ? {} : { throughMs }),
    ...(errorLlrs === undefined ? {} : { errorLlrs }),
    ...(baselineCusum === undefined ? {} : { baselineCusum }),
    ...(heldSince === undefined ? {} : { heldSince }),
    ...(newRequests === undefined ? {} : { newRequests }),
    ...(newErrors === undefined ? {} : { newErrors }),
    ...(restartMs === undefined ? {} : { restartMs }),
    ...(trafficPerMinute === undefined ? {} : { trafficPerMinute }),
    ...(stableErrorRate === undefined ? {} : { stableErrorRate }),
    ...(limitLlrs === undefined ? {} : { limitLlrs }),
    ...(dispersion === undefined ? {} : { dispersion }),
    ...(signLlrs === undefined ? {} : { signLlrs }),
  };
}

/** The overdispersion sums: six finite numbers, none negative. */
function parseDispersion(raw: unknown, source: string): DispersionSums {
  const obj = requireObject(raw, source, 'dispersion');
  const of = `${source}.dispersion`;
  return {
    minutes: requireInteger(obj, 'minutes', NON_NEGATIVE, of),
    requests: requireNumber(obj, 'requests', NON_NEGATIVE, of),
    errors: requireNumber(obj, 'errors', NON_NEGATIVE, of),
    errorsSquared: requireNumber(obj, 'errorsSquared', NON_NEGATIVE, of),
    cross: requireNumber(obj, 'cross', NON_NEGATIVE, of),
    requestsSquared: requireNumber(obj, 'requestsSquared', NON_NEGATIVE, of),
  };
}

/** Alarm names: duplicates are harmless (each alarm is described once). */
const ALARM_NAMES = { unique: false } as const;
/** Thresholds and factors are finite and never negative. */
const NON_NEGATIVE = { min: 0 } as const;
/** Log-likelihood ratios: finite numbers, at most a few (one per alternative of a mixture). */
const MAX_LLRS = 16;
function requireNumbers(obj: Record<string, unknown>, field: string, source: string): number[] {
  const value = obj[field];
  if (!Array.isArray(value) || value.length > MAX_LLRS || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw invalid(source, field, `an array of at most ${MAX_LLRS} finite numbers`, value);
  }
  return value as number[];
}
const ANALYSIS_METHODS: readonly AnalysisMethodName[] = ['SEQUENTIAL', 'THRESHOLDS'];

/** Validates the judge's configuration. */
export function parseJudgeConfig(raw: unknown): JudgeConfig {
  const obj = requireObject(raw, CONFIG, CONFIG_ENV);
  const byColor = requireObject(obj.alarmsByColor, CONFIG, 'alarmsByColor');
  return {
    alarmsByColor: { blue: requireStringArray(byColor, 'blue', `${CONFIG} alarmsByColor`, ALARM_NAMES), green: requireStringArray(byColor, 'green', `${CONFIG} alarmsByColor`, ALARM_NAMES) },
    sharedAlarms: requireStringArray(obj, 'sharedAlarms', CONFIG, ALARM_NAMES),
    ...(obj.analysis === undefined ? {} : { analysis: parseAnalysis(obj.analysis) }),
    ...(obj.metricDelaySeconds === undefined ? {} : { metricDelaySeconds: requireInteger(obj, 'metricDelaySeconds', { min: 0 }, CONFIG) }),
    ...(obj.baselineHoldSeconds === undefined ? {} : { baselineHoldSeconds: requireInteger(obj, 'baselineHoldSeconds', { min: 0 }, CONFIG) }),
  };
}

function requireOneOf<T extends string>(obj: Record<string, unknown>, field: string, allowed: readonly T[], source: string): T {
  const value = obj[field];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(source, field, `one of ${allowed.join(', ')}`, value);
  return value as T;
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
  const method = obj.method === undefined ? undefined : requireOneOf(obj, 'method', ANALYSIS_METHODS, source);
  const sequential = obj.sequential === undefined ? undefined : parseSequential(obj.sequential, source);
  if (method === 'SEQUENTIAL' && sequential === undefined) throw invalid(source, 'sequential', 'present when method is SEQUENTIAL (its error budget)', undefined);
  const signal = obj.signal === undefined ? undefined : parseSignal(obj.signal, source);
  return {
    loadBalancer: requireString(obj, 'loadBalancer', source),
    targetGroups: { blue: requireString(targetGroups, 'blue', `${source} targetGroups`), green: requireString(targetGroups, 'green', `${source} targetGroups`) },
    windowSeconds: requireWholeMinutes(obj, 'windowSeconds', source),
    minRequests: requireInteger(obj, 'minRequests', { min: 0 }, source),
    maxErrorRatePercent: requireNumber(obj, 'maxErrorRatePercent', NON_NEGATIVE, source),
    errorRateBaselineFactor: requireNumber(obj, 'errorRateBaselineFactor', NON_NEGATIVE, source),
    ...(maxLatencyP99Ms === undefined ? {} : { maxLatencyP99Ms }),
    ...(latencyBaselineFactor === undefined ? {} : { latencyBaselineFactor }),
    ...(method === undefined ? {} : { method }),
    ...(sequential === undefined ? {} : { sequential }),
    ...(signal === undefined ? {} : { signal }),
  };
}

/**
 * Periods of the signal the judge may read: high-resolution periods GetMetricData accepts ("the period can be 1, 5,
 * 10, 30, 60, or any multiple of 60": CloudWatch API Reference, MetricStat), under a minute.
 */
const SIGNAL_PERIODS = [1, 5, 10, 30];

function parseSignal(raw: unknown, source: string): SignalReadConfig {
  const obj = requireObject(raw, source, 'signal');
  const where = `${source} signal`;
  const periodSeconds = requireInteger(obj, 'periodSeconds', { min: 1 }, where);
  if (!SIGNAL_PERIODS.includes(periodSeconds)) throw invalid(where, 'periodSeconds', `one of ${SIGNAL_PERIODS.join(', ')}`, periodSeconds);
  return {
    namespace: requireString(obj, 'namespace', where),
    service: requireString(obj, 'service', where),
    periodSeconds,
    delaySeconds: requireInteger(obj, 'delaySeconds', { min: 0 }, where),
    judgeIntervalSeconds: requireInteger(obj, 'judgeIntervalSeconds', { min: 1 }, where),
  };
}

function parseSequential(raw: unknown, source: string): SequentialConfig {
  const obj = requireObject(raw, source, 'sequential');
  const where = `${source} sequential`;
  const rate = { min: Number.MIN_VALUE, max: 0.5 };
  const missRate = optionalNumber(obj, 'missRate', rate, where);
  const bakeExtensionSeconds = obj.bakeExtensionSeconds === undefined ? undefined : requireInteger(obj, 'bakeExtensionSeconds', { min: 0 }, where);
  return {
    falseRollbackRate: requireNumber(obj, 'falseRollbackRate', rate, where),
    alphaPerTest: requireNumber(obj, 'alphaPerTest', rate, where),
    steps: requireInteger(obj, 'steps', { min: 1 }, where),
    testsPerStep: requireInteger(obj, 'testsPerStep', { min: 1 }, where),
    ...(obj.rolloutTests === undefined ? {} : { rolloutTests: requireInteger(obj, 'rolloutTests', { min: 0 }, where) }),
    latencyMinRequests: requireInteger(obj, 'latencyMinRequests', { min: 1 }, where),
    ...(missRate === undefined ? {} : { missRate }),
    ...(bakeExtensionSeconds === undefined ? {} : { bakeExtensionSeconds }),
  };
}
