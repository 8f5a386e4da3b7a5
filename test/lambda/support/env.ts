import { setClock } from '../../../lambda/shared/clock';
import { CONFIG_ENV, ErrorName } from '../../../lambda/shared/contracts';

process.env.ZDT_LOG_LEVEL = 'silent';

/** 2026-11-24T10:00:00.000Z: the fixed "now" of the handler tests. */
export const NOW_MS = Date.UTC(2026, 10, 24, 10, 0, 0);
export const NOW_SECONDS = NOW_MS / 1000;

/**
 * A clock frozen at NOW_MS whose sleeps return at once and are recorded. Call in beforeEach;
 * the returned `restore` goes in afterEach.
 */
export function fixedClock(): { readonly sleeps: number[]; readonly restore: () => void } {
  const sleeps: number[] = [];
  const restore = setClock({ now: () => NOW_MS, sleep: async (ms) => { sleeps.push(ms); } });
  return { sleeps, restore };
}

/** Sets the handler's ZDT_CONFIG for the next invocations. */
export function setConfig(config: unknown): void {
  process.env[CONFIG_ENV] = JSON.stringify(config);
}

/** Expects the handler to refuse with INVALID_REQUEST, naming the field ("field") and the value it got ("got <value>"). */
export async function expectInvalidRequest(result: Promise<unknown>, field: string, given: string): Promise<void> {
  const error = await result.then(() => undefined, (e: Error) => e);
  expect(error).toMatchObject({ name: ErrorName.INVALID_REQUEST });
  expect(error!.message).toContain(`"${field}"`);
  expect(error!.message).toContain(`got ${given}`);
}
