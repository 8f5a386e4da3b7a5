import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { EmfValidationError, EmfWriter, renderEmfDocuments } from '../../lambda/metrics/emf';
import { emfViolations } from './emf-rules';

/** A writer on a virtual clock whose documents land in `lines` (no timer, no exit hook: the test drives it). */
function writer(options: Partial<ConstructorParameters<typeof EmfWriter>[0]> = {}) {
  const lines: string[] = [];
  let now = Date.UTC(2026, 11, 5, 10, 0, 0, 250);
  const w = new EmfWriter({ namespace: 'Shop/Release', sink: (l) => lines.push(l), clock: () => now, flushIntervalMs: 0, flushOnExit: false, ...options });
  return { w, lines, docs: () => lines.map((l) => JSON.parse(l)), advance: (ms: number) => { now += ms; } };
}

function expectValid(lines: string[], maxBytes?: number) {
  for (const line of lines) expect(emfViolations(line, maxBytes)).toEqual([]);
}

describe('EmfWriter', () => {
  test('sums counts and keeps every sample per second and dimension set, one document per bucket', () => {
    const { w, lines, docs, advance } = writer({ defaultDimensions: { service: 'shop' } });
    w.count('Requests', 1, { color: 'blue' });
    w.count('Requests', 1, { color: 'blue' });
    w.count('Errors5xx', 1, { color: 'blue' });
    w.sample('Latency', 12, { color: 'blue' });
    w.sample('Latency', 30, { color: 'blue' });
    w.count('Requests', 1, { color: 'green' });
    advance(1000);
    w.count('Requests', 3, { color: 'blue' });
    expect(w.flush()).toBe(3);
    expectValid(lines);
    const [blue, green, blueNext] = docs();
    expect(blue).toMatchObject({ service: 'shop', color: 'blue', Requests: 2, Errors5xx: 1, Latency: [12, 30] });
    expect(blue._aws.Timestamp).toBe(Date.UTC(2026, 11, 5, 10, 0, 0));
    expect(blue._aws.CloudWatchMetrics).toEqual([{
      Namespace: 'Shop/Release',
      Dimensions: [['color', 'service']],
      Metrics: [
        { Name: 'Requests', Unit: 'Count', StorageResolution: 1 },
        { Name: 'Errors5xx', Unit: 'Count', StorageResolution: 1 },
        { Name: 'Latency', Unit: 'Milliseconds', StorageResolution: 1 },
      ],
    }]);
    expect(green).toMatchObject({ color: 'green', Requests: 1 });
    expect(blueNext).toMatchObject({ color: 'blue', Requests: 3 });
    expect(blueNext._aws.Timestamp).toBe(Date.UTC(2026, 11, 5, 10, 0, 1));
    expect(w.pendingBuckets).toBe(0);
    expect(w.flush()).toBe(0);
  });

  test('the timer flush writes only the seconds that are over', () => {
    const { w, docs, advance } = writer();
    w.count('Requests');
    advance(500);
    w.count('Requests');
    expect(w.flushCompleted()).toBe(0); // still the same second
    advance(500);
    w.count('Requests');
    expect(w.flushCompleted()).toBe(1);
    expect(docs()).toEqual([expect.objectContaining({ Requests: 2 })]);
    expect(w.pendingBuckets).toBe(1);
  });

  test('StorageResolution 60 omits the member (the specification\'s default) and 1 sets it', () => {
    const standard = writer({ storageResolution: 60 });
    standard.w.count('Requests');
    standard.w.flush();
    expectValid(standard.lines);
    expect(standard.docs()[0]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'Requests', Unit: 'Count' }]);
    expect(() => writer({ storageResolution: 10 as any })).toThrow(/storageResolution: got 10; allowed: 1 .* or 60/);
  });

  test('splits a sample at 100 values per metric, counts written once, no value lost', () => {
    const { w, lines, docs } = writer();
    for (let i = 0; i < 250; i++) w.sample('Latency', i);
    w.count('Requests', 250);
    expect(w.flush()).toBe(3);
    expectValid(lines);
    const all = docs();
    expect(all.map((d) => (d.Latency as number[]).length)).toEqual([100, 100, 50]);
    expect(all.flatMap((d) => d.Latency)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(all.map((d) => d.Requests)).toEqual([250, undefined, undefined]);
    expect(new Set(all.map((d) => d._aws.Timestamp)).size).toBe(1);
  });

  test('splits at 100 metrics per directive', () => {
    const { w, lines, docs } = writer();
    for (let i = 0; i < 150; i++) w.count(`M${i}`);
    expect(w.flush()).toBe(2);
    expectValid(lines);
    expect(docs().map((d) => d._aws.CloudWatchMetrics[0].Metrics.length)).toEqual([100, 50]);
  });

  test('splits at the event size limit, every document under it and every value kept', () => {
    const maxEventBytes = 4096;
    const { w, lines, docs } = writer({ maxEventBytes, defaultDimensions: { service: 's'.repeat(900) } });
    const values = Array.from({ length: 600 }, (_, i) => 1e6 + i + 0.123456789);
    for (const v of values) w.sample('Latency', v);
    for (let i = 0; i < 40; i++) w.count(`Count${String(i).padStart(30, '0')}`, i);
    w.flush();
    expectValid(lines, maxEventBytes);
    expect(lines.length).toBeGreaterThan(6);
    expect(docs().flatMap((d) => d.Latency ?? [])).toEqual(values);
    expect(docs().filter((d) => 'Count000000000000000000000000000039' in d)).toHaveLength(1);
  });

  test('the default 256 KB limit holds for a busy second', () => {
    const lines = renderEmfDocuments({
      namespace: 'Shop', timestamp: 1_764_928_800_000, dimensions: { service: 'shop', color: 'blue' }, storageResolution: 1,
      counts: [], samples: Array.from({ length: 100 }, (_, m) => ({ name: `Latency${m}`, unit: 'Milliseconds' as const, values: Array.from({ length: 200 }, (_, i) => i + 0.5e-7 * m) })),
    });
    expectValid(lines);
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });

  test('the rules the tests apply catch a broken document', () => {
    // The validator itself is a spec: it must fail documents that break the page's rules.
    expect(emfViolations('{"_aws":{"CloudWatchMetrics":[]}}')).toEqual([expect.stringMatching(/Timestamp/)]);
    const doc = { _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['d']], Metrics: [{ Name: 'L', Unit: 'Millis' }] }] }, L: Array(101).fill(1) };
    expect(emfViolations(JSON.stringify(doc))).toEqual(expect.arrayContaining([
      expect.stringMatching(/schema: .*Unit must match pattern/),
      expect.stringMatching(/DimensionSet: target d/),
      expect.stringMatching(/L has 101 values > 100/),
    ]));
    expect(emfViolations(` ${JSON.stringify({ ...doc, L: 1, d: 'x' })}`).join()).toMatch(/not a bare JSON object|schema/);
  });

  test('refuses what CloudWatch would drop, naming the field, the value and what is allowed', () => {
    const { w } = writer({ defaultDimensions: { service: 'shop' } });
    expect(() => w.count('Requests', NaN)).toThrow(EmfValidationError);
    expect(() => w.sample('Latency', 5, {}, 'Millis' as any)).toThrow(/unit "Millis" is not a CloudWatch unit; allowed: Seconds/);
    w.count('Requests');
    expect(() => w.sample('Requests', 5)).toThrow(/recorded as sample in Milliseconds, but it was first recorded as count in Count/);
    expect(() => w.count('service')).toThrow(/"service": the name is also a dimension/);
    expect(() => w.count('Requests', 1, { Requests: 'x' })).toThrow(/dimension "Requests": the name is also a metric/);
    expect(() => w.count('Other', 1, { color: '' })).toThrow(/dimension color = ""; allowed: a string of 1 to 1024/);
    expect(() => w.count('Other', 1, Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`d${i}`, 'v'])))).toThrow(/31 dimensions \(service, d0, .* at most 30/);
    expect(() => new EmfWriter({ namespace: ':bad', flushIntervalMs: 0, flushOnExit: false })).toThrow(/namespace: got ":bad"/);
    expect(() => new EmfWriter({ namespace: 'N', maxEventBytes: 300 * 1024, flushIntervalMs: 0, flushOnExit: false })).toThrow(/maxEventBytes: got 307200; allowed: an integer from 4096 to 262144/);
    w.close();
    expect(() => w.count('Requests')).toThrow(/after close\(\)/);
  });

  test('a sink that throws in a background flush is reported, and the writer goes on', () => {
    const errors: unknown[] = [];
    let fail = true;
    const lines: string[] = [];
    const w = new EmfWriter({ namespace: 'N', flushIntervalMs: 0, flushOnExit: false, onError: (e) => errors.push(e), sink: (l) => { if (fail) throw new Error('pipe closed'); lines.push(l); } });
    w.count('Requests');
    (w as any).background(() => w.flush());
    expect(errors).toEqual([expect.objectContaining({ message: 'pipe closed' })]);
    fail = false;
    w.count('Requests');
    w.flush();
    expect(lines).toHaveLength(1);
  });

  describe('in a process of its own (default sink and timer)', () => {
    let dir: string;
    beforeAll(() => {
      // The module has no dependencies: transpiled alone, it runs on plain Node as an application loads it.
      dir = mkdtempSync(join(tmpdir(), 'emf-'));
      const source = readFileSync(join(__dirname, '..', '..', 'lambda', 'metrics', 'emf.ts'), 'utf8');
      writeFileSync(join(dir, 'emf.js'), ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const run = (script: string) => spawnSync(process.execPath, ['-e', `const { EmfWriter } = require(${JSON.stringify(join(dir, 'emf.js'))});\n${script}`], { encoding: 'utf8', timeout: 20_000 });

    test('the timer does not keep the process alive, and what is held is written to stdout on exit', () => {
      const result = run(`
        const w = new EmfWriter({ namespace: 'Shop', defaultDimensions: { service: 'shop', color: 'green' } });
        w.count('Requests', 7); w.sample('Latency', 42);
        console.log('app done');
      `);
      expect(result.status).toBe(0);
      const [done, line, ...rest] = result.stdout.trim().split('\n');
      expect(done).toBe('app done');
      expect(rest).toEqual([]);
      expect(emfViolations(line)).toEqual([]);
      expect(JSON.parse(line)).toMatchObject({ service: 'shop', color: 'green', Requests: 7, Latency: [42] });
    });

    test('the timer writes each second once it is over, while the application runs', () => {
      const result = run(`
        const w = new EmfWriter({ namespace: 'Shop', flushIntervalMs: 50, flushOnExit: false });
        w.count('Requests', 2);
        const started = Date.now();
        const keepAlive = setInterval(() => { if (Date.now() - started > 1100) { clearInterval(keepAlive); console.log('pending ' + w.pendingBuckets); } }, 20);
      `);
      expect(result.status).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(JSON.parse(lines[0])).toMatchObject({ Requests: 2 });
      expect(lines[1]).toBe('pending 0');
    });
  });
});
