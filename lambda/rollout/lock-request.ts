import { CONFIG_ENV, LockConfig, LockRequest } from '../shared/contracts';
import { requireAction, requireColor, requireInteger, requireObject, requireString } from '../shared/validate';

const REQUEST = 'Lock request';
const CONFIG = `Lock ${CONFIG_ENV}`;

/** Validates a lock request (INVALID_REQUEST naming the field and the value given). */
export function parseLockRequest(event: unknown): LockRequest {
  const obj = requireObject(event, REQUEST);
  const action = requireAction(obj, ['acquire', 'pause'] as const, REQUEST);
  const owner = requireString(obj, 'owner', REQUEST);
  if (action === 'acquire') return { action, owner, ttlSeconds: requireInteger(obj, 'ttlSeconds', { min: 1 }, REQUEST) };
  return {
    action,
    owner,
    taskToken: requireString(obj, 'taskToken', REQUEST),
    step: requireInteger(obj, 'step', { min: 1 }, REQUEST),
  };
}

/** Validates the lock's configuration. */
export function parseLockConfig(raw: unknown): LockConfig {
  const obj = requireObject(raw, CONFIG, CONFIG_ENV);
  return {
    tableName: requireString(obj, 'tableName', CONFIG),
    service: requireString(obj, 'service', CONFIG),
    initialLiveColor: requireColor(obj, 'initialLiveColor', CONFIG),
    ...(obj.subject === undefined ? {} : { subject: requireString(obj, 'subject', CONFIG) }),
  };
}
