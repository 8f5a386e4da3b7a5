/**
 * Formatting shared by the rehearsal's terminal output (timeline, summary): virtual time, durations, counts,
 * weights as a small bar, and ANSI styling that switches itself off when colour is not wanted.
 */
import type { Color, Verdict, Weights } from '../lambda/shared/contracts';

const MS_PER_SECOND = 1_000;
const SECONDS_PER_MINUTE = 60;
const MINUTES_PER_HOUR = 60;
const MS_PER_MINUTE = MS_PER_SECOND * SECONDS_PER_MINUTE;
const MS_PER_HOUR = MS_PER_MINUTE * MINUTES_PER_HOUR;
/** Width of the weights bar in characters (one character = 5% of traffic). */
export const WEIGHT_BAR_WIDTH = 20;
/** Glyphs of the weights bar, distinct without colour: blue is dense, green is light. */
export const BAR_GLYPH: Record<Color, string> = { blue: '█', green: '░' };

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Virtual time since the rollout started as `mm:ss` (`h:mm:ss` from one hour on). */
export function formatClock(ms: number): string {
  const totalSeconds = Math.floor(Math.max(0, ms) / MS_PER_SECOND);
  const hours = Math.floor(totalSeconds / (SECONDS_PER_MINUTE * MINUTES_PER_HOUR));
  const minutes = Math.floor(totalSeconds / SECONDS_PER_MINUTE) % MINUTES_PER_HOUR;
  const seconds = totalSeconds % SECONDS_PER_MINUTE;
  return hours > 0 ? `${hours}:${pad2(minutes)}:${pad2(seconds)}` : `${pad2(minutes)}:${pad2(seconds)}`;
}

/** A duration for a person: `350 ms`, `42 s`, `2 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  if (ms < MS_PER_SECOND) return `${Math.round(ms)} ms`;
  if (ms < MS_PER_MINUTE) {
    const s = ms / MS_PER_SECOND;
    return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
  }
  const totalSeconds = Math.round(ms / MS_PER_SECOND);
  if (ms < MS_PER_HOUR) {
    const m = Math.floor(totalSeconds / SECONDS_PER_MINUTE);
    const s = totalSeconds % SECONDS_PER_MINUTE;
    return s === 0 ? `${m} min` : `${m} min ${pad2(s)} s`;
  }
  const totalMinutes = Math.round(ms / MS_PER_MINUTE);
  const h = Math.floor(totalMinutes / MINUTES_PER_HOUR);
  const m = totalMinutes % MINUTES_PER_HOUR;
  return m === 0 ? `${h} h` : `${h} h ${pad2(m)} min`;
}

/** 1234567 -> `1,234,567` (fixed locale so output does not depend on the machine). */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A percentage with sensible precision: `0%`, `0.013%`, `2.5%`, `20%`. */
export function formatPercent(value: number): string {
  if (value === 0) return '0%';
  const abs = Math.abs(value);
  if (abs >= 10) return `${Math.round(value * 10) / 10}%`;
  if (abs >= 1) return `${Math.round(value * 100) / 100}%`;
  return `${Number(value.toPrecision(2))}%`;
}

/** US dollars with enough digits to show a rollout's fraction of a cent. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  return `$${Number(usd.toPrecision(2)).toString()}`;
}

/** `blue 95 / green 5`. */
export function formatWeights(weights: Weights): string {
  return `blue ${weights.blue} / green ${weights.green}`;
}

/** ANSI styling; every method returns its text unchanged when colour is off. */
export interface Style {
  readonly enabled: boolean;
  color(color: Color, text: string): string;
  verdict(verdict: Verdict, text: string): string;
  bad(text: string): string;
  good(text: string): string;
  warn(text: string): string;
  info(text: string): string;
  fault(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const ANSI = {
  reset: '\x1b[0m', bold: '\x1b[1m', dim: '\x1b[2m',
  red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', blue: '\x1b[34m', magenta: '\x1b[35m', cyan: '\x1b[36m',
} as const;

export function createStyle(enabled: boolean): Style {
  const wrap = (code: string) => (text: string) => (enabled && text.length > 0 ? `${code}${text}${ANSI.reset}` : text);
  const red = wrap(ANSI.red);
  const green = wrap(ANSI.green);
  const yellow = wrap(ANSI.yellow);
  return {
    enabled,
    color: (color, text) => (color === 'blue' ? wrap(ANSI.blue)(text) : green(text)),
    verdict: (verdict, text) => (verdict === 'FAIL' ? red(text) : verdict === 'PASS' ? green(text) : yellow(text)),
    bad: red,
    good: green,
    warn: yellow,
    info: wrap(ANSI.cyan),
    fault: wrap(ANSI.magenta),
    dim: wrap(ANSI.dim),
    bold: wrap(ANSI.bold),
  };
}

/** What decides whether terminal output gets colour. */
export interface ColorContext {
  readonly isTTY?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Colour only on a terminal, never when NO_COLOR is set (https://no-color.org) or TERM is `dumb`;
 * FORCE_COLOR (non-empty, not `0`) turns it on even when piped.
 */
export function wantsColor(ctx: ColorContext): boolean {
  const env = ctx.env ?? {};
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return ctx.isTTY === true;
}

/** Weights as a bar of WEIGHT_BAR_WIDTH characters: blue from the left, green to the right. */
export function weightBar(weights: Weights, style: Style, width: number = WEIGHT_BAR_WIDTH): string {
  const total = weights.blue + weights.green;
  let blueCells = total === 0 ? 0 : Math.round((weights.blue / total) * width);
  // A small canary still shows: any share above 0 gets at least one cell.
  if (weights.green > 0 && blueCells === width) blueCells = width - 1;
  if (weights.blue > 0 && blueCells === 0) blueCells = 1;
  const greenCells = width - blueCells;
  return style.color('blue', BAR_GLYPH.blue.repeat(blueCells)) + style.color('green', BAR_GLYPH.green.repeat(greenCells));
}

/** Removes ANSI escape sequences (for width calculations and tests). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}
