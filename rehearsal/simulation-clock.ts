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
 *
 * The VirtualClock it wraps is private: moving that one directly would skip the actions. Move time by hand with
 * `advance` / `advanceTo`, which run the actions due on the way, each at its instant.
 */
export class ScheduledClock implements Clock {
  private readonly pending: Array<ScheduledAction & { done: boolean }> = [];

  constructor(private readonly inner: VirtualClock) {}

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

  /** Virtual time as an ISO-8601 string. */
  isoNow(): string {
    return this.inner.isoNow();
  }

  /**
   * Moves time forward by `ms` (as an operator's think time), running every scheduled action due on the way at its
   * instant, and wakes every sleeper due by then. Resolves once the actions have run.
   */
  advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new Error(`ScheduledClock.advance: expected a finite, non-negative number of milliseconds, got ${ms}`);
    }
    return this.advanceTo(this.inner.now() + ms);
  }

  /** Moves time forward to `epochMs` (never backwards), running the scheduled actions due by then, each at its instant. */
  async advanceTo(epochMs: number): Promise<void> {
    if (!Number.isFinite(epochMs) || epochMs < this.inner.now()) {
      throw new Error(`ScheduledClock.advanceTo: expected a time at or after ${this.inner.isoNow()}, got ${Number.isFinite(epochMs) ? new Date(epochMs).toISOString() : epochMs}; virtual time never moves backwards`);
    }
    for (;;) {
      const next = this.nextDue(epochMs);
      if (!next) break;
      if (next.at > this.inner.now()) this.inner.advanceTo(next.at);
      next.done = true;
      await next.run();
    }
    if (epochMs > this.inner.now()) this.inner.advanceTo(epochMs);
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const target = this.inner.now() + ms;
    for (;;) {
      if (signal?.aborted) return;
      const next = this.nextDue(target);
      if (!next) break;
      if (next.at > this.inner.now()) await this.inner.sleep(next.at - this.inner.now(), signal);
      if (next.done || signal?.aborted) continue;
      next.done = true;
      await next.run();
    }
    const rest = target - this.inner.now();
    if (rest > 0) await this.inner.sleep(rest, signal);
  }

  /** The earliest action not run yet whose time is at or before `epochMs`. */
  private nextDue(epochMs: number): (ScheduledAction & { done: boolean }) | undefined {
    return this.pending.filter((a) => !a.done && a.at <= epochMs).sort((a, b) => a.at - b.at)[0];
  }
}
