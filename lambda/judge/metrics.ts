import { GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { AnalysisConfig, COLORS, Color, ColorMetrics, METRIC_PERIOD_SECONDS } from '../shared/contracts';
import { awsCall } from '../shared/errors';
import { cloudWatch } from '../shared/clients';

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
  const values = new Map<string, number[]>();
  let nextToken: string | undefined;
  do {
    const out = await awsCall(`GetMetricData(${config.loadBalancer})`, () => cloudWatch().send(new GetMetricDataCommand({
      StartTime: new Date(window.startMs),
      EndTime: new Date(window.endMs),
      MetricDataQueries: queries(config),
      NextToken: nextToken,
    })));
    for (const result of out.MetricDataResults ?? []) {
      if (result.Id) values.set(result.Id, [...(values.get(result.Id) ?? []), ...(result.Values ?? [])]);
    }
    nextToken = out.NextToken;
  } while (nextToken);

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
