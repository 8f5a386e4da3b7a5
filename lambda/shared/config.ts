import { CONFIG_ENV, ErrorName } from './contracts';
import { ZdtError } from './errors';

/** Reads and parses the handler's ZDT_CONFIG environment variable. */
export function readConfig<T>(env: NodeJS.ProcessEnv = process.env): T {
  const raw = env[CONFIG_ENV];
  if (!raw) throw new ZdtError(ErrorName.INVALID_REQUEST, `Environment variable ${CONFIG_ENV} is not set`);
  try {
    return JSON.parse(raw) as T;
  } catch (err) {
    throw new ZdtError(ErrorName.INVALID_REQUEST, `Environment variable ${CONFIG_ENV} is not valid JSON: ${(err as Error).message}`);
  }
}
