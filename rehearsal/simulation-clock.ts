import type { Clock } from '../lambda/shared/clock';
import type { VirtualClock } from './virtual-clock';

/** Something the simulation does at a virtual instant (an operator's command, a stack update, a second rollout). */
export interface ScheduledAction {
  /** Epoch ms. */
  readonly at: number;
  readonly label: string;
  readonly run: () => Promise<void> | void;
}

/**
 * The clock the rehearsal gives the state machine and the handlers: a VirtualClock whose sleeps stop at every
 * scheduled action, run it, then sleep on. Actions run inside the sleep of whoever waits past their time, so they
 * happen exactly at their instant without a background sleeper (which could let virtual time jump while a task
 * is still busy between two awaits).
 */
export class ScheduledClock implements Clock {
  private readonly pending: Array<ScheduledAction & { done: boolean }> = [];

  constructor(readonly inner: VirtualClock) {}

  now(): number {
    return this.inner.now();
  }

  /** Runs `action` when some sleep reaches its time (at once in the next sleep when the time has passed). */
  schedule(action: ScheduledAction): void {
    this.pending.push({ ...action, done: false });
  }

  /** Actions whose time no sleep reached (the run ended first). */
  unperformed(): ScheduledAction[] {
    return this.pending.filter((a) => !a.done);
  }

  async sleep(ms: number): Promise<void> {
    const target = this.inner.now() + ms;
    for (;;) {
      const next = this.pending.filter((a) => !a.done && a.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      if (next.at > this.inner.now()) await this.inner.sleep(next.at - this.inner.now());
      if (next.done) continue;
      next.done = true;
      await next.run();
    }
    const rest = target - this.inner.now();
    if (rest > 0) await this.inner.sleep(rest);
  }
}
