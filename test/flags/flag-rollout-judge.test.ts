import { FlagPhase, PhaseBake, VariantAnalysisConfig } from '../../lambda/flag-rollout/flag-rollout-contract';
import { canonicalJson, controlOf, documentForPhase, documentWithFlag } from '../../lambda/flag-rollout/phase-document';
import { judgeVariants, VariantMinute } from '../../lambda/flag-rollout/variant-judge';
import { evaluate, FlagsDocument } from '../../lambda/flags';

const config: VariantAnalysisConfig = {
  namespace: 'ZdtFlagVariants', service: 'shop', errorRateFactor: 2, latencyFactor: 1.5, alphaPerTest: 0.01 / 6,
  minRequests: 100, latencyMinRequests: 1000, metricDelaySeconds: 120, propagationSeconds: 60,
};
const phase: FlagPhase = { number: 2, name: 'canary', percent: 5, durationSeconds: 2 * 86400, intervalSeconds: 3600, judge: true, pause: false };
const T0 = Date.parse('2026-01-05T09:00:00Z');
const bake: PhaseBake = { startedAt: new Date(T0).toISOString() };
const names = { treatment: 'on', control: 'off' };
const latency = { treatment: { p985Ms: 150, p99Ms: 180, p995Ms: 220 }, control: { p985Ms: 150, p99Ms: 180, p995Ms: 220 } };

/** `count` minutes from the phase's first counted minute: 150 treatment and 2,850 control requests a minute. */
function minutes(count: number, treatmentErrorRate: number, controlErrorRate = 0.002): VariantMinute[] {
  return Array.from({ length: count }, (_, i) => ({
    startMs: T0 + 60_000 + i * 60_000,
    treatment: { requests: 150, errors: 150 * treatmentErrorRate },
    control: { requests: 2850, errors: 2850 * controlErrorRate },
  }));
}

describe('judgeVariants (the sequential judge on treatment against control)', () => {
  test('fails a treatment whose users see 10x the control\'s errors within the first hour', () => {
    const r = judgeVariants(config, phase, bake, { minutes: minutes(60, 0.02), latency }, T0 + 63 * 60_000, names);
    expect(r.verdict).toBe('FAIL');
    expect(r.reasons.join(' ')).toMatch(/on's error rate is higher than off's/);
  });

  test('waits while a healthy phase is under way, and carries its evidence to the next judgement', () => {
    const first = judgeVariants(config, phase, bake, { minutes: minutes(60, 0.002), latency }, T0 + 63 * 60_000, names);
    expect(first.verdict).toBe('WAIT');
    expect(first.bake.evidence).toMatchObject({ treatment: { requests: 9000 } });
    // The next judgement counts only the minutes after the first one's: the same minutes again change nothing.
    const again = judgeVariants(config, phase, first.bake, { minutes: minutes(60, 0.002), latency }, T0 + 63 * 60_000, names);
    expect(again.bake.evidence!.treatment.requests).toBe(9000);
  });

  test('passes a healthy phase once its data covers the phase\'s duration', () => {
    const end = T0 + phase.durationSeconds * 1000 + 3 * 60_000;
    const r = judgeVariants(config, phase, bake, { minutes: minutes(2 * 1440, 0.002), latency }, end, names);
    expect(r.verdict).toBe('PASS');
  });

  test('is INCONCLUSIVE at the phase\'s end when the treatment served fewer requests than a pass needs', () => {
    const end = T0 + phase.durationSeconds * 1000 + 3 * 60_000;
    const quiet = minutes(10, 0.002).map((m) => ({ ...m, treatment: { requests: 5, errors: 0 } }));
    expect(judgeVariants(config, phase, bake, { minutes: quiet, latency }, end, names).verdict).toBe('INCONCLUSIVE');
  });

  test('fails a treatment 3x slower at p99 once it served enough requests', () => {
    const slow = { ...latency, treatment: { p985Ms: 450, p99Ms: 540, p995Ms: 660 } };
    const r = judgeVariants(config, phase, bake, { minutes: minutes(60, 0.002), latency: slow }, T0 + 63 * 60_000, names);
    expect(r.verdict).toBe('FAIL');
    expect(r.reasons.join(' ')).toMatch(/on is slower than off/);
  });
});

describe('phase documents', () => {
  const doc: FlagsDocument = {
    version: 1,
    flags: {
      'new-checkout': { enabled: true, default: false, rules: [{ name: 'staff', segments: ['internal'], serve: true }] },
      'theme': { enabled: true, variants: { classic: 1, dark: 2 }, default: 'classic' },
    },
  };

  test('adds the rollout\'s rule after the flag\'s own rules, and replaces it phase after phase', () => {
    const five = documentForPhase(doc, 'new-checkout', 'on', { percent: 5 });
    const fifteen = documentForPhase(five, 'new-checkout', 'on', { percent: 15 });
    expect(fifteen.flags['new-checkout'].rules).toEqual([
      { name: 'staff', segments: ['internal'], serve: true }, { name: 'zdt-guarded-rollout', percent: 15, serve: true },
    ]);
    // Raising the percentage only adds users: everyone in at 5% is in at 15%.
    for (let i = 0; i < 500; i++) {
      if (evaluate(five, 'new-checkout', { key: `u${i}` }).value === true) expect(evaluate(fifteen, 'new-checkout', { key: `u${i}` }).value).toBe(true);
    }
    expect(canonicalJson(documentForPhase(fifteen, 'new-checkout', 'on', { percent: 15 }))).toBe(canonicalJson(fifteen));
  });

  test('segment phases serve the treatment to the segments so far; the rollback restores the flag and keeps other flags\' changes', () => {
    const beta = documentForPhase(doc, 'theme', 'dark', { segments: ['internal', 'beta'] });
    expect(evaluate(beta, 'theme', { segment: 'beta' }).variant).toBe('dark');
    expect(evaluate(beta, 'theme', { segment: 'premium' }).variant).toBe('classic');
    const changedElsewhere = { ...beta, flags: { ...beta.flags, 'new-checkout': { ...beta.flags['new-checkout'], enabled: false } } };
    const back = documentWithFlag(changedElsewhere, 'theme', doc.flags.theme);
    expect(back.flags.theme).toEqual(doc.flags.theme);
    expect(back.flags['new-checkout'].enabled).toBe(false);
  });

  test('refuses a rollout that cannot work: a disabled flag, an unknown variant, a treatment that is already the default', () => {
    expect(() => controlOf('x', { enabled: false, default: false }, 'on')).toThrow(/disabled/);
    expect(() => controlOf('theme', doc.flags.theme, 'neon')).toThrow(/no variant "neon"/);
    expect(() => controlOf('theme', doc.flags.theme, 'classic')).toThrow(/already serves "classic"/);
    expect(controlOf('theme', doc.flags.theme, 'dark')).toBe('classic');
    expect(controlOf('new-checkout', doc.flags['new-checkout'], 'on')).toBe('off');
  });
});
