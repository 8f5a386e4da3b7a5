import type { Clock } from '../lambda/shared/clock';

/**
 * Where virtual time starts unless told otherwise: a fixed instant, so that two rehearsals of the
 * same scenario produce the same timeline, metrics and chart.
 */
export const DEFAULT_VIRTUAL_EPOCH_MS = Date.parse('2026-01-05T09:00:00.000Z');

/**
 * Event-loop turns (setImmediate rounds) a sleep request waits before virtual time jumps to the
 * earliest pending wake-up. Concurrent branches (Map iterations, Parallel branches, two executions)
 * that each start a sleep within a few turns of each other therefore sleep side by side, as they
 * would in the cloud, instead of one after the other. Each turn costs microseconds of real time.
 */
export const SETTLE_TURNS = 3;

interface Sleeper {
  readonly wakeAt: number;
  /** Tie-breaker: sleepers due at the same instant wake in the order they fell asleep. */
  readonly seq: number;
  readonly wake: () => void;
}

/**
 * A Clock (lambda/shared/clock.ts) whose time moves only when told.
 *
 * - `advance(ms)` / `advanceTo(epochMs)` move time forward and wake every sleeper that is due.
 * - `sleep(ms)` costs no real time: once the event loop has settled (SETTLE_TURNS), time jumps to
 *   the earliest pending wake-up. Sleeps that overlap in virtual time overlap, so two branches that
 *   each wait 10 minutes take 10 virtual minutes together, not 20.
 *
 * Install it for the handlers with `setClock(clock)` from lambda/shared/clock.ts; the runner uses
 * it for Wait states and Retry intervals.
 */
export class VirtualClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];
  private nextSeq = 0;
  private settling = false;

  constructor(startMs: number = DEFAULT_VIRTUAL_EPOCH_MS) {
    assertTime(startMs, 'startMs');
    this.current = startMs;
  }

  /** Virtual epoch milliseconds. */
  now(): number {
    return this.current;
  }

  /** Virtual time as an ISO-8601 string (what Step Functions puts in the context object). */
  isoNow(): string {
    return new Date(this.current).toISOString();
  }

  /** Number of sleeps that have not woken yet. */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms` and wakes every sleeper due by then, earliest first. */
  advance(ms: number): void {
    assertDuration(ms, 'advance');
    this.advanceTo(this.current + ms);
  }

  /** Moves time forward to `epochMs` (never backwards) and wakes every sleeper due by then. */
  advanceTo(epochMs: number): void {
    assertTime(epochMs, 'advanceTo');
    if (epochMs < this.current) {
      throw new Error(`VirtualClock.advanceTo: expected a time at or after ${new Date(this.current).toISOString()}, got ${new Date(epochMs).toISOString()}; virtual time never moves backwards`);
    }
    this.current = epochMs;
    this.wakeDue();
  }

  /**
   * Resolves when virtual time has moved `ms` forward from now, without waiting in real time
   * (beyond the few event-loop turns that let concurrent sleepers line up).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    assertDuration(ms, 'sleep');
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = { wakeAt: this.current + ms, seq: this.nextSeq++, wake: () => { signal?.removeEventListener('abort', cancel); resolve(); } };
      // An aborted sleep leaves the queue, so time never jumps to its wake-up.
      const cancel = () => { this.sleepers = this.sleepers.filter((s) => s !== sleeper); resolve(); };
      signal?.addEventListener('abort', cancel, { once: true });
      this.sleepers.push(sleeper);
      this.settleThenJump();
    });
  }

  private settleThenJump(): void {
    if (this.settling) return;
    this.settling = true;
    let turns = 0;
    const turn = (): void => {
      turns += 1;
      if (turns < SETTLE_TURNS) {
        setImmediate(turn);
        return;
      }
      this.settling = false;
      if (this.sleepers.length === 0) return;
      const earliest = Math.min(...this.sleepers.map((s) => s.wakeAt));
      if (earliest > this.current) this.current = earliest;
      this.wakeDue();
      // Woken code may fall asleep again; later sleepers wait for the next settle.
      if (this.sleepers.length > 0) this.settleThenJump();
    };
    setImmediate(turn);
  }

  private wakeDue(): void {
    const due = this.sleepers.filter((s) => s.wakeAt <= this.current);
    if (due.length === 0) return;
    this.sleepers = this.sleepers.filter((s) => s.wakeAt > this.current);
    due.sort((a, b) => a.wakeAt - b.wakeAt || a.seq - b.seq);
    for (const sleeper of due) sleeper.wake();
  }
}

function assertDuration(ms: number, operation: string): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new Error(`VirtualClock.${operation}: expected a finite, non-negative number of milliseconds, got ${ms}`);
  }
}

function assertTime(epochMs: number, operation: string): void {
  if (!Number.isFinite(epochMs)) {
    throw new Error(`VirtualClock.${operation}: expected finite epoch milliseconds, got ${epochMs}`);
  }
}
