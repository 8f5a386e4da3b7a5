import { chartMarkers, errorBuckets, MAX_ERROR_BUCKETS, renderChart } from '../../rehearsal/render-chart';
import type { RehearsalResult } from '../../rehearsal/result';
import { badRelease, healthyRelease } from './render-fixtures';

/** A strict little XML parser: throws on anything not well-formed (unbalanced tags, unquoted attributes, bad entities). */
interface XmlElement { name: string; attrs: Record<string, string>; children: XmlElement[]; text: string }

function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => { throw new Error(`not well-formed at ${i}: ${why}: ${JSON.stringify(xml.slice(i, i + 40))}`); };
  const decode = (raw: string) => {
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(raw)) fail('bad entity');
    if (raw.includes('<')) fail('raw < in text');
    return raw.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  };
  const skipSpace = () => { while (/\s/.test(xml[i] ?? '')) i++; };
  const element = (): XmlElement => {
    if (xml[i] !== '<') fail('expected <');
    i++;
    const name = /^[A-Za-z_][\w:.-]*/.exec(xml.slice(i))?.[0] ?? fail('element name');
    i += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      skipSpace();
      if (xml.startsWith('/>', i)) { i += 2; return { name, attrs, children: [], text: '' }; }
      if (xml[i] === '>') { i++; break; }
      const m = /^([A-Za-z_][\w:.-]*)="([^"<]*)"/.exec(xml.slice(i)) ?? fail('attribute');
      if (m[1] in attrs) fail(`duplicate attribute ${m[1]}`);
      attrs[m[1]] = decode(m[2]);
      i += m[0].length;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const next = xml.indexOf('<', i);
      if (next < 0) fail(`unclosed <${name}>`);
      text += decode(xml.slice(i, next));
      i = next;
      if (xml.startsWith('</', i)) {
        const close = `</${name}>`;
        if (!xml.startsWith(close, i)) fail(`expected ${close}`);
        i += close.length;
        return { name, attrs, children, text };
      }
      children.push(element());
    }
  };
  skipSpace();
  const root = element();
  skipSpace();
  if (i !== xml.length) fail('content after the root element');
  return root;
}

const all = (root: XmlElement): XmlElement[] => [root, ...root.children.flatMap(all)];
const byAttr = (root: XmlElement, attr: string, value?: string) => all(root).filter((e) => attr in e.attrs && (value === undefined || e.attrs[attr] === value));
/** The points of an SVG path (M/L commands). */
const points = (d: string) => [...d.matchAll(/[ML]([\d.-]+),([\d.-]+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));

describe('renderChart', () => {
  test('is a well-formed SVG document with a title, a legend and labelled axes', () => {
    const svg = parseXml(renderChart(badRelease()));
    expect(svg.name).toBe('svg');
    expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg.children.find((c) => c.name === 'title')?.text).toBe('Rehearsal: error-rate-regression');
    const texts = all(svg).filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts).toEqual(expect.arrayContaining(['traffic weight (%)', 'virtual time since the rollout started (mm:ss)', 'blue', 'green', 'detected', 'regression starts']));
    expect(texts.some((t) => t.startsWith('5xx error rate (%)'))).toBe(true);
    expect(texts.some((t) => t.includes('ROLLED BACK'))).toBe(true);
    expect(byAttr(svg, 'data-legend')).toHaveLength(1);
  });

  test('draws the weights of both colors and the error rate of both colors', () => {
    const svg = parseXml(renderChart(healthyRelease()));
    for (const series of ['weight-blue', 'weight-green', 'error-rate-blue', 'error-rate-green']) {
      expect(byAttr(svg, 'data-series', series)).toHaveLength(1);
    }
    // The green weight line climbs 0 -> 1 -> 5 -> 25 -> 50 -> 100: its y (SVG grows downwards) never rises back.
    const greenLine = byAttr(svg, 'data-series', 'weight-green')[0].children.find((c) => c.attrs.fill === 'none')!;
    const ys = points(greenLine.attrs.d).map((p) => p.y);
    expect(new Set(ys).size).toBe(6);
    for (let k = 1; k < ys.length; k++) expect(ys[k]).toBeLessThanOrEqual(ys[k - 1]);
    const xs = points(greenLine.attrs.d).map((p) => p.x);
    for (let k = 1; k < xs.length; k++) expect(xs[k]).toBeGreaterThanOrEqual(xs[k - 1]);
  });

  test('marks every step boundary, the regression start, detection and safe at their times', () => {
    const result = badRelease();
    const svg = parseXml(renderChart(result));
    const markers = byAttr(svg, 'data-marker').map((m) => ({ kind: m.attrs['data-marker'], atMs: Number(m.attrs['data-at-ms']) }));
    expect(markers).toEqual([
      { kind: 'step', atMs: 5_000 },
      { kind: 'regression', atMs: 5_000 },
      { kind: 'detected', atMs: 65_000 },
      { kind: 'step', atMs: 67_000 },
      { kind: 'safe', atMs: 67_000 },
    ]);
    const x = (kind: string) => Number(byAttr(svg, 'data-marker', kind)[0].children.find((c) => c.name === 'line')!.attrs.x1);
    expect(x('regression')).toBeLessThan(x('detected'));
    expect(x('detected')).toBeLessThan(x('safe'));
  });

  test('healthy releases have step markers only', () => {
    const kinds = chartMarkers(healthyRelease()).map((m) => m.kind);
    expect(kinds).toEqual(['step', 'step', 'step', 'step', 'step']);
  });

  test('plots the failing color above the threshold line during the regression', () => {
    const svg = parseXml(renderChart(badRelease(), { errorThresholdPercent: 1 }));
    const threshold = byAttr(svg, 'data-series', 'error-threshold')[0].children.find((c) => c.name === 'line')!;
    const green = byAttr(svg, 'data-series', 'error-rate-green')[0].children[0];
    const blue = byAttr(svg, 'data-series', 'error-rate-blue')[0].children[0];
    const thresholdY = Number(threshold.attrs.y1);
    expect(Math.max(...points(green.attrs.d).map((p) => p.y))).toBeLessThan(thresholdY);
    expect(Math.min(...points(blue.attrs.d).map((p) => p.y))).toBeGreaterThan(thresholdY);
  });

  test('escapes text that would break the XML', () => {
    const base = badRelease();
    const nasty: RehearsalResult = { ...base, summary: { ...base.summary, scenario: 'a <b> & "c"', strategy: "it's" } };
    const svg = parseXml(renderChart(nasty));
    expect(svg.children.find((c) => c.name === 'title')?.text).toBe('Rehearsal: a <b> & "c"');
  });

  test('renders a result without series (a refused rollout) without failing', () => {
    const base = badRelease();
    const refused: RehearsalResult = { ...base, series: [], timeline: base.timeline.slice(0, 2), summary: { ...base.summary, outcome: 'REFUSED', durationMs: 0 } };
    expect(() => parseXml(renderChart(refused))).not.toThrow();
  });
});

describe('errorBuckets', () => {
  test('aggregates per-second samples into at most MAX_ERROR_BUCKETS buckets, keeping every request', () => {
    const result = healthyRelease();
    const buckets = errorBuckets(result.series, result.summary.durationMs);
    expect(buckets.length).toBeLessThanOrEqual(MAX_ERROR_BUCKETS);
    const sum = (f: (b: (typeof buckets)[number]) => number) => buckets.reduce((n, b) => n + f(b), 0);
    const requests = result.series.reduce((n, p) => n + p.requests.blue + p.requests.green, 0);
    expect(sum((b) => b.requests.blue + b.requests.green)).toBe(requests);
  });

  test('an error rate is errors over requests in the bucket, null without requests', () => {
    const series = [
      { atMs: 0, weights: { blue: 100, green: 0 }, requests: { blue: 100, green: 0 }, errors: { blue: 1, green: 0 }, errorRatePercent: { blue: 1, green: null }, latencyP99Ms: { blue: 100, green: null } },
      { atMs: 1_000, weights: { blue: 100, green: 0 }, requests: { blue: 300, green: 0 }, errors: { blue: 0, green: 0 }, errorRatePercent: { blue: 0, green: null }, latencyP99Ms: { blue: 100, green: null } },
    ];
    // 200 s of rehearsal: buckets of 2 s (at most MAX_ERROR_BUCKETS), so both samples fall into the first.
    const [bucket] = errorBuckets(series, 200_000);
    expect(bucket.endMs - bucket.startMs).toBe(2_000);
    expect(bucket.errorRatePercent).toEqual({ blue: (100 * 1) / 400, green: null });
  });

  test('a bucket is never narrower than the series step', () => {
    const result = badRelease();
    const every10s = result.series.filter((p) => p.atMs % 10_000 === 0);
    const buckets = errorBuckets(every10s, 60_000);
    expect(buckets.every((b) => b.endMs - b.startMs >= 10_000)).toBe(true);
    expect(buckets.every((b) => b.requests.blue > 0)).toBe(true);
  });
});
