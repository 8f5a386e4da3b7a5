/**
 * The handlers' only source of time. Production uses the wall clock; the rehearsal swaps in a
 * virtual clock (setClock) so a 45-minute rollout runs in seconds and metrics line up with it.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

let current: Clock = systemClock;

export function clock(): Clock {
  return current;
}

/** Replace the clock (rehearsal and tests). Returns a function that restores the previous one. */
export function setClock(next: Clock): () => void {
  const previous = current;
  current = next;
  return () => { current = previous; };
}
