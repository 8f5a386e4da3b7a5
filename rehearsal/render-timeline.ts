/**
 * The rehearsal's live terminal timeline: one line per TimelineEntry as it arrives (virtual time, kind, weights as
 * a small bar, verdict, alarm changes, events, faults) and, on a terminal, a progress bar redrawn in place below the
 * lines. Piped or in CI it prints plain lines only; colour follows `wantsColor` (NO_COLOR, TTY).
 */
import { COLORS, otherColor, type Color, type Weights } from '../lambda/shared/contracts';
import type { TimelineEntry, TimelineKind } from './result';
import { createStyle, formatClock, formatWeights, stripAnsi, weightBar, type Style } from './render-format';

/** Width of the kind column (`weights`, `verdict`...). */
const KIND_WIDTH = 8;
/** Width of the progress bar, in characters (one per 4% of traffic on the new color). */
export const PROGRESS_BAR_WIDTH = 25;
/** Terminal width assumed when the stream does not say. */
const DEFAULT_COLUMNS = 100;
/** ANSI: carriage return + erase the whole line (the progress bar is redrawn in place). */
const CLEAR_LINE = '\r\x1b[2K';
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ALARM_STATES = /\b(ALARM|OK|INSUFFICIENT_DATA)\b/g;

export interface FormatEntryOptions {
  readonly style?: Style;
}

/** One timeline line, e.g. `03:00  weights  ███████████████████░  blue 95 / green 5  step 2: 5% to green`. */
export function formatTimelineEntry(entry: TimelineEntry, options: FormatEntryOptions = {}): string {
  const style = options.style ?? createStyle(false);
  const head = `${style.dim(formatClock(entry.atMs))}  ${kindLabel(entry.kind, style)}  `;
  switch (entry.kind) {
    case 'weights': {
      if (!entry.weights) return `${head}${entry.text}`;
      // The numbers once: leave out a text that only repeats them ("weights blue 99% / green 1%").
      const repeats = /^(weights )?blue \d+%? \/ green \d+%?$/.test(entry.text.trim());
      return `${head}${weightBar(entry.weights, style)}  ${formatWeights(entry.weights)}${repeats ? '' : `  ${entry.text}`}`;
    }
    case 'verdict':
      return entry.verdict
        ? `${head}${style.verdict(entry.verdict, style.bold(entry.verdict.padEnd('INCONCLUSIVE'.length)))}  ${entry.text}`
        : `${head}${entry.text}`;
    case 'alarm': {
      const states = entry.text.match(ALARM_STATES);
      const last = states?.[states.length - 1];
      const paint = last === 'ALARM' ? style.bad : last === 'OK' ? style.good : style.warn;
      return `${head}${paint(entry.text)}`;
    }
    case 'event':
      return `${head}${/roll ?back/i.test(entry.text) ? style.bad(entry.text) : style.info(entry.text)}`;
    case 'fault':
      return `${head}${style.fault(entry.text)}`;
    case 'note':
      return `${head}${style.bold(style.warn(entry.text))}`;
    default:
      return `${head}${style.dim(entry.text)}`;
  }
}

function kindLabel(kind: TimelineKind, style: Style): string {
  const label = kind.padEnd(KIND_WIDTH);
  switch (kind) {
    case 'fault': return style.fault(label);
    case 'note': return style.warn(label);
    case 'event': return style.info(label);
    default: return style.dim(label);
  }
}

/** Where the printer writes. */
export interface TimelineSink {
  /** A finished line (no trailing newline). */
  line(text: string): void;
  /**
   * A terminal to draw the progress bar on, redrawn in place (usually stderr). Leave it out when output is piped
   * or in CI: then only lines are printed.
   */
  readonly progress?: { write(chunk: string): unknown; readonly columns?: number };
}

export interface TimelinePrinterOptions {
  readonly style?: Style;
  /** Also print every state the state machine enters (otherwise states only update the progress bar). @default false */
  readonly showStates?: boolean;
  /** The color being released; @default - the color that does not hold 100% in the first weights seen */
  readonly targetColor?: Color;
  /** Shown at the left of the progress bar, e.g. the scenario name. @default - none */
  readonly label?: string;
}

/**
 * Prints timeline entries as they arrive. Call `onEntry` for each entry (pass it as the rehearsal's timeline
 * callback) and `finish()` at the end, which erases the progress bar.
 */
export class TimelinePrinter {
  private readonly style: Style;
  private targetColor: Color | undefined;
  private weights: Weights | undefined;
  private state: string | undefined;
  private lastVerdict: string | undefined;
  private atMs = 0;
  private frame = 0;
  private progressShown = false;
  private printed = 0;

  constructor(private readonly sink: TimelineSink, private readonly options: TimelinePrinterOptions = {}) {
    this.style = options.style ?? createStyle(false);
    this.targetColor = options.targetColor;
  }

  /** Lines printed so far. */
  get linesPrinted(): number {
    return this.printed;
  }

  onEntry(entry: TimelineEntry): void {
    this.atMs = Math.max(this.atMs, entry.atMs);
    if (entry.state) this.state = entry.state;
    if (entry.verdict) this.lastVerdict = entry.verdict;
    if (entry.weights) {
      if (!this.targetColor) this.targetColor = inferTarget(entry.weights);
      this.weights = entry.weights;
    }
    if (entry.kind !== 'state' || this.options.showStates) {
      this.clearProgress();
      this.sink.line(formatTimelineEntry(entry, { style: this.style }));
      this.printed++;
    }
    this.drawProgress();
  }

  /** Erases the progress bar (call once the rehearsal has ended, before printing anything else). */
  finish(): void {
    this.clearProgress();
  }

  /** The progress line as it would be drawn now (without the leading erase). */
  progressLine(): string {
    const style = this.style;
    const target = this.targetColor ?? 'green';
    const share = this.weights ? this.weights[target] : 0;
    // Any share above 0 shows at least one cell, so a 1% canary is visible.
    const filled = share > 0 ? Math.max(1, Math.round((share / 100) * PROGRESS_BAR_WIDTH)) : 0;
    const bar = style.color(target, '█'.repeat(filled)) + style.dim('·'.repeat(PROGRESS_BAR_WIDTH - filled));
    const parts = [
      `${SPINNER[this.frame % SPINNER.length]} ${this.options.label ? `${this.options.label} ` : ''}${formatClock(this.atMs)}`,
      `[${bar}] ${target} ${share}%`,
      this.state ? `state ${this.state}` : undefined,
      this.lastVerdict ? `last verdict ${this.lastVerdict}` : undefined,
    ].filter((p): p is string => p !== undefined);
    return parts.join('  ');
  }

  private drawProgress(): void {
    const terminal = this.sink.progress;
    if (!terminal) return;
    this.frame++;
    // A pseudo-terminal may report 0 columns: treat that as unknown.
    const columns = terminal.columns && terminal.columns > 0 ? terminal.columns : DEFAULT_COLUMNS;
    let line = this.progressLine();
    if (stripAnsi(line).length >= columns) line = truncateVisible(line, columns - 1);
    terminal.write(`${CLEAR_LINE}${line}`);
    this.progressShown = true;
  }

  private clearProgress(): void {
    if (!this.progressShown || !this.sink.progress) return;
    this.sink.progress.write(CLEAR_LINE);
    this.progressShown = false;
  }
}

/** The color that does not carry 100% when the rollout starts is the one being released. */
function inferTarget(weights: Weights): Color | undefined {
  const full = COLORS.find((c) => weights[c] === 100);
  if (full) return otherColor(full);
  return weights.blue < weights.green ? 'blue' : 'green';
}

/** Cuts a line with ANSI codes to `width` visible characters (and resets styling). */
function truncateVisible(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length && visible < width; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      if (end < 0) break;
      out += line.slice(i, end + 1);
      i = end;
      continue;
    }
    out += line[i];
    visible++;
  }
  return `${out}\x1b[0m`;
}
