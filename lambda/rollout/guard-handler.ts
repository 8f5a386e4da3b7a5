import { CONFIG_ENV, GuardConfig } from '../shared/contracts';
import { requireObject, requireString } from '../shared/validate';
import { parseRouterConfig } from '../routing/router-request';
import { guardWithReport } from './guard';
import { guardHandler } from './guard-entry';
import { parseLockConfig } from './lock-request';

const CONFIG = `Guard ${CONFIG_ENV}`;

/** Validates the guard's configuration: the router's and the lock's, checked as theirs are. */
export function parseGuardConfig(raw: unknown): GuardConfig {
  const obj = requireObject(raw, CONFIG, CONFIG_ENV);
  return {
    router: parseRouterConfig(obj.router),
    lock: parseLockConfig(obj.lock),
    eventBusName: obj.eventBusName === undefined ? undefined : requireString(obj, 'eventBusName', CONFIG),
  };
}

/**
 * The traffic rollout's execution guard (guard.ts), invoked by the ExecutionEnded rule or re-driven from its retry
 * queue (guard-entry.ts).
 */
export const handler = guardHandler({ parseConfig: parseGuardConfig, guard: guardWithReport });
