import { GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { AnalysisConfig, COLORS, Color, ColorMetrics } from '../shared/contracts';
import { awsCall } from '../shared/errors';
import { cloudWatch } from '../shared/clients';

/** Namespace of Application Load Balancer metrics. */
export const ALB_NAMESPACE = 'AWS/ApplicationELB';
/** ALB publishes one-minute data, and CloudWatch wants periods of 60 s or more in multiples of 60. */
export const PERIOD_STEP_SECONDS = 60;
const MS_PER_SECOND = 1000;
const PERCENT = 100;

/** Statistic of each metric the analysis reads per color, keyed by the query id suffix. */
const QUERIES = {
  requests: { metric: 'RequestCount', stat: 'Sum' },
  errors: { metric: 'HTTPCode_Target_5XX_Count', stat: 'Sum' },
  latency: { metric: 'TargetResponseTime', stat: 'p99' },
} as const;
type QueryKind = keyof typeof QUERIES;

/** One period covering the whole window: the window rounded up to a multiple of 60 s, at least 60 s. */
export function periodFor(windowSeconds: number): number {
  return Math.max(PERIOD_STEP_SECONDS, Math.ceil(windowSeconds / PERIOD_STEP_SECONDS) * PERIOD_STEP_SECONDS);
}

const queryId = (color: Color, kind: QueryKind) => `${color}_${kind}`;

function queries(config: AnalysisConfig): MetricDataQuery[] {
  const period = periodFor(config.windowSeconds);
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

/**
 * Requests, 5xx and p99 latency of each color over [now - windowSeconds, now] from the ALB's
 * target-group metrics. CloudWatch may split the window over two periods (it aligns them to
 * whole minutes): counts are summed, and the p99 is the worst of the periods. Missing counts
 * are 0; missing latency is null.
 */
export async function readColorMetrics(config: AnalysisConfig, nowMs: number): Promise<Record<Color, ColorMetrics>> {
  const values = new Map<string, number[]>();
  let nextToken: string | undefined;
  do {
    const out = await awsCall(`GetMetricData(${config.loadBalancer})`, () => cloudWatch().send(new GetMetricDataCommand({
      StartTime: new Date(nowMs - config.windowSeconds * MS_PER_SECOND),
      EndTime: new Date(nowMs),
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
