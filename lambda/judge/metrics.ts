import { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { RELEASE_SIGNAL_DIMENSIONS, RELEASE_SIGNAL_METRICS } from '../metrics/release-signal-contract';
import { AnalysisConfig, COLORS, Color, ColorMetrics, METRIC_PERIOD_SECONDS, SignalReadConfig } from '../shared/contracts';
import { metricDataPoints, MetricPoint } from '../shared/metric-data';
import { LATENCY_STATISTICS, MEDIAN_STATISTICS, StepData } from './sequential-analysis';

/** Namespace of Application Load Balancer metrics. */
export const ALB_NAMESPACE = 'AWS/ApplicationELB';
const MS_PER_SECOND = 1000;
const PERCENT = 100;

/** Statistic of each metric the analysis reads per color, keyed by the query id suffix. */
const QUERIES = {
  requests: { metric: 'RequestCount', stat: 'Sum' },
  errors: { metric: 'HTTPCode_Target_5XX_Count', stat: 'Sum' },
  latency: { metric: 'TargetResponseTime', stat: 'p99' },
} as const;
type QueryKind = keyof typeof QUERIES;

const queryId = (color: Color, kind: QueryKind) => `${color}_${kind}`;

/** Where a window's requests, 5xx and latency of each color come from: the ALB's target-group metrics, or the release signal. */
interface WindowSource {
  /** For the error messages: what is read. */
  readonly what: string;
  readonly metric: (color: Color, kind: QueryKind) => { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: string }> };
  /** Milliseconds per unit of the latency metric (TargetResponseTime is in seconds, the signal's Latency in ms). */
  readonly latencyUnitMs: number;
}

function albSource(config: AnalysisConfig): WindowSource {
  return {
    what: config.loadBalancer,
    metric: (color, kind) => ({
      Namespace: ALB_NAMESPACE,
      MetricName: QUERIES[kind].metric,
      Dimensions: [{ Name: 'LoadBalancer', Value: config.loadBalancer }, { Name: 'TargetGroup', Value: config.targetGroups[color] }],
    }),
    latencyUnitMs: MS_PER_SECOND,
  };
}

const SIGNAL_METRIC: Record<QueryKind, string> = {
  requests: RELEASE_SIGNAL_METRICS.REQUESTS, errors: RELEASE_SIGNAL_METRICS.ERRORS, latency: RELEASE_SIGNAL_METRICS.LATENCY,
};

function signalSource(signal: SignalReadConfig): WindowSource {
  return {
    what: `${signal.namespace} ${signal.service}, release signal`,
    metric: (color, kind) => ({
      Namespace: signal.namespace,
      MetricName: SIGNAL_METRIC[kind],
      Dimensions: [{ Name: RELEASE_SIGNAL_DIMENSIONS.SERVICE, Value: signal.service }, { Name: RELEASE_SIGNAL_DIMENSIONS.COLOR, Value: color }],
    }),
    latencyUnitMs: 1,
  };
}

/** One period covering the whole window (whole minutes, from the construct). */
function queries(source: WindowSource, periodSeconds: number): MetricDataQuery[] {
  return COLORS.flatMap((color) => (Object.keys(QUERIES) as QueryKind[]).map((kind) => ({
    Id: queryId(color, kind),
    ReturnData: true,
    MetricStat: { Metric: source.metric(color, kind), Period: periodSeconds, Stat: QUERIES[kind].stat },
  })));
}

/** The span of CloudWatch data one judgement reads, epoch ms, [startMs, endMs). */
export interface DataWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * The data a judgement at `nowMs` can trust: `windowSeconds` of whole minutes that ended at least
 * `metricDelaySeconds` ago. CloudWatch returns a minute that is still arriving as if it were complete (a
 * partial sum), so reading up to `now` would undercount requests and errors.
 */
export function dataWindow(nowMs: number, windowSeconds: number, metricDelaySeconds: number): DataWindow {
  const periodMs = METRIC_PERIOD_SECONDS * MS_PER_SECOND;
  const endMs = Math.floor((nowMs - metricDelaySeconds * MS_PER_SECOND) / periodMs) * periodMs;
  return { startMs: endMs - windowSeconds * MS_PER_SECOND, endMs };
}

/** A window's metrics of each color, and how many datapoints of requests each color has in it (0: none written). */
export interface WindowMetrics {
  readonly metrics: Record<Color, ColorMetrics>;
  readonly datapoints: Record<Color, number>;
}

/**
 * Requests, 5xx and p99 latency of each color over `window` (whole minutes). Should CloudWatch split the window over
 * several periods, counts are summed, and the p99 is the worst of the periods. Missing counts are 0; missing latency
 * is null.
 */
async function readWindow(source: WindowSource, window: DataWindow, periodSeconds: number): Promise<WindowMetrics> {
  const points = await metricDataPoints(source.what, window.startMs, window.endMs, queries(source, periodSeconds));
  const values = new Map([...points].map(([id, list]) => [id, list.map((p) => p.v)]));

  const sum = (id: string) => (values.get(id) ?? []).reduce((a, b) => a + b, 0);
  const metricsOf = (color: Color): ColorMetrics => {
    const requests = sum(queryId(color, 'requests'));
    const errors = sum(queryId(color, 'errors'));
    const latencies = values.get(queryId(color, 'latency')) ?? [];
    return {
      requests,
      errors,
      errorRatePercent: requests > 0 ? (errors * PERCENT) / requests : 0,
      latencyP99Ms: latencies.length > 0 ? Math.max(...latencies) * source.latencyUnitMs : null,
    };
  };
  const datapointsOf = (color: Color) => (values.get(queryId(color, 'requests')) ?? []).length;
  return { metrics: { blue: metricsOf('blue'), green: metricsOf('green') }, datapoints: { blue: datapointsOf('blue'), green: datapointsOf('green') } };
}

/** Requests, 5xx and p99 latency of each color over `window` from the ALB's target-group metrics (readWindow). */
export async function readColorMetrics(config: AnalysisConfig, window: DataWindow): Promise<Record<Color, ColorMetrics>> {
  return (await readWindow(albSource(config), window, config.windowSeconds)).metrics;
}

/**
 * Requests, 5xx and p99 latency of each color over `window` from the release signal (its Requests and Errors5xx Sum,
 * its Latency p99 in ms), one period covering the window as with the ALB's metrics (whole minutes: a period of a minute
 * or more must be a multiple of 60, CloudWatch API Reference, MetricStat), with each color's datapoints of Requests.
 */
export async function readSignalColorMetrics(signal: SignalReadConfig, window: DataWindow): Promise<WindowMetrics> {
  return readWindow(signalSource(signal), window, (window.endMs - window.startMs) / MS_PER_SECOND);
}

/** Query ids of the step reads: counts per minute, latency percentiles over the whole span. */
const STEP_COUNTS = { requests: QUERIES.requests, errors: QUERIES.errors } as const;
type StepCountKind = keyof typeof STEP_COUNTS;
/** The latency statistics of a step: the p99 tests' and the median test's. */
const STEP_LATENCY = { ...LATENCY_STATISTICS, ...MEDIAN_STATISTICS } as const;
type LatencyKind = keyof typeof STEP_LATENCY;

/**
 * Everything CloudWatch holds of a step so far, [startMs, endMs) in whole minutes: each color's requests and 5xx
 * per minute (Period 60), and its p98.5 / p99 / p99.5 and p45 / p50 / p55 TargetResponseTime over one period covering the span (so the
 * percentiles are CloudWatch's over all the step's requests, not a combination of per-minute percentiles). With
 * `latency: false`, counts only (the traffic that sizes the steps).
 */
export async function readStepData(config: AnalysisConfig, startMs: number, endMs: number, options: { readonly latency?: boolean } = {}): Promise<StepData> {
  const periodMs = METRIC_PERIOD_SECONDS * MS_PER_SECOND;
  const spanSeconds = (endMs - startMs) / MS_PER_SECOND;
  const dimensions = (color: Color) => [
    { Name: 'LoadBalancer', Value: config.loadBalancer },
    { Name: 'TargetGroup', Value: config.targetGroups[color] },
  ];
  const queriesOf: MetricDataQuery[] = COLORS.flatMap((color) => [
    ...(Object.keys(STEP_COUNTS) as StepCountKind[]).map((kind) => ({
      Id: `${color}_${kind}`,
      ReturnData: true,
      MetricStat: { Metric: { Namespace: ALB_NAMESPACE, MetricName: STEP_COUNTS[kind].metric, Dimensions: dimensions(color) }, Period: METRIC_PERIOD_SECONDS, Stat: 'Sum' },
    })),
    ...(options.latency ?? true ? Object.keys(STEP_LATENCY) as LatencyKind[] : []).map((kind) => ({
      Id: `${color}_${kind.toLowerCase()}`,
      ReturnData: true,
      MetricStat: { Metric: { Namespace: ALB_NAMESPACE, MetricName: QUERIES.latency.metric, Dimensions: dimensions(color) }, Period: spanSeconds, Stat: STEP_LATENCY[kind] },
    })),
  ]);
  const points = await metricDataPoints(`${config.loadBalancer}, step data`, startMs, endMs, queriesOf);

  const minutes = new Map<number, { blue: { requests: number; errors: number }; green: { requests: number; errors: number } }>();
  for (const color of COLORS) {
    for (const kind of Object.keys(STEP_COUNTS) as StepCountKind[]) {
      for (const { t, v } of points.get(`${color}_${kind}`) ?? []) {
        const start = Math.floor(t / periodMs) * periodMs;
        const m = minutes.get(start) ?? { blue: { requests: 0, errors: 0 }, green: { requests: 0, errors: 0 } };
        m[color][kind] += v;
        minutes.set(start, m);
      }
    }
  }
  const latencyOf = (color: Color, kind: LatencyKind): number | null => {
    const values = (points.get(`${color}_${kind.toLowerCase()}`) ?? []).map((p) => p.v);
    return values.length > 0 ? Math.max(...values) * MS_PER_SECOND : null;
  };
  const latency = Object.fromEntries(COLORS.map((c) => [c, Object.fromEntries((Object.keys(STEP_LATENCY) as LatencyKind[]).map((k) => [k, latencyOf(c, k)]))])) as unknown as StepData['latency'];
  return {
    startMs,
    endMs,
    minutes: [...minutes.entries()].sort(([a], [b]) => a - b).map(([startMsOf, counts]) => ({ startMs: startMsOf, counts })),
    latency,
  };
}

/**
 * How long CloudWatch keeps datapoints of periods under a minute: "Data points with a period of less than 60 seconds
 * are available for 3 hours" (CloudWatch API Reference, GetMetricStatistics; MetricStat.Period: "If the StartTime
 * parameter specifies a time stamp that is greater than 3 hours ago, you must specify the period as follows or no data
 * points in that time range is returned: Start time between 3 hours and 15 days ago - Use a multiple of 60 seconds").
 */
export const SUB_MINUTE_RETENTION_SECONDS = 3 * 3600;
/** Margin kept from that retention edge, so that a read issued now is not refused by the time CloudWatch serves it. */
const RETENTION_MARGIN_SECONDS = 300;

/** What the release signal holds of a step: its counts per period, and how many datapoints each color has. */
export interface SignalStepData {
  readonly data: StepData;
  /** Datapoints of Requests per color in the span read (0: the application wrote nothing for that color). */
  readonly datapoints: Record<Color, number>;
}

/**
 * The release signal of a step, [startMs, endMs) (whole periods of `signal.periodSeconds`): each color's Requests and
 * Errors5xx per period (Sum; "For high-resolution metrics [...] the period can be 1, 5, 10, 30, 60, or any multiple of
 * 60": CloudWatch API Reference, MetricStat), and its p98.5 / p99 / p99.5 and p45 / p50 / p55 Latency over the step's whole minutes, one
 * period covering them (a period of a minute or more must be a multiple of 60, and StartTime is "rounded down to the
 * nearest whole minute": GetMetricData, StartTime). The counts start no earlier than CloudWatch keeps sub-minute
 * periods (SUB_MINUTE_RETENTION_SECONDS): a step longer than that is counted over its last three hours, while the
 * evidence the judge carries (StepEvidence) holds everything counted before. Latency is null before the step has a
 * whole minute, and with `latency: false` (counts only, as the step sizing needs).
 */
export async function readSignalStepData(signal: SignalReadConfig, startMs: number, endMs: number, nowMs: number, options: { readonly latency?: boolean } = {}): Promise<SignalStepData> {
  const periodMs = signal.periodSeconds * MS_PER_SECOND;
  const retainedFromMs = Math.ceil((nowMs - (SUB_MINUTE_RETENTION_SECONDS - RETENTION_MARGIN_SECONDS) * MS_PER_SECOND) / periodMs) * periodMs;
  const countsStartMs = Math.max(startMs, retainedFromMs);
  const metric = (color: Color, name: string) => ({
    Namespace: signal.namespace,
    MetricName: name,
    Dimensions: [{ Name: RELEASE_SIGNAL_DIMENSIONS.SERVICE, Value: signal.service }, { Name: RELEASE_SIGNAL_DIMENSIONS.COLOR, Value: color }],
  });
  const countQueries: MetricDataQuery[] = COLORS.flatMap((color) => [
    { Id: `${color}_requests`, ReturnData: true, MetricStat: { Metric: metric(color, RELEASE_SIGNAL_METRICS.REQUESTS), Period: signal.periodSeconds, Stat: 'Sum' } },
    { Id: `${color}_errors`, ReturnData: true, MetricStat: { Metric: metric(color, RELEASE_SIGNAL_METRICS.ERRORS), Period: signal.periodSeconds, Stat: 'Sum' } },
  ]);
  const what = `${signal.namespace} ${signal.service}, release signal`;
  const counts = countsStartMs < endMs ? await metricDataPoints(what, countsStartMs, endMs, countQueries) : new Map<string, MetricPoint[]>();

  const minuteMs = METRIC_PERIOD_SECONDS * MS_PER_SECOND;
  const latencyStartMs = Math.floor(startMs / minuteMs) * minuteMs;
  const latencyEndMs = Math.floor(endMs / minuteMs) * minuteMs;
  const latencyPeriod = (latencyEndMs - latencyStartMs) / MS_PER_SECOND;
  const latencyQueries: MetricDataQuery[] = COLORS.flatMap((color) => (Object.keys(STEP_LATENCY) as LatencyKind[]).map((kind) => ({
    Id: `${color}_${kind.toLowerCase()}`,
    ReturnData: true,
    MetricStat: { Metric: metric(color, RELEASE_SIGNAL_METRICS.LATENCY), Period: latencyPeriod, Stat: STEP_LATENCY[kind] },
  })));
  const latencyPoints = (options.latency ?? true) && latencyPeriod >= METRIC_PERIOD_SECONDS
    ? await metricDataPoints(`${what} latency`, latencyStartMs, latencyEndMs, latencyQueries) : new Map<string, MetricPoint[]>();

  const periods = new Map<number, Record<Color, { requests: number; errors: number }>>();
  const datapoints = { blue: 0, green: 0 };
  for (const color of COLORS) {
    for (const kind of ['requests', 'errors'] as const) {
      for (const { t, v } of counts.get(`${color}_${kind}`) ?? []) {
        if (t < countsStartMs || t >= endMs) continue;
        const start = Math.floor(t / periodMs) * periodMs;
        const p = periods.get(start) ?? { blue: { requests: 0, errors: 0 }, green: { requests: 0, errors: 0 } };
        p[color][kind] += v;
        periods.set(start, p);
        if (kind === 'requests') datapoints[color]++;
      }
    }
  }
  // Only the period that starts at the step's first whole minute: CloudWatch may add a partial one after it.
  const latencyOf = (color: Color, kind: LatencyKind): number | null => {
    const values = (latencyPoints.get(`${color}_${kind.toLowerCase()}`) ?? []).filter((p) => p.t === latencyStartMs).map((p) => p.v);
    return values.length > 0 ? values[0] : null;
  };
  const latency = Object.fromEntries(COLORS.map((c) => [c, Object.fromEntries((Object.keys(STEP_LATENCY) as LatencyKind[]).map((k) => [k, latencyOf(c, k)]))])) as unknown as StepData['latency'];
  return {
    data: {
      startMs: countsStartMs,
      endMs,
      periodMs,
      minutes: [...periods.entries()].sort(([a], [b]) => a - b).map(([startMsOf, c]) => ({ startMs: startMsOf, counts: c })),
      latency,
    },
    datapoints,
  };
}
