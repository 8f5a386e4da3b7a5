/**
 * The rehearsal's chart as a hand-written SVG (no dependency): traffic weights of blue and green over time (top
 * panel, 0-100%) and each color's 5xx error rate (bottom panel), with step boundaries, the regression's start,
 * detection and "safe" markers, axis labels and a legend. Opens in any browser or image viewer.
 *
 * Elements carry `data-series` / `data-marker` attributes so tests (and curious users) can find them.
 */
import { COLORS, type Color, type Weights } from '../lambda/shared/contracts';
import type { RehearsalResult, SeriesPoint } from './result';
import { formatClock, formatCount, formatDuration, formatPercent } from './render-format';
import { OUTCOME_LABEL } from './render-summary';

/** Canvas and panel geometry, in SVG user units (pixels). */
const WIDTH = 1000;
const HEIGHT = 640;
const LEFT = 80;
const RIGHT = 30;
const WEIGHTS_TOP = 150;
const WEIGHTS_BOTTOM = 340;
const ERRORS_TOP = 385;
const ERRORS_BOTTOM = 565;
const PLOT_RIGHT = WIDTH - RIGHT;
const PLOT_WIDTH = PLOT_RIGHT - LEFT;
/** Rows of marker labels above the weights panel, so labels of close markers do not overlap. */
const MARKER_LABEL_ROWS = 4;
/** Estimated width of one character of an 11px label, for placing labels without overlap. */
const LABEL_CHAR_WIDTH = 6;
/** Which marker's colour a shared label takes: the most important kind at that instant. */
const MARKER_PRIORITY: Record<ChartMarker['kind'], number> = { step: 0, regression: 1, safe: 2, detected: 3 };
const MARKER_LABEL_ROW_HEIGHT = 13;

/** Stroke colours: blue and green as the colors, markers in distinct hues. */
const PALETTE = {
  blue: '#1f63d6',
  green: '#1e9e4a',
  grid: '#e3e6ea',
  axis: '#5b6470',
  text: '#1d232b',
  muted: '#5b6470',
  step: '#9aa3ad',
  regression: '#e07b00',
  detected: '#d12c2c',
  safe: '#6b3fc4',
  threshold: '#d12c2c',
} as const;

/** At most this many error-rate buckets are drawn (per-second samples are aggregated into wider buckets). */
export const MAX_ERROR_BUCKETS = 120;
/** Bucket widths tried, smallest first, seconds. */
const BUCKET_SECONDS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600];
/** Upper bounds tried for the error-rate axis, percent. */
const ERROR_AXIS_STEPS = [1, 2, 5, 10, 20, 25, 50, 100];
/** Candidate tick spacings of the time axis, seconds. */
const TIME_TICK_SECONDS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
/** Aim for about this many time ticks. */
const TARGET_TIME_TICKS = 10;
const MS_PER_SECOND = 1000;

export interface ChartOptions {
  /** Title line. @default - "Rehearsal: <scenario>" */
  readonly title?: string;
  /** Error-rate threshold to draw as a dashed line (e.g. the analysis' maxErrorRatePercent). @default - none */
  readonly errorThresholdPercent?: number;
}

/** A marker: a vertical line across both panels at a point in virtual time. */
export interface ChartMarker {
  readonly kind: 'step' | 'regression' | 'detected' | 'safe';
  readonly atMs: number;
  readonly label: string;
}

/** One aggregated error-rate sample per color. */
export interface ErrorBucket {
  readonly startMs: number;
  readonly endMs: number;
  readonly requests: Record<Color, number>;
  readonly errors: Record<Color, number>;
  /** null when the color served no requests in the bucket. */
  readonly errorRatePercent: Record<Color, number | null>;
}

/** Renders the chart of one rehearsal as an SVG document. */
export function renderChart(result: RehearsalResult, options: ChartOptions = {}): string {
  const s = result.summary;
  const endMs = Math.max(1, s.durationMs, lastAt(result.series), lastAt(result.timeline));
  const x = (ms: number) => LEFT + (Math.min(Math.max(ms, 0), endMs) / endMs) * PLOT_WIDTH;
  const yWeight = (percent: number) => WEIGHTS_BOTTOM - (percent / 100) * (WEIGHTS_BOTTOM - WEIGHTS_TOP);

  const buckets = errorBuckets(result.series, endMs);
  const maxRate = Math.max(0, ...buckets.flatMap((b) => COLORS.map((c) => b.errorRatePercent[c] ?? 0)), options.errorThresholdPercent ?? 0);
  const errorAxisMax = ERROR_AXIS_STEPS.find((v) => v >= maxRate) ?? 100;
  const yError = (percent: number) => ERRORS_BOTTOM - (Math.min(percent, errorAxisMax) / errorAxisMax) * (ERRORS_BOTTOM - ERRORS_TOP);
  const weightPoints = weightSteps(result);
  const markers = chartMarkers(result);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  const title = options.title ?? `Rehearsal: ${s.scenario}`;
  out.push(`<title>${esc(title)}</title>`);
  out.push(`<desc>${esc(describe(result))}</desc>`);
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);

  // Title and subtitle.
  out.push(`<text x="${LEFT}" y="26" font-size="18" font-weight="bold" fill="${PALETTE.text}">${esc(title)} · ${esc(OUTCOME_LABEL[s.outcome])}</text>`);
  out.push(`<text x="${LEFT}" y="44" fill="${PALETTE.text}">${esc(s.strategy)}</text>`);
  out.push(`<text x="${LEFT}" y="60" fill="${PALETTE.muted}">${esc(subtitle(result))}</text>`);

  // Legend.
  out.push(legend());

  // Weights panel.
  out.push(panelFrame('weights', WEIGHTS_TOP, WEIGHTS_BOTTOM, [0, 25, 50, 75, 100].map((v) => ({ y: yWeight(v), label: `${v}%` })), 'traffic weight (%)'));
  for (const color of COLORS) {
    const steps = weightPoints.map((p) => ({ atMs: p.atMs, value: p.weights[color] }));
    const line = stepPath(steps, endMs, x, yWeight);
    if (!line) continue;
    const area = `${line} L${fmt(x(endMs))},${fmt(yWeight(0))} L${fmt(x(steps[0].atMs))},${fmt(yWeight(0))} Z`;
    out.push(`<g data-series="weight-${color}">`);
    out.push(`<path d="${area}" fill="${PALETTE[color]}" fill-opacity="${color === 'green' ? 0.22 : 0.14}" stroke="none"/>`);
    out.push(`<path d="${line}" fill="none" stroke="${PALETTE[color]}" stroke-width="2.5"/>`);
    out.push('</g>');
  }

  // Error-rate panel.
  const errorTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * errorAxisMax);
  const bucketSeconds = buckets.length > 0 ? (buckets[0].endMs - buckets[0].startMs) / MS_PER_SECOND : 1;
  out.push(panelFrame('errors', ERRORS_TOP, ERRORS_BOTTOM, errorTicks.map((v) => ({ y: yError(v), label: formatPercent(v) })),
    `5xx error rate (%), per ${bucketSeconds} s`));
  if (options.errorThresholdPercent !== undefined) {
    const y = fmt(yError(options.errorThresholdPercent));
    out.push(`<g data-series="error-threshold"><line x1="${LEFT}" y1="${y}" x2="${PLOT_RIGHT}" y2="${y}" stroke="${PALETTE.threshold}" stroke-width="1" stroke-dasharray="2 3"/>`
      + `<text x="${PLOT_RIGHT - 4}" y="${fmt(yError(options.errorThresholdPercent) - 4)}" text-anchor="end" fill="${PALETTE.threshold}" font-size="11">threshold ${esc(formatPercent(options.errorThresholdPercent))}</text></g>`);
  }
  for (const color of COLORS) {
    const path = bucketLine(buckets.map((b) => ({ startMs: b.startMs, endMs: b.endMs, value: b.errorRatePercent[color] })), x, yError);
    out.push(`<g data-series="error-rate-${color}">${path ? `<path d="${path}" fill="none" stroke="${PALETTE[color]}" stroke-width="2" stroke-linejoin="round"/>` : ''}</g>`);
  }

  // Markers across both panels: one line each; markers at the same instant share one label.
  const groups = new Map<number, ChartMarker[]>();
  for (const m of markers) groups.set(Math.round(m.atMs), [...(groups.get(Math.round(m.atMs)) ?? []), m]);
  const rowsEnd: number[] = Array.from({ length: MARKER_LABEL_ROWS }, () => -Infinity);
  for (const group of groups.values()) {
    const px = x(group[0].atMs);
    for (const m of [...group].sort((a, b) => MARKER_PRIORITY[a.kind] - MARKER_PRIORITY[b.kind])) {
      const colour = m.kind === 'step' ? PALETTE.step : PALETTE[m.kind];
      const dash = m.kind === 'step' ? ' stroke-dasharray="4 4"' : '';
      out.push(`<g data-marker="${m.kind}" data-at-ms="${Math.round(m.atMs)}">`
        + `<line x1="${fmt(px)}" y1="${WEIGHTS_TOP}" x2="${fmt(px)}" y2="${ERRORS_BOTTOM}" stroke="${colour}" stroke-width="${m.kind === 'step' ? 1 : 2}"${dash}/></g>`);
    }
    const lead = group.reduce((a, b) => (MARKER_PRIORITY[b.kind] > MARKER_PRIORITY[a.kind] ? b : a));
    const label = [...group].sort((a, b) => MARKER_PRIORITY[b.kind] - MARKER_PRIORITY[a.kind]).map((m) => m.label).join(' · ');
    const width = label.length * LABEL_CHAR_WIDTH;
    const anchor = labelAnchor(px);
    const left = anchor === 'start' ? px : anchor === 'end' ? px - width : px - width / 2;
    // The lowest row whose last label ends before this one starts (else the row that frees up first).
    let row = rowsEnd.findIndex((end) => end + LABEL_CHAR_WIDTH < left);
    if (row < 0) row = rowsEnd.indexOf(Math.min(...rowsEnd));
    rowsEnd[row] = left + width;
    const colour = lead.kind === 'step' ? PALETTE.muted : PALETTE[lead.kind];
    out.push(`<text data-marker-label="${lead.kind}" x="${fmt(px)}" y="${WEIGHTS_TOP - 8 - row * MARKER_LABEL_ROW_HEIGHT}" text-anchor="${anchor}" font-size="11" fill="${colour}">${esc(label)}</text>`);
  }

  // Time axis.
  out.push(timeAxis(endMs, x));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Error rate per color aggregated into equal buckets (at most MAX_ERROR_BUCKETS), from the per-second series. */
export function errorBuckets(series: readonly SeriesPoint[], endMs: number): ErrorBucket[] {
  if (series.length === 0) return [];
  const stepMs = seriesStepMs(series);
  const seconds = BUCKET_SECONDS.find((b) => b * MS_PER_SECOND >= stepMs && endMs / (b * MS_PER_SECOND) <= MAX_ERROR_BUCKETS)
    ?? BUCKET_SECONDS[BUCKET_SECONDS.length - 1];
  const size = seconds * MS_PER_SECOND;
  const byIndex = new Map<number, { requests: Record<Color, number>; errors: Record<Color, number> }>();
  for (const p of series) {
    const i = Math.floor(p.atMs / size);
    const b = byIndex.get(i) ?? { requests: { blue: 0, green: 0 }, errors: { blue: 0, green: 0 } };
    for (const c of COLORS) {
      b.requests[c] += p.requests[c];
      b.errors[c] += p.errors[c];
    }
    byIndex.set(i, b);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([i, b]) => ({
    startMs: i * size,
    endMs: (i + 1) * size,
    requests: b.requests,
    errors: b.errors,
    errorRatePercent: {
      blue: b.requests.blue > 0 ? (100 * b.errors.blue) / b.requests.blue : null,
      green: b.requests.green > 0 ? (100 * b.errors.green) / b.requests.green : null,
    },
  }));
}

/** The series' sampling step: the smallest gap between two points (1 s when there is only one point). */
function seriesStepMs(series: readonly SeriesPoint[]): number {
  let step = Infinity;
  for (let i = 1; i < series.length; i++) step = Math.min(step, series[i].atMs - series[i - 1].atMs);
  return Number.isFinite(step) && step > 0 ? step : MS_PER_SECOND;
}

/** Step boundaries (each weights change after the first), regression start, detection and safe. */
export function chartMarkers(result: RehearsalResult): ChartMarker[] {
  const s = result.summary;
  const markers: ChartMarker[] = [];
  let previous: Weights | undefined;
  for (const e of result.timeline) {
    if (e.kind !== 'weights' || !e.weights) continue;
    if (previous && (previous.blue !== e.weights.blue || previous.green !== e.weights.green)) {
      const gainer: Color = e.weights.green > previous.green ? 'green' : 'blue';
      markers.push({ kind: 'step', atMs: e.atMs, label: `${gainer} ${e.weights[gainer]}%` });
    }
    previous = e.weights;
  }
  if (s.regressionStartedAtMs !== undefined) markers.push({ kind: 'regression', atMs: s.regressionStartedAtMs, label: 'regression starts' });
  if (s.detectedAtMs !== undefined) markers.push({ kind: 'detected', atMs: s.detectedAtMs, label: 'detected' });
  if (s.safeAtMs !== undefined) markers.push({ kind: 'safe', atMs: s.safeAtMs, label: 'safe (100% stable)' });
  return markers.sort((a, b) => a.atMs - b.atMs);
}

/** Weight changes over time: from the series when there is one, else from the timeline's weights entries. */
function weightSteps(result: RehearsalResult): { atMs: number; weights: Weights }[] {
  const source = result.series.length > 0
    ? result.series.map((p) => ({ atMs: p.atMs, weights: p.weights }))
    : result.timeline.filter((e) => e.weights).map((e) => ({ atMs: e.atMs, weights: e.weights! }));
  const steps: { atMs: number; weights: Weights }[] = [];
  for (const p of source) {
    const last = steps[steps.length - 1];
    if (!last || last.weights.blue !== p.weights.blue || last.weights.green !== p.weights.green) steps.push(p);
  }
  return steps;
}

/** A step line: horizontal until the next change, vertical at the change, extended to the end of the chart. */
function stepPath(points: { atMs: number; value: number }[], endMs: number, x: (ms: number) => number, y: (v: number) => number): string {
  if (points.length === 0) return '';
  const d = [`M${fmt(x(points[0].atMs))},${fmt(y(points[0].value))}`];
  for (let i = 1; i < points.length; i++) {
    d.push(`L${fmt(x(points[i].atMs))},${fmt(y(points[i - 1].value))}`, `L${fmt(x(points[i].atMs))},${fmt(y(points[i].value))}`);
  }
  d.push(`L${fmt(x(endMs))},${fmt(y(points[points.length - 1].value))}`);
  return d.join(' ');
}

/** One horizontal segment per bucket, joined to the next; broken where the value is null (no requests). */
function bucketLine(buckets: { startMs: number; endMs: number; value: number | null }[], x: (ms: number) => number, y: (v: number) => number): string {
  const d: string[] = [];
  let pen = false;
  let lastEnd = -1;
  for (const b of buckets) {
    if (b.value === null || (pen && b.startMs !== lastEnd)) pen = false;
    if (b.value === null) continue;
    d.push(`${pen ? 'L' : 'M'}${fmt(x(b.startMs))},${fmt(y(b.value))}`, `L${fmt(x(b.endMs))},${fmt(y(b.value))}`);
    pen = true;
    lastEnd = b.endMs;
  }
  return d.join(' ');
}

function panelFrame(name: string, top: number, bottom: number, ticks: { y: number; label: string }[], axisLabel: string): string {
  const parts = [`<g data-panel="${name}">`];
  for (const t of ticks) {
    parts.push(`<line x1="${LEFT}" y1="${fmt(t.y)}" x2="${PLOT_RIGHT}" y2="${fmt(t.y)}" stroke="${PALETTE.grid}" stroke-width="1"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${fmt(t.y + 4)}" text-anchor="end" fill="${PALETTE.axis}" font-size="11">${esc(t.label)}</text>`);
  }
  parts.push(`<line x1="${LEFT}" y1="${top}" x2="${LEFT}" y2="${bottom}" stroke="${PALETTE.axis}" stroke-width="1"/>`);
  parts.push(`<line x1="${LEFT}" y1="${bottom}" x2="${PLOT_RIGHT}" y2="${bottom}" stroke="${PALETTE.axis}" stroke-width="1"/>`);
  const midY = (top + bottom) / 2;
  parts.push(`<text x="18" y="${fmt(midY)}" text-anchor="middle" fill="${PALETTE.text}" transform="rotate(-90 18 ${fmt(midY)})">${esc(axisLabel)}</text>`);
  parts.push('</g>');
  return parts.join('');
}

function timeAxis(endMs: number, x: (ms: number) => number): string {
  const stepSeconds = TIME_TICK_SECONDS.find((t) => endMs / (t * MS_PER_SECOND) <= TARGET_TIME_TICKS) ?? TIME_TICK_SECONDS[TIME_TICK_SECONDS.length - 1];
  const parts = ['<g data-axis="time">'];
  for (let ms = 0; ms <= endMs; ms += stepSeconds * MS_PER_SECOND) {
    const tx = fmt(x(ms));
    for (const bottom of [WEIGHTS_BOTTOM, ERRORS_BOTTOM]) parts.push(`<line x1="${tx}" y1="${bottom}" x2="${tx}" y2="${bottom + 4}" stroke="${PALETTE.axis}"/>`);
    parts.push(`<text x="${tx}" y="${ERRORS_BOTTOM + 18}" text-anchor="middle" fill="${PALETTE.axis}" font-size="11">${formatClock(ms)}</text>`);
  }
  parts.push(`<text x="${fmt(LEFT + PLOT_WIDTH / 2)}" y="${ERRORS_BOTTOM + 40}" text-anchor="middle" fill="${PALETTE.text}">virtual time since the rollout started (mm:ss)</text>`);
  parts.push('</g>');
  return parts.join('');
}

function legend(): string {
  const items: { label: string; swatch: string }[] = [
    { label: 'blue', swatch: `<rect width="18" height="10" y="-9" fill="${PALETTE.blue}" fill-opacity="0.5" stroke="${PALETTE.blue}"/>` },
    { label: 'green', swatch: `<rect width="18" height="10" y="-9" fill="${PALETTE.green}" fill-opacity="0.5" stroke="${PALETTE.green}"/>` },
    { label: 'step boundary', swatch: `<line x1="9" y1="-12" x2="9" y2="2" stroke="${PALETTE.step}" stroke-dasharray="4 4"/>` },
    { label: 'regression starts', swatch: `<line x1="9" y1="-12" x2="9" y2="2" stroke="${PALETTE.regression}" stroke-width="2"/>` },
    { label: 'detected', swatch: `<line x1="9" y1="-12" x2="9" y2="2" stroke="${PALETTE.detected}" stroke-width="2"/>` },
    { label: 'safe (100% stable, verified)', swatch: `<line x1="9" y1="-12" x2="9" y2="2" stroke="${PALETTE.safe}" stroke-width="2"/>` },
  ];
  const parts = ['<g data-legend="true">'];
  let lx = LEFT;
  for (const item of items) {
    parts.push(`<g transform="translate(${lx} 82)">${item.swatch}<text x="24" y="0" fill="${PALETTE.text}">${esc(item.label)}</text></g>`);
    lx += 24 + item.label.length * 6.5 + 22;
  }
  parts.push('</g>');
  return parts.join('');
}

function subtitle(result: RehearsalResult): string {
  const s = result.summary;
  const parts = [`${formatCount(s.failedRequests)} failed of ${formatCount(s.totalRequests)} requests`];
  if (s.timeToDetectMs !== undefined) parts.push(`detected ${formatDuration(s.timeToDetectMs)} after the regression`);
  if (s.timeToSafeMs !== undefined) parts.push(`safe ${formatDuration(s.timeToSafeMs)} after detection`);
  parts.push(`duration ${formatDuration(s.durationMs)}`);
  parts.push(`live: ${s.liveColor ?? 'split'}`);
  return parts.join(' · ');
}

function describe(result: RehearsalResult): string {
  const s = result.summary;
  return `Rehearsal of scenario ${s.scenario} with strategy ${s.strategy}: ${OUTCOME_LABEL[s.outcome]}. ${subtitle(result)}. `
    + 'Top: traffic weight of blue and green over virtual time. Bottom: 5xx error rate of each color.';
}

/** Labels near the panel's edges grow inwards so they stay on the canvas. */
const EDGE_LABEL_ROOM = 70;
function labelAnchor(px: number): 'start' | 'middle' | 'end' {
  if (px > PLOT_RIGHT - EDGE_LABEL_ROOM) return 'end';
  if (px < LEFT + EDGE_LABEL_ROOM / 2) return 'start';
  return 'middle';
}

function lastAt(items: readonly { atMs: number }[]): number {
  return items.length > 0 ? items[items.length - 1].atMs : 0;
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
