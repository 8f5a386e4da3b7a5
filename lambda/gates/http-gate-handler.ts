/**
 * The HTTP gate (ValidationGate.http): a traffic hook that calls each endpoint on the load balancer with the test
 * route's header, so that only the new color answers, and passes when every endpoint answers with a status below
 * the limit (400) within the latency limit. Each endpoint gets `attempts` tries `retryDelayMs` apart and passes on
 * its first good one (a cold target's first request may be slow); it fails when all of them failed, and the
 * reason names the gate, the endpoint, the color, what the last attempt saw and the limit.
 */
import { clock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { TrafficHookEvent, TrafficHookResult } from '../shared/contracts';
import { log } from '../shared/log';
import { HttpGateConfig, HttpGateEndpoint } from './gate-contract';
import { httpTransport, ProbeResponse } from './http-probe';
import { checkHookEvent, endpointUrl, failed, succeeded } from './hook-event';

/** What one endpoint came to. */
export interface EndpointOutcome {
  readonly endpoint: string;
  readonly ok: boolean;
  readonly attempts: number;
  readonly last: ProbeResponse;
}

/** Why an answer is not good enough, or undefined when it is. */
export function answerProblem(response: ProbeResponse, config: Pick<HttpGateConfig, 'maxStatusExclusive' | 'maxLatencyMs'>): string | undefined {
  if (response.status === undefined) return `no answer (${response.error ?? 'unknown error'}) after ${response.latencyMs} ms`;
  if (response.status >= config.maxStatusExclusive) return `status ${response.status} (limit: below ${config.maxStatusExclusive}) in ${response.latencyMs} ms`;
  if (response.latencyMs > config.maxLatencyMs) return `status ${response.status} in ${response.latencyMs} ms (limit: ${config.maxLatencyMs} ms)`;
  return undefined;
}

async function checkEndpoint(config: HttpGateConfig, endpoint: HttpGateEndpoint, headers: Record<string, string>): Promise<EndpointOutcome> {
  const label = `${endpoint.method} ${endpoint.path}`;
  let last: ProbeResponse = { latencyMs: 0, error: 'not called' };
  for (let attempt = 1; attempt <= config.attempts; attempt++) {
    if (attempt > 1) await clock().sleep(config.retryDelayMs);
    last = await httpTransport().send({ url: endpointUrl(config.baseUrl, endpoint.path), method: endpoint.method, headers, timeoutMs: config.requestTimeoutMs });
    const problem = answerProblem(last, config);
    log(problem ? 'warn' : 'info', 'http gate attempt', { endpoint: label, attempt, status: last.status, latencyMs: last.latencyMs, problem });
    if (!problem) return { endpoint: label, ok: true, attempts: attempt, last };
  }
  return { endpoint: label, ok: false, attempts: config.attempts, last };
}

export async function handler(event: TrafficHookEvent): Promise<TrafficHookResult & { readonly endpoints?: readonly EndpointOutcome[] }> {
  const config = readConfig<HttpGateConfig>();
  const route = checkHookEvent(event, config.name);
  if ('status' in route) return route;
  const headers = { [route.header]: route.value };
  const outcomes: EndpointOutcome[] = [];
  for (const endpoint of config.endpoints) outcomes.push(await checkEndpoint(config, endpoint, headers));
  const bad = outcomes.filter((o) => !o.ok);
  if (bad.length > 0) {
    const details = bad.map((o) => `${o.endpoint} on ${route.value}: ${answerProblem(o.last, config)} (${o.attempts} attempt${o.attempts > 1 ? 's' : ''})`);
    return { ...failed(config.name, `${bad.length} of ${outcomes.length} endpoint${outcomes.length > 1 ? 's' : ''} failed: ${details.join('; ')}`), endpoints: outcomes };
  }
  const slowest = outcomes.reduce((a, b) => (b.last.latencyMs > a.last.latencyMs ? b : a));
  return { ...succeeded(config.name, `${outcomes.length} endpoint${outcomes.length > 1 ? 's' : ''} on ${route.value} answered below ${config.maxStatusExclusive} within ${config.maxLatencyMs} ms (slowest ${slowest.endpoint}: ${slowest.last.latencyMs} ms)`), endpoints: outcomes };
}
