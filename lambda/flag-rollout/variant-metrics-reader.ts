import { metricDataPoints } from '../shared/metric-data';
import { LATENCY_STATISTICS, LatencyPercentiles } from '../judge/sequential-analysis';
import { VariantAnalysisConfig, VariantDimension, VariantMetric } from './flag-rollout-contract';
import { MS_PER_MINUTE, VariantData, VariantMinute } from './variant-judge';

const MS_PER_SECOND = 1000;
const ROLES = ['treatment', 'control'] as const;
type Role = (typeof ROLES)[number];
type LatencyKind = keyof typeof LATENCY_STATISTICS;

function dimensions(config: VariantAnalysisConfig, flagKey: string, variant: string) {
  return [
    { Name: VariantDimension.SERVICE, Value: config.service },
    { Name: VariantDimension.FLAG, Value: flagKey },
    { Name: VariantDimension.VARIANT, Value: variant },
  ];
}

/**
 * What the application published for the flag's two variants (lambda/flags/variant-metrics.ts): Requests and
 * Errors per minute in [fromMs, endMs) (Sum, Period 60), and the p98.5 / p99 / p99.5 of Latency over one period
 * covering the phase's data [phaseStartMs, endMs), so that the percentiles are CloudWatch's over every request of
 * the phase. Two calls, so that the counts already counted are not read again.
 */
export async function readVariantData(
  config: VariantAnalysisConfig, flagKey: string, variants: Record<Role, string>, phaseStartMs: number, fromMs: number, endMs: number,
): Promise<VariantData> {
  const minutes: VariantMinute[] = [];
  if (endMs > fromMs) {
    const counts = await metricDataPoints(`${flagKey} variant counts`, fromMs, endMs, ROLES.flatMap((role) => [VariantMetric.REQUESTS, VariantMetric.ERRORS].map((metric) => ({
      Id: `${role}_${metric.toLowerCase()}`,
      ReturnData: true,
      MetricStat: { Metric: { Namespace: config.namespace, MetricName: metric, Dimensions: dimensions(config, flagKey, variants[role]) }, Period: MS_PER_MINUTE / MS_PER_SECOND, Stat: 'Sum' },
    }))));
    const byMinute = new Map<number, { treatment: { requests: number; errors: number }; control: { requests: number; errors: number } }>();
    for (const role of ROLES) {
      for (const [kind, field] of [['requests', 'requests'], ['errors', 'errors']] as const) {
        for (const { t, v } of counts.get(`${role}_${kind}`) ?? []) {
          const minute = byMinute.get(t) ?? { treatment: { requests: 0, errors: 0 }, control: { requests: 0, errors: 0 } };
          minute[role][field] += v;
          byMinute.set(t, minute);
        }
      }
    }
    for (const [startMs, counts] of [...byMinute.entries()].sort((a, b) => a[0] - b[0])) minutes.push({ startMs, ...counts });
  }
  const empty: LatencyPercentiles = { p985Ms: null, p99Ms: null, p995Ms: null };
  const latency: Record<Role, LatencyPercentiles> = { treatment: empty, control: empty };
  if (endMs > phaseStartMs) {
    const spanSeconds = (endMs - phaseStartMs) / MS_PER_SECOND;
    const kinds = Object.keys(LATENCY_STATISTICS) as LatencyKind[];
    const points = await metricDataPoints(`${flagKey} variant latency`, phaseStartMs, endMs, ROLES.flatMap((role) => kinds.map((kind) => ({
      Id: `${role}_${kind.toLowerCase()}`,
      ReturnData: true,
      MetricStat: { Metric: { Namespace: config.namespace, MetricName: VariantMetric.LATENCY, Dimensions: dimensions(config, flagKey, variants[role]) }, Period: spanSeconds, Stat: LATENCY_STATISTICS[kind] },
    }))));
    for (const role of ROLES) {
      const value = (kind: LatencyKind) => {
        const list = points.get(`${role}_${kind.toLowerCase()}`) ?? [];
        return list.length > 0 ? Math.max(...list.map((p) => p.v)) : null;
      };
      latency[role] = { p985Ms: value('p985Ms'), p99Ms: value('p99Ms'), p995Ms: value('p995Ms') };
    }
  }
  return { minutes, latency };
}
