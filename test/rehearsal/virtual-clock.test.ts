import { clock, setClock } from '../../lambda/shared/clock';
import { DEFAULT_VIRTUAL_EPOCH_MS, VirtualClock } from '../../rehearsal';

describe('VirtualClock', () => {
  test('starts at a fixed instant and moves only when told', async () => {
    const c = new VirtualClock();
    expect(c.now()).toBe(DEFAULT_VIRTUAL_EPOCH_MS);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(c.now()).toBe(DEFAULT_VIRTUAL_EPOCH_MS);
    c.advance(1500);
    expect(c.now()).toBe(DEFAULT_VIRTUAL_EPOCH_MS + 1500);
    expect(c.isoNow()).toBe(new Date(DEFAULT_VIRTUAL_EPOCH_MS + 1500).toISOString());
  });

  // Not measured in real milliseconds (a loaded 2-core machine made that flaky): a virtual hour must not arm any
  // real timer longer than a tick.
  test('sleeps an hour without waiting for a real timer', async () => {
    const c = new VirtualClock(0);
    const timeout = jest.spyOn(global, 'setTimeout');
    try {
      await c.sleep(60 * 60 * 1000);
      expect(c.now()).toBe(60 * 60 * 1000);
      const delays = timeout.mock.calls.map((call) => Number(call[1] ?? 0));
      expect(delays.filter((ms) => ms > 10)).toEqual([]);
    } finally {
      timeout.mockRestore();
    }
  });

  test('overlaps sleeps that run at the same time, and wakes them in order', async () => {
    const c = new VirtualClock(0);
    const woke: Array<[string, number]> = [];
    const sleeper = async (name: string, ms: number) => { await c.sleep(ms); woke.push([name, c.now()]); };
    await Promise.all([sleeper('long', 600), sleeper('short', 300), sleeper('tie', 300)]);
    expect(woke).toEqual([['short', 300], ['tie', 300], ['long', 600]]);
    expect(c.now()).toBe(600);
  });

  test('lets a woken sleeper sleep again before later sleepers wake', async () => {
    const c = new VirtualClock(0);
    const woke: Array<[string, number]> = [];
    const twice = async () => { await c.sleep(100); await c.sleep(100); woke.push(['twice', c.now()]); };
    const once = async () => { await c.sleep(150); woke.push(['once', c.now()]); };
    await Promise.all([twice(), once()]);
    expect(woke).toEqual([['once', 150], ['twice', 200]]);
  });

  test('forgets an aborted sleep, so time never jumps to a wake-up nobody waits for', async () => {
    const c = new VirtualClock(0);
    const controller = new AbortController();
    const abandoned = c.sleep(60_000, controller.signal);
    controller.abort();
    await abandoned;
    expect(c.pendingSleeps).toBe(0);
    await c.sleep(100);
    expect(c.now()).toBe(100);
    // Already aborted: resolves at once, without queueing.
    await c.sleep(5_000, controller.signal);
    expect(c.now()).toBe(100);
  });

  test('wakes due sleepers when advanced explicitly', async () => {
    const c = new VirtualClock(0);
    let woke = false;
    const sleeping = c.sleep(1000).then(() => { woke = true; });
    c.advance(1000);
    await sleeping;
    expect(woke).toBe(true);
    expect(c.now()).toBe(1000);
    expect(c.pendingSleeps).toBe(0);
  });

  test('is what the handlers\' clock() returns once installed', () => {
    const c = new VirtualClock(42);
    const restore = setClock(c);
    try {
      expect(clock().now()).toBe(42);
    } finally {
      restore();
    }
    expect(clock()).not.toBe(c);
  });

  test('refuses to go backwards or sleep a negative time', () => {
    const c = new VirtualClock(1000);
    expect(() => c.advanceTo(999)).toThrow(/never moves backwards/);
    expect(() => c.sleep(-1)).toThrow(/non-negative/);
    expect(() => c.advance(Number.NaN)).toThrow(/finite/);
  });
});
