/**
 * The performance-baseline gate (ValidationGate.performanceBaseline): a traffic hook that calls each endpoint
 * `samples` times on the new color and as many times on the stable color, alternating (both colors see the same
 * moments) after one uncounted warm-up request each, each through the test route (`<header>: <color>`), and compares a latency percentile of the two. It fails
 * when the new color's percentile exceeds the stable color's times `maxLatencyFactor` AND by more than
 * `minDifferenceMs` (a few milliseconds more than a very fast baseline is noise, not a regression). Failed samples (no
 * answer, or a status at or above the limit) are left out of the percentiles; more than 10% of them fail the gate: on
 * the new color it is a broken release, on the stable color the baseline is not healthy, and a degraded baseline is
 * never one to compare with (DESIGN.md invariant 8).
 */
import { readConfig } from '../shared/config';
import { Color, TrafficHookEvent, TrafficHookResult } from '../shared/contracts';
import { log } from '../shared/log';
import { HttpGateEndpoint, PerformanceGateConfig } from './gate-contract';
import { httpTransport, ProbeResponse } from './http-probe';
import { checkHookEvent, endpointUrl, failed, succeeded } from './hook-event';

/**
 * Share of a color's samples that may fail (no answer, or a status at the limit) before the comparison fails: a few
 * failures are a service's ordinary error rate (the HTTP gate judges status); more mean the color is broken, or, for
 * the stable color, that it is no healthy baseline.
 */
const MAX_FAILED_SAMPLES_PERCENT = 10;

/** The p-th percentile (1-99) of the values, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** One endpoint's comparison. */
export interface EndpointComparison {
  readonly endpoint: string;
  /** The percentile of each color, ms (absent when a color had a failed answer). */
  readonly target?: number;
  readonly stable?: number;
  readonly problem?: string;
}

function describeFailure(r: ProbeResponse, limit: number): string {
  return r.status === undefined ? `no answer (${r.error ?? 'unknown error'})` : `status ${r.status} (limit: below ${limit})`;
}

async function compare(config: PerformanceGateConfig, endpoint: HttpGateEndpoint, header: string, colors: { target: Color; stable: Color }): Promise<EndpointComparison> {
  const label = `${endpoint.method} ${endpoint.path}`;
  const latencies: Record<'target' | 'stable', number[]> = { target: [], stable: [] };
  // One warm-up request per color, not counted: the first one pays for connection setup and cold caches.
  for (const role of ['target', 'stable'] as const) {
    await httpTransport().send({ url: endpointUrl(config.baseUrl, endpoint.path), method: endpoint.method, headers: { [header]: colors[role] }, timeoutMs: config.requestTimeoutMs });
  }
  const failures: Record<'target' | 'stable', ProbeResponse[]> = { target: [], stable: [] };
  for (let i = 0; i < config.samples; i++) {
    for (const role of ['target', 'stable'] as const) {
      const r = await httpTransport().send({ url: endpointUrl(config.baseUrl, endpoint.path), method: endpoint.method, headers: { [header]: colors[role] }, timeoutMs: config.requestTimeoutMs });
      if (r.status === undefined || r.status >= config.maxStatusExclusive) failures[role].push(r);
      else latencies[role].push(r.latencyMs);
    }
  }
  for (const role of ['target', 'stable'] as const) {
    const failedPercent = (failures[role].length * 100) / config.samples;
    if (failedPercent > MAX_FAILED_SAMPLES_PERCENT) {
      const what = role === 'target' ? colors.target : `the baseline (${colors.stable})`;
      return { endpoint: label, problem: `${label}: ${what} failed ${failures[role].length} of ${config.samples} samples, last ${describeFailure(failures[role][failures[role].length - 1], config.maxStatusExclusive)} `
        + `(limit: ${MAX_FAILED_SAMPLES_PERCENT}%)${role === 'stable' ? '; an unhealthy baseline cannot be compared with' : ''}` };
    }
  }
  const target = percentile(latencies.target, config.percentile);
  const stable = percentile(latencies.stable, config.percentile);
  const p = `p${config.percentile}`;
  log('info', 'performance gate endpoint', { endpoint: label, target, stable });
  if (target > stable * config.maxLatencyFactor && target - stable > config.minDifferenceMs) {
    return { endpoint: label, target, stable, problem: `${label}: ${colors.target} ${p} ${target} ms vs ${colors.stable} ${p} ${stable} ms `
      + `(limit: ${config.maxLatencyFactor}x the baseline and more than ${config.minDifferenceMs} ms over it; ${config.samples} samples each)` };
  }
  return { endpoint: label, target, stable };
}

export async function handler(event: TrafficHookEvent): Promise<TrafficHookResult & { readonly endpoints?: readonly EndpointComparison[] }> {
  const config = readConfig<PerformanceGateConfig>();
  const route = checkHookEvent(event, config.name);
  if ('status' in route) return route;
  const results: EndpointComparison[] = [];
  for (const endpoint of config.endpoints) results.push(await compare(config, endpoint, route.header, { target: route.value, stable: route.stable }));
  const bad = results.filter((r) => r.problem);
  if (bad.length > 0) return { ...failed(config.name, bad.map((r) => r.problem).join('; ')), endpoints: results };
  const p = `p${config.percentile}`;
  return {
    ...succeeded(config.name, results.map((r) => `${r.endpoint}: ${route.value} ${p} ${r.target} ms vs ${route.stable} ${p} ${r.stable} ms`).join('; ')),
    endpoints: results,
  };
}
