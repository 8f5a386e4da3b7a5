/**
 * Where FakeCloudWatch's numbers come from. A MetricSource answers "what is this statistic of this
 * metric over this period?"; the default source holds the datapoints PutMetricData stored, and the
 * rehearsal's traffic model plugs in its own source that computes ALB metrics from simulated
 * traffic. Every CloudWatch read (GetMetricData, GetMetricStatistics, alarm evaluation) goes
 * through the same sources, so alarms and the judge see the same numbers.
 */
import type { Dimension, MetricDatum } from '@aws-sdk/client-cloudwatch';

/** One statistic of one metric over one period. */
export interface MetricQuery {
  readonly namespace: string;
  readonly metricName: string;
  /** Dimension name -> value. CloudWatch matches the full set exactly (no subset matching). */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Sum, Average, Minimum, Maximum, SampleCount, or an extended statistic such as p99 or p99.9. */
  readonly statistic: string;
  /** Start of the period, epoch ms (aligned to the minute for periods of 60 s and more). */
  readonly periodStart: number;
  /** Length of the period, seconds. */
  readonly periodSeconds: number;
  /** Unit filter of the request, when one was given. */
  readonly unit?: string;
}

/** A pluggable provider of metric values. Return null when the metric has no data in that period. */
export interface MetricSource {
  value(query: MetricQuery): number | null;
}

/** Standard statistics of the CloudWatch API. */
export const STANDARD_STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
const MS_PER_SECOND = 1000;
const PERCENT = 100;

/** Extended statistics CloudWatch accepts: percentiles (p99, p99.9) and their trimmed / winsorized relatives. */
const EXTENDED_STATISTIC = /^(p|tm|wm|tc|ts)(\d{1,2}(\.\d{1,10})?|100)$|^IQM$|^(TM|WM|TC|TS|PR)\(\d+(\.\d+)?%?:\d+(\.\d+)?%?\)$/;

export function isStandardStatistic(stat: string): boolean {
  return (STANDARD_STATISTICS as readonly string[]).includes(stat);
}

/** True for every statistic name the CloudWatch API accepts (standard or extended). */
export function isValidStatistic(stat: string): boolean {
  return isStandardStatistic(stat) || EXTENDED_STATISTIC.test(stat);
}

/** The percentile of a pNN statistic, or undefined for any other statistic. */
export function percentileOf(stat: string): number | undefined {
  const match = /^p(\d{1,2}(\.\d{1,10})?|100)$/.exec(stat);
  return match ? Number(match[1]) : undefined;
}

/** Dimension list -> record (the shape MetricQuery uses). */
export function dimensionRecord(dimensions: readonly Dimension[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of dimensions ?? []) if (d.Name !== undefined) out[d.Name] = d.Value ?? '';
  return out;
}

/** Stable identity of a metric: namespace, name and the sorted set of dimensions. */
export function metricKey(namespace: string, metricName: string, dimensions: Readonly<Record<string, string>>): string {
  const dims = Object.keys(dimensions).sort().map((k) => [k, dimensions[k]]);
  return JSON.stringify([namespace, metricName, dims]);
}

interface StoredDatapoint {
  readonly timestamp: number;
  readonly unit?: string;
  /** Raw values with their counts (Value, or Values + Counts). */
  readonly values: readonly number[];
  readonly counts: readonly number[];
  /** Pre-aggregated statistics (StatisticValues). */
  readonly statistics?: { readonly SampleCount: number; readonly Sum: number; readonly Minimum: number; readonly Maximum: number };
}

/** A datapoint to store (PutMetricData's MetricDatum with its namespace and a numeric timestamp). */
export interface DatapointInput {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions?: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly timestamp: number;
  readonly value?: number;
  readonly values?: readonly number[];
  readonly counts?: readonly number[];
  readonly statisticValues?: StoredDatapoint['statistics'];
  readonly unit?: string;
}

/** The default MetricSource: datapoints stored by PutMetricData (or by a simulation directly). */
export class StoredMetrics implements MetricSource {
  private readonly series = new Map<string, StoredDatapoint[]>();

  /** Stores one datapoint. */
  put(input: DatapointInput): void {
    const key = metricKey(input.namespace, input.metricName, input.dimensions ?? {});
    const values = input.values ? [...input.values] : input.value !== undefined ? [input.value] : [];
    const counts = input.counts ? [...input.counts] : values.map(() => 1);
    const list = this.series.get(key) ?? [];
    list.push({ timestamp: input.timestamp, unit: input.unit, values, counts, statistics: input.statisticValues });
    this.series.set(key, list);
  }

  /** Stores PutMetricData datums of a namespace; `now` is the timestamp of datums without one. */
  putMetricData(namespace: string, data: readonly MetricDatum[], now: number): void {
    for (const datum of data) {
      this.put({
        namespace,
        metricName: datum.MetricName!,
        dimensions: dimensionRecord(datum.Dimensions),
        timestamp: datum.Timestamp === undefined ? now : new Date(datum.Timestamp).getTime(),
        value: datum.Value,
        values: datum.Values,
        counts: datum.Counts,
        statisticValues: datum.StatisticValues as StoredDatapoint['statistics'],
        unit: datum.Unit,
      });
    }
  }

  value(query: MetricQuery): number | null {
    const list = this.series.get(metricKey(query.namespace, query.metricName, query.dimensions));
    if (!list) return null;
    const end = query.periodStart + query.periodSeconds * MS_PER_SECOND;
    const points = list.filter((p) => p.timestamp >= query.periodStart && p.timestamp < end
      && (query.unit === undefined || p.unit === undefined || p.unit === query.unit));
    if (points.length === 0) return null;
    return aggregate(points, query.statistic);
  }
}

function aggregate(points: readonly StoredDatapoint[], statistic: string): number | null {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  const raw: Array<{ value: number; count: number }> = [];
  let hasAggregates = false;
  for (const p of points) {
    p.values.forEach((value, i) => {
      const c = p.counts[i] ?? 1;
      count += c;
      sum += value * c;
      min = Math.min(min, value);
      max = Math.max(max, value);
      raw.push({ value, count: c });
    });
    if (p.statistics) {
      hasAggregates = true;
      count += p.statistics.SampleCount;
      sum += p.statistics.Sum;
      min = Math.min(min, p.statistics.Minimum);
      max = Math.max(max, p.statistics.Maximum);
    }
  }
  if (count === 0) return null;
  switch (statistic) {
    case 'SampleCount': return count;
    case 'Sum': return sum;
    case 'Average': return sum / count;
    case 'Minimum': return min;
    case 'Maximum': return max;
    default: {
      const p = percentileOf(statistic);
      // Percentiles need raw values; CloudWatch cannot compute them from statistic sets either.
      if (p === undefined || hasAggregates) return null;
      return percentile(raw, p);
    }
  }
}

/** Nearest-rank percentile of weighted values. */
export function percentile(values: ReadonlyArray<{ value: number; count: number }>, p: number): number | null {
  const sorted = [...values].sort((a, b) => a.value - b.value);
  const total = sorted.reduce((n, v) => n + v.count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / PERCENT) * total));
  let seen = 0;
  for (const v of sorted) {
    seen += v.count;
    if (seen >= rank) return v.value;
  }
  return sorted[sorted.length - 1].value;
}
