/**
 * The handlers' only source of time. Production uses the wall clock; the rehearsal swaps in a
 * virtual clock (setClock) so a 45-minute rollout runs in seconds and metrics line up with it.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Resolves `ms` later. An abort of `signal` ends the sleep at once (it resolves, it does not reject) and the clock
   * forgets it: a virtual clock does not jump to a wake-up that nobody waits for any more.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  }),
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
