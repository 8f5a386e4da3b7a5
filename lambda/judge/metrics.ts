import { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { AnalysisConfig, COLORS, Color, ColorMetrics, METRIC_PERIOD_SECONDS } from '../shared/contracts';
import { metricDataPoints } from '../shared/metric-data';
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

/** One period covering the whole window (whole minutes, from the construct). */
function queries(config: AnalysisConfig): MetricDataQuery[] {
  const period = config.windowSeconds;
  return COLORS.flatMap((color) => (Object.keys(QUERIES) as QueryKind[]).map((kind) => ({
    Id: queryId(color, kind),
    ReturnData: true,
    MetricStat: {
      Metric: {
        Namespace: ALB_NAMESPACE,
        MetricName: QUERIES[kind].metric,
        Dimensions: [
          { Name: 'LoadBalancer', Value: config.loadBalancer },
          { Name: 'TargetGroup', Value: config.targetGroups[color] },
        ],
      },
      Period: period,
      Stat: QUERIES[kind].stat,
    },
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

/**
 * Requests, 5xx and p99 latency of each color over `window` from the ALB's target-group metrics.
 * Should CloudWatch split the window over several periods, counts are summed, and the p99 is the
 * worst of the periods. Missing counts are 0; missing latency is null.
 */
export async function readColorMetrics(config: AnalysisConfig, window: DataWindow): Promise<Record<Color, ColorMetrics>> {
  const points = await metricDataPoints(config.loadBalancer, window.startMs, window.endMs, queries(config));
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
      latencyP99Ms: latencies.length > 0 ? Math.max(...latencies) * MS_PER_SECOND : null,
    };
  };
  return { blue: metricsOf('blue'), green: metricsOf('green') };
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
 * percentiles are CloudWatch's over all the step's requests, not a combination of per-minute percentiles).
 */
export async function readStepData(config: AnalysisConfig, startMs: number, endMs: number): Promise<StepData> {
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
    ...(Object.keys(STEP_LATENCY) as LatencyKind[]).map((kind) => ({
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
