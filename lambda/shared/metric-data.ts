import { GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { cloudWatch } from './clients';
import { awsCall } from './errors';

/** One datapoint of a GetMetricData result: its timestamp (epoch ms) and value. */
export interface MetricPoint {
  readonly t: number;
  readonly v: number;
}

/**
 * Every datapoint of `queries` in [startMs, endMs), by query id, following NextToken until CloudWatch has returned
 * them all (GetMetricData pages its results: CloudWatch API Reference, GetMetricData, "NextToken"). `what` names the
 * read in the error of a failed call. A point without a timestamp is dated `startMs`.
 */
export async function metricDataPoints(what: string, startMs: number, endMs: number, queries: MetricDataQuery[]): Promise<Map<string, MetricPoint[]>> {
  const points = new Map<string, MetricPoint[]>();
  let nextToken: string | undefined;
  do {
    const out = await awsCall(`GetMetricData(${what})`, () => cloudWatch().send(new GetMetricDataCommand({
      StartTime: new Date(startMs),
      EndTime: new Date(endMs),
      MetricDataQueries: queries,
      NextToken: nextToken,
    })));
    for (const result of out.MetricDataResults ?? []) {
      if (!result.Id) continue;
      const list = points.get(result.Id) ?? [];
      (result.Values ?? []).forEach((v, i) => list.push({ t: result.Timestamps?.[i]?.getTime() ?? startMs, v }));
      points.set(result.Id, list);
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return points;
}
