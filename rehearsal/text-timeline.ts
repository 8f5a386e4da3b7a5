/**
 * A timeline of one-line entries at virtual times since a start: what the flag rollout's and the release plan's
 * rehearsals print as they go (the traffic rehearsal's timeline carries typed entries: rehearsal/result.ts).
 */
import type { Clock } from '../lambda/shared/clock';

/** One line of a timeline. */
export interface TextTimelineEntry {
  /** Virtual ms since the start. */
  readonly atMs: number;
  readonly text: string;
}

export class TextTimeline {
  private readonly recorded: TextTimelineEntry[] = [];

  /** `onEntry` hears each entry as it happens. */
  constructor(private readonly clock: Clock, private readonly startedAt: number, private readonly onEntry?: (entry: TextTimelineEntry) => void) {}

  /** Records `text` at the clock's now. */
  emit(text: string): void {
    const entry = { atMs: this.clock.now() - this.startedAt, text };
    this.recorded.push(entry);
    this.onEntry?.(entry);
  }

  /** The entries so far, in order. */
  get entries(): readonly TextTimelineEntry[] {
    return this.recorded;
  }
}
