import { createStyle, formatClock, formatDuration, stripAnsi, wantsColor, weightBar } from '../../rehearsal/render-format';
import { formatTimelineEntry, TimelinePrinter } from '../../rehearsal/render-timeline';
import { badRelease } from './render-fixtures';

describe('formatClock and formatDuration', () => {
  test('show virtual time as mm:ss and h:mm:ss', () => {
    expect(formatClock(0)).toBe('00:00');
    expect(formatClock(65_400)).toBe('01:05');
    expect(formatClock(3_725_000)).toBe('1:02:05');
  });

  test('show durations in the unit a person reads', () => {
    expect(formatDuration(350)).toBe('350 ms');
    expect(formatDuration(2_000)).toBe('2 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatDuration(300_000)).toBe('5 min');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
  });
});

describe('wantsColor', () => {
  test('colours a terminal only, and never with NO_COLOR', () => {
    expect(wantsColor({ isTTY: true, env: {} })).toBe(true);
    expect(wantsColor({ isTTY: false, env: {} })).toBe(false);
    expect(wantsColor({ isTTY: true, env: { NO_COLOR: '1' } })).toBe(false);
    expect(wantsColor({ isTTY: true, env: { TERM: 'dumb' } })).toBe(false);
    expect(wantsColor({ isTTY: false, env: { FORCE_COLOR: '1' } })).toBe(true);
  });
});

describe('weightBar', () => {
  test('gives each color its share of the bar and shows even a 1% canary', () => {
    const plain = createStyle(false);
    expect(weightBar({ blue: 50, green: 50 }, plain)).toBe('█'.repeat(10) + '░'.repeat(10));
    expect(weightBar({ blue: 99, green: 1 }, plain)).toBe('█'.repeat(19) + '░');
    expect(weightBar({ blue: 0, green: 100 }, plain)).toBe('░'.repeat(20));
  });
});

describe('formatTimelineEntry', () => {
  test('prints the virtual time, the kind, a weights bar and the numbers', () => {
    const line = formatTimelineEntry({ atMs: 305_000, kind: 'weights', text: 'step 2: 5% to green', weights: { blue: 95, green: 5 } });
    expect(line).toBe(`05:05  weights   ${'█'.repeat(19)}░  blue 95 / green 5  step 2: 5% to green`);
  });

  test('prints the verdict and its reason', () => {
    const line = formatTimelineEntry({ atMs: 65_000, kind: 'verdict', text: 'green 5xx 20% > 1%', verdict: 'FAIL' });
    expect(line).toMatch(/^01:05 {2}verdict {3}FAIL +green 5xx 20% > 1%$/);
  });

  test('paints an alarm red when it goes to ALARM and green when it comes back to OK, only with colour on', () => {
    const style = createStyle(true);
    const toAlarm = formatTimelineEntry({ atMs: 0, kind: 'alarm', text: 'green-5xx OK -> ALARM' }, { style });
    const toOk = formatTimelineEntry({ atMs: 0, kind: 'alarm', text: 'green-5xx ALARM -> OK' }, { style });
    expect(toAlarm).toContain('\x1b[31mgreen-5xx OK -> ALARM');
    expect(toOk).toContain('\x1b[32mgreen-5xx ALARM -> OK');
    expect(formatTimelineEntry({ atMs: 0, kind: 'alarm', text: 'green-5xx OK -> ALARM' })).not.toContain('\x1b[');
  });
});

describe('TimelinePrinter', () => {
  test('prints plain lines when piped: every entry but states, no progress bar, no escape codes', () => {
    const lines: string[] = [];
    const result = badRelease();
    const printer = new TimelinePrinter({ line: (l) => lines.push(l) });
    for (const e of result.timeline) printer.onEntry(e);
    printer.finish();
    expect(lines).toHaveLength(result.timeline.filter((e) => e.kind !== 'state').length);
    expect(lines.join('\n')).not.toMatch(/\x1b|\r/);
    expect(lines).toContainEqual(expect.stringMatching(/^01:05 {2}verdict {3}FAIL/));
    expect(lines).toContainEqual(expect.stringMatching(/^01:07 {2}weights .*blue 100 \/ green 0 {2}rollback/));
  });

  test('prints states too when asked', () => {
    const lines: string[] = [];
    const result = badRelease();
    const printer = new TimelinePrinter({ line: (l) => lines.push(l) }, { showStates: true });
    for (const e of result.timeline) printer.onEntry(e);
    expect(lines).toHaveLength(result.timeline.length);
    expect(lines).toContainEqual(expect.stringMatching(/^01:05 {2}state {5}entered Rollback$/));
  });

  test('on a terminal redraws a progress bar in place and erases it before each line and at the end', () => {
    const lines: string[] = [];
    const chunks: string[] = [];
    const printer = new TimelinePrinter({ line: (l) => { chunks.push(`LINE:${l}`); lines.push(l); }, progress: { write: (c) => chunks.push(c), columns: 120 } }, { label: 'bad' });
    printer.onEntry({ atMs: 0, kind: 'weights', text: 'live', weights: { blue: 100, green: 0 } });
    printer.onEntry({ atMs: 5_000, kind: 'state', text: 'entered Bake', state: 'Bake' });
    printer.onEntry({ atMs: 305_000, kind: 'weights', text: 'step 3', weights: { blue: 75, green: 25 } });
    const progress = chunks.filter((c) => c.startsWith('\r\x1b[2K') && c !== '\r\x1b[2K').map(stripAnsi);
    expect(progress.length).toBe(3);
    expect(progress[2]).toMatch(/bad 05:05 {2}\[.{25}\] green 25% {2}state Bake/);
    // The progress bar is erased before the second timeline line is printed.
    const second = chunks.findIndex((c) => c === 'LINE:' + lines[1]);
    expect(chunks[second - 1]).toBe('\r\x1b[2K');
    printer.finish();
    expect(chunks[chunks.length - 1]).toBe('\r\x1b[2K');
  });

  test('the progress bar follows the released color', () => {
    const printer = new TimelinePrinter({ line: () => undefined });
    printer.onEntry({ atMs: 0, kind: 'weights', text: 'live', weights: { blue: 0, green: 100 } });
    printer.onEntry({ atMs: 1_000, kind: 'weights', text: 'step', weights: { blue: 50, green: 50 } });
    expect(stripAnsi(printer.progressLine())).toMatch(/\[█{13}·{12}\] blue 50%/);
  });
});

describe('TimelinePrinter on a terminal that reports no width', () => {
  test('still draws the progress bar', () => {
    const chunks: string[] = [];
    const printer = new TimelinePrinter({ line: () => undefined, progress: { write: (c) => chunks.push(c), columns: 0 } });
    printer.onEntry({ atMs: 60_000, kind: 'weights', text: 'step', weights: { blue: 99, green: 1 } });
    expect(stripAnsi(chunks[chunks.length - 1])).toMatch(/01:00 {2}\[█·{24}\] green 1%/);
  });
});
