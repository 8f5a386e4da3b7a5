import { AnalysisConfig, ColorMetrics } from '../../lambda/shared/contracts';
import { analyse } from '../../lambda/judge/analysis';
import { ANALYSIS as CONFIG } from './support/analysis-config';


function m(requests: number, errors: number, latencyP99Ms: number | null): ColorMetrics {
  return { requests, errors, errorRatePercent: requests > 0 ? (errors * 100) / requests : 0, latencyP99Ms };
}

const GOOD_STABLE = m(1000, 5, 200);

describe('metric analysis', () => {
  test.each<[string, ColorMetrics, ColorMetrics, Partial<AnalysisConfig>, 'HEALTHY' | 'INCONCLUSIVE' | 'FAIL', RegExp[]]>([
    ['too few requests on the new color is inconclusive', m(49, 49, 5000), GOOD_STABLE, {}, 'INCONCLUSIVE', [/green served 49 request\(s\) in 300 s of data; at least 50/]],
    ['no requests at all is inconclusive', m(0, 0, null), GOOD_STABLE, {}, 'INCONCLUSIVE', [/served 0 request/]],
    ['a new color like the stable one is healthy', m(1000, 5, 210), GOOD_STABLE, {}, 'HEALTHY', []],
    ['an error rate above the limit but within the baseline factor is healthy', m(1000, 20, 200), m(1000, 15, 200), {}, 'HEALTHY', []],
    ['an error rate above the limit and the baseline fails', m(1000, 50, 200), m(1000, 10, 200), {}, 'FAIL', [/5% of 1000 requests .* above the 1% limit and above 2 x blue's 1% \(2%\)/]],
    ['a stable color without errors makes any rate above the limit fail', m(1000, 20, 200), m(1000, 0, 200), {}, 'FAIL', [/2% of 1000/]],
    ['a stable color with too few requests leaves the absolute limit alone to decide (fail)', m(1000, 20, 200), m(10, 5, 200), {}, 'FAIL', [/2% .* above the 1% limit \(blue served 10 request\(s\), too few to be a baseline\)/]],
    ['a stable color with too few requests leaves the absolute limit alone to decide (pass)', m(1000, 5, 200), m(10, 0, 200), {}, 'HEALTHY', []],
    ['a p99 above the absolute limit fails', m(1000, 0, 600), m(1000, 0, 580), {}, 'FAIL', [/p99 latency is 600 ms .* above the 500 ms limit/]],
    ['a p99 above the stable p99 times the factor fails', m(1000, 0, 400), m(1000, 0, 200), {}, 'FAIL', [/400 ms .* above 1.5 x blue's 200 ms \(300 ms\)/]],
    ['the relative latency check needs stable latency data', m(1000, 0, 400), m(1000, 0, null), {}, 'HEALTHY', []],
    ['the relative latency check needs enough stable requests', m(1000, 0, 400), m(10, 0, 100), {}, 'HEALTHY', []],
    ['no latency data on the new color skips the latency checks', m(1000, 0, null), GOOD_STABLE, {}, 'HEALTHY', []],
    ['latency is not judged without latency thresholds', m(1000, 0, 10000), GOOD_STABLE, { maxLatencyP99Ms: undefined, latencyBaselineFactor: undefined }, 'HEALTHY', []],
    ['every finding is reported', m(1000, 100, 900), m(1000, 1, 200), {}, 'FAIL', [/10% of 1000/, /900 ms .* 500 ms limit/, /900 ms .* 1.5 x blue's 200 ms/]],
  ])('%s', (_name, fresh, stable, overrides, outcome, reasons) => {
    const result = analyse({ ...CONFIG, ...overrides }, { green: fresh, blue: stable }, 'green', 'blue');
    expect(result.outcome).toBe(outcome);
    expect(result.reasons).toHaveLength(reasons.length);
    reasons.forEach((pattern, i) => expect(result.reasons[i]).toMatch(pattern));
  });

  test('judges whichever color is new against the other', () => {
    const result = analyse(CONFIG, { blue: m(1000, 50, 200), green: m(1000, 0, 200) }, 'blue', 'green');
    expect(result.outcome).toBe('FAIL');
    expect(result.reasons[0]).toMatch(/^blue answered 5%/);
  });
});
