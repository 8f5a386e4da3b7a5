/**
 * The database gate (ValidationGate.database): a traffic hook that reads the database's secret, connects and runs
 * `SELECT 1`, all within `timeoutMs` (1 s by default). The secret is read once per invocation and again only after
 * a refused login (rotation). `attempts` tries `retryDelayMs` apart; it passes on its first
 * good try. The reason names the gate, the database (host:port/name), the time taken or the error, and the limit.
 */
import { clock } from '../shared/clock';
import { readConfig } from '../shared/config';
import { TrafficHookEvent, TrafficHookResult } from '../shared/contracts';
import { log } from '../shared/log';
import { CachedRdsSecret } from '../shared/rds-secret';
import { databaseProbe, DatabaseProbeResult } from './database-probe';
import { DatabaseGateConfig } from './gate-contract';
import { failed, succeeded } from './hook-event';

/** Why a try is not good enough, or undefined when it is. */
function problemOf(result: DatabaseProbeResult, config: DatabaseGateConfig): string | undefined {
  if (!result.ok) return `${result.error ?? 'failed'} after ${result.latencyMs} ms`;
  if (result.latencyMs > config.timeoutMs) return `SELECT 1 answered in ${result.latencyMs} ms`;
  return undefined;
}

export async function handler(_event: TrafficHookEvent): Promise<TrafficHookResult> {
  const config = readConfig<DatabaseGateConfig>();
  let last: DatabaseProbeResult = { ok: false, latencyMs: 0, error: 'not tried' };
  let problem: string | undefined = 'not tried';
  const secret = new CachedRdsSecret(config.secretArn);
  for (let attempt = 1; attempt <= config.attempts; attempt++) {
    if (attempt > 1) await clock().sleep(config.retryDelayMs);
    last = await databaseProbe().check({ secret, timeoutMs: config.timeoutMs, tls: config.tls });
    problem = problemOf(last, config);
    log(problem ? 'warn' : 'info', 'database gate attempt', { attempt, target: last.target, latencyMs: last.latencyMs, problem });
    if (!problem) {
      return succeeded(config.name, `connected to ${last.target} and SELECT 1 answered in ${last.latencyMs} ms (limit: ${config.timeoutMs} ms)${attempt > 1 ? ` on attempt ${attempt}` : ''}`);
    }
  }
  const where = last.target ? `${last.target}: ` : '';
  return failed(config.name, `${where}${problem} (limit: connect and SELECT 1 within ${config.timeoutMs} ms; ${config.attempts} attempt${config.attempts > 1 ? 's' : ''})`);
}
