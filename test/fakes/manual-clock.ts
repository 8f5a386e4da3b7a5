import type { Clock } from '../../lambda/shared/clock';

/** A clock that only moves when told to; sleep() advances it at once. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 10, 24, 12, 0, 0)) {}
  now(): number { return this.current; }
  async sleep(ms: number): Promise<void> { this.current += ms; }
  advance(ms: number): void { this.current += ms; }
  advanceSeconds(seconds: number): void { this.current += seconds * 1000; }
}
