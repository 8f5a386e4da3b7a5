import { createStyle } from '../../rehearsal/render-format';
import { renderJson, renderSummary } from '../../rehearsal/render-summary';
import { badRelease, healthyRelease } from './render-fixtures';

const row = (lines: string[], label: string) => lines.find((l) => l.trimStart().startsWith(label))?.trimStart().slice(20);

describe('renderSummary', () => {
  test('reports a rollback with detection time, time to safe and the blast radius out of all requests', () => {
    const result = badRelease();
    const lines = renderSummary(result, { chartPath: '.rehearsal/error-rate-regression.svg' });
    expect(lines[0]).toBe('Summary: error-rate-regression (canary 1, 5, 25, 50, 100 (bake 5 min))');
    expect(row(lines, 'outcome')).toBe('ROLLED BACK (execution FAILED: ZdtRolledBack)');
    expect(row(lines, 'cause')).toBe('judge: green 5xx rate 20% > 1% (stable 0.1%); traffic restored to 100% blue');
    expect(row(lines, 'regression started')).toBe('at 00:05');
    expect(row(lines, 'detected')).toBe('at 01:05, 1 min after the regression started');
    expect(row(lines, 'safe')).toBe('at 01:07, 2 s after detection (100% stable, read back)');
    const s = result.summary;
    expect(row(lines, 'blast radius')).toBe(`${s.failedRequests} failed requests of ${s.totalRequests.toLocaleString('en-US')} served (0.18%)`);
    expect(row(lines, 'state transitions')).toBe('41');
    expect(row(lines, 'lambda invocations')).toBe('12');
    expect(row(lines, 'estimated cost')).toBe('$0.001 (Step Functions Standard transitions + Lambda)');
    expect(row(lines, 'final weights')).toBe(`${'█'.repeat(20)}  blue 100 / green 0`);
    expect(row(lines, 'live color')).toBe('blue');
    expect(row(lines, 'chart')).toBe('.rehearsal/error-rate-regression.svg');
  });

  test('lists the events in order with their virtual time', () => {
    const lines = renderSummary(badRelease());
    const events = lines.slice(lines.findIndex((l) => l.trim() === 'events') + 1).map((l) => l.trim());
    expect(events).toEqual([
      '00:00  Rollout Started  targetColor=green stableColor=blue',
      '01:05  Rollout Rollback Triggered  step=1 reason=judge FAIL',
      '01:08  Rollout Rolled Back  stableColor=blue',
    ]);
  });

  test('reports a release without regression, detection or safe rows', () => {
    const lines = renderSummary(healthyRelease(), { realDurationMs: 1_500 });
    expect(row(lines, 'outcome')).toBe('RELEASED (execution SUCCEEDED)');
    expect(row(lines, 'duration')).toBe('25 min 15 s of virtual time, rehearsed in 1.5 s');
    expect(row(lines, 'blast radius')).toBe('0 failed requests of 1,515,000 served (0%)');
    expect(row(lines, 'live color')).toBe('green');
    for (const label of ['regression started', 'detected', 'safe']) expect(row(lines, label)).toBeUndefined();
  });

  test('says so when a regression was never detected', () => {
    const base = badRelease();
    const undetected = { ...base, summary: { ...base.summary, detectedAtMs: undefined, timeToDetectMs: undefined, safeAtMs: undefined, timeToSafeMs: undefined, outcome: 'RELEASED' as const } };
    expect(row(renderSummary(undetected), 'detected')).toBe('never: the regression was not detected');
  });

  test('has no escape codes without colour and some with it', () => {
    expect(renderSummary(badRelease()).join('\n')).not.toContain('\x1b[');
    expect(renderSummary(badRelease(), { style: createStyle(true) }).join('\n')).toContain('\x1b[');
  });
});

describe('renderJson', () => {
  test('is the RehearsalResult itself, parseable back', () => {
    const result = badRelease();
    expect(JSON.parse(renderJson(result))).toEqual(JSON.parse(JSON.stringify(result)));
    expect(JSON.parse(renderJson([healthyRelease(), result]))).toHaveLength(2);
  });
});
