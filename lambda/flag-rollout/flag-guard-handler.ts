import { CONFIG_ENV } from '../shared/contracts';
import { requireObject, requireString } from '../shared/validate';
import { guardHandler } from '../rollout/guard-entry';
import { parseLockConfig } from '../rollout/lock-request';
import { FlagGuardConfig, FlagRolloutConfig } from './flag-rollout-contract';
import { guardFlagRolloutWithReport } from './flag-guard';

const CONFIG = `Flag guard ${CONFIG_ENV}`;

/** Validates the flag guard's configuration: the lock's as the lock checks it, the flag rollout's names. */
export function parseFlagGuardConfig(raw: unknown): FlagGuardConfig {
  const obj = requireObject(raw, CONFIG, CONFIG_ENV);
  const rollout = requireObject(obj.flagRollout, CONFIG, 'flagRollout');
  for (const field of ['applicationId', 'environmentId', 'configurationProfileId', 'configurationProfileName', 'deploymentStrategyId', 'flagKey', 'treatment']) {
    requireString(rollout, field, `${CONFIG} flagRollout`);
  }
  return {
    flagRollout: rollout as unknown as FlagRolloutConfig,
    lock: parseLockConfig(obj.lock),
    service: requireString(obj, 'service', CONFIG),
    eventBusName: obj.eventBusName === undefined ? undefined : requireString(obj, 'eventBusName', CONFIG),
  };
}

/**
 * The flag rollout's execution guard (flag-guard.ts), invoked by its ExecutionEnded rule or re-driven from its retry
 * queue (lambda/rollout/guard-entry.ts).
 */
export const handler = guardHandler({ parseConfig: parseFlagGuardConfig, guard: guardFlagRolloutWithReport });
