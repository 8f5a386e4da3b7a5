import { ScheduledClock } from '../../rehearsal/simulation-clock';
import { VirtualClock } from '../../rehearsal/virtual-clock';

const T0 = Date.parse('2026-01-05T09:00:00Z');

describe('ScheduledClock', () => {
  test('advancing it by hand runs every scheduled action due on the way, each at its instant, in time order', async () => {
    const clock = new ScheduledClock(new VirtualClock(T0));
    const ran: Array<[string, number]> = [];
    clock.schedule({ at: T0 + 20_000, label: 'second', run: () => { ran.push(['second', clock.now()]); } });
    clock.schedule({ at: T0 + 10_000, label: 'first', run: async () => { ran.push(['first', clock.now()]); } });
    clock.schedule({ at: T0 + 90_000, label: 'later', run: () => { ran.push(['later', clock.now()]); } });

    await clock.advance(30_000);

    expect(ran).toEqual([['first', T0 + 10_000], ['second', T0 + 20_000]]);
    expect(clock.now()).toBe(T0 + 30_000);
    expect(clock.unperformed().map((a) => a.label)).toEqual(['later']);
    await clock.advanceTo(T0 + 90_000);
    expect(ran.map(([label]) => label)).toEqual(['first', 'second', 'later']);
  });

  test('refuses to move backwards', async () => {
    const clock = new ScheduledClock(new VirtualClock(T0));
    await expect(clock.advanceTo(T0 - 1)).rejects.toThrow(/at or after 2026-01-05T09:00:00.000Z.*never moves backwards/);
  });
});
