import { evaluate, FlagRecorder, FlagsDocument, VariantMetrics } from '../../lambda/flags';

const doc: FlagsDocument = {
  version: 1,
  flags: {
    'new-checkout': { enabled: true, default: false, rules: [{ name: 'zdt-guarded-rollout', percent: 50, serve: true }] },
    'theme': { enabled: true, variants: { classic: 1, dark: 2 }, default: 'classic', rules: [{ segments: ['beta'], serve: 'dark' }] },
  },
};

describe('FlagRecorder', () => {
  test('returns exactly what evaluate returns and records the variant each evaluation served', () => {
    const flags = new FlagRecorder(doc);
    for (const key of ['u1', 'u2', 'u3', 'u4']) {
      expect(flags.evaluate('new-checkout', { key })).toEqual(evaluate(doc, 'new-checkout', { key }));
    }
    const last = evaluate(doc, 'new-checkout', { key: 'u4' }).variant;
    expect(flags.evaluate('theme', { segment: 'beta' }).value).toBe(2);
    expect(flags.evaluate('missing', {}, 'x').value).toBe('x');
    expect(flags.served()).toEqual({ 'new-checkout': last, 'theme': 'dark' });
  });
});

describe('VariantMetrics', () => {
  test('writes Requests, Errors and Latency per flag and variant as EMF, one document per second and variant, no AWS call', () => {
    const docs: string[] = [];
    const metrics = new VariantMetrics({ service: 'shop', sink: (d) => docs.push(d), clock: () => 1_700_000_000_000, flushIntervalMs: 0 });
    metrics.record({ 'new-checkout': 'on' }, { error: true, latencyMs: 120 });
    metrics.record({ 'new-checkout': 'on' }, { error: false, latencyMs: 80 });
    metrics.record({ 'new-checkout': 'off' }, { error: false, latencyMs: 40 });
    expect(metrics.flush()).toBe(2);
    const parsed = docs.map((d) => JSON.parse(d));
    const on = parsed.find((d) => d.Variant === 'on');
    expect(on).toMatchObject({ Service: 'shop', Flag: 'new-checkout', Requests: 2, Errors: 1, Latency: [120, 80] });
    expect(on._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ZdtFlagVariants', Dimensions: [expect.arrayContaining(['Service', 'Flag', 'Variant'])] });
    expect(parsed.find((d) => d.Variant === 'off')).toMatchObject({ Requests: 1, Errors: 0, Latency: [40] });
  });

  test('measures only the flags it is told to, from a FlagRecorder', () => {
    const docs: string[] = [];
    const metrics = new VariantMetrics({ service: 'shop', flags: ['theme'], sink: (d) => docs.push(d), clock: () => 0, flushIntervalMs: 0 });
    const flags = new FlagRecorder(doc);
    flags.isEnabled('new-checkout', { key: 'u1' });
    flags.evaluate('theme', {});
    metrics.record(flags, { error: false, latencyMs: 10 });
    metrics.flush();
    expect(docs.map((d) => JSON.parse(d).Flag)).toEqual(['theme']);
  });

  test('close writes what is held and refuses later records (a SIGTERM handler loses nothing)', () => {
    const docs: string[] = [];
    const metrics = new VariantMetrics({ service: 'shop', sink: (d) => docs.push(d), clock: () => 0, flushIntervalMs: 0 });
    metrics.record({ 'new-checkout': 'on' }, { error: false, latencyMs: 5 });
    expect(metrics.close()).toBe(1);
    expect(docs).toHaveLength(1);
    expect(() => metrics.record({ 'new-checkout': 'on' }, { error: false, latencyMs: 5 })).toThrow();
  });
});
