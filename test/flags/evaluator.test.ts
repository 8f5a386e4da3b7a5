import Ajv from 'ajv';
import {
  bucketOf, evaluate, evaluateAll, FLAGS_JSON_SCHEMA, FlagsDocument, InvalidFlagsDocumentError,
  isEnabled, parseFlagsDocument, segmentMatches, validateFlagsDocument,
} from '../../lambda/flags';
import { wildcardMatch } from '../../lambda/flags/evaluator';

/** A boolean flag and a multivariate flag with every kind of rule. */
const doc: FlagsDocument = {
  version: 1,
  flags: {
    'new-checkout': {
      description: 'The one-page checkout',
      enabled: true,
      default: false,
      rules: [
        { name: 'staff', segments: ['internal'], serve: true },
        { name: 'blocked countries', conditions: [{ attribute: 'country', op: 'in', values: ['XX', 'YY'] }], serve: false },
        { name: 'beta testers', segments: ['beta*'], conditions: [{ attribute: 'plan', op: 'equals', value: 'pro' }], serve: true },
        { name: 'everyone else', percent: 10, serve: true },
      ],
    },
    theme: {
      enabled: true,
      variants: { classic: { primary: '#333' }, bright: { primary: '#f60' }, dark: { primary: '#000' } },
      default: 'classic',
      rules: [
        { conditions: [{ attribute: 'email', op: 'startsWith', value: 'qa+' }], serve: 'dark' },
        { conditions: [{ attribute: 'age', op: 'gte', value: 18 }, { attribute: 'age', op: 'lt', value: 30 }], percent: 50, serve: 'bright' },
      ],
    },
    'kill-switch': { enabled: false, default: true, rules: [{ segments: ['internal'], serve: true }] },
    'retired-theme': { enabled: false, variants: { a: 1, b: 2 }, default: 'b', rules: [{ segments: ['internal'], serve: 'a' }] },
  },
};

/** A document with one boolean flag `f` whose only rule serves true to `percent`% of users. */
function percentDoc(percent: number, salt?: string): FlagsDocument {
  return { version: 1, flags: { f: { enabled: true, default: false, salt, rules: [{ percent, serve: true }] } } };
}

/** Passes when `actual` is within `tolerance` of `target` (percentage points). */
function expectWithin(actual: number, target: number, tolerance: number): void {
  expect(Math.abs(actual - target)).toBeLessThanOrEqual(tolerance);
}

function users(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `user-${i}`);
}

describe('evaluate', () => {
  test('the first matching rule decides, in order', () => {
    // An internal user from a blocked country is still served by the earlier "staff" rule.
    expect(evaluate(doc, 'new-checkout', { segment: 'internal', attributes: { country: 'XX' } }))
      .toEqual({ flagKey: 'new-checkout', value: true, variant: 'on', reason: 'RULE_MATCH', ruleIndex: 0, ruleName: 'staff' });
    // A blocked beta tester on the pro plan is refused by "blocked countries" before "beta testers" is reached.
    expect(evaluate(doc, 'new-checkout', { segment: 'beta', attributes: { country: 'XX', plan: 'pro' } }))
      .toMatchObject({ value: false, variant: 'off', reason: 'RULE_MATCH', ruleIndex: 1 });
    expect(evaluate(doc, 'new-checkout', { segment: 'beta', attributes: { country: 'FR', plan: 'pro' } }))
      .toMatchObject({ value: true, reason: 'RULE_MATCH', ruleIndex: 2, ruleName: 'beta testers' });
  });

  test('one wildcard matcher for flags and the rehearsal\'s ALB: paths case-sensitive, headers not, regex characters literal', () => {
    expect(wildcardMatch('/API/*', '/api/v1', false)).toBe(false);
    expect(wildcardMatch('/API/*', '/api/v1', true)).toBe(true);
    expect(wildcardMatch('a.b', 'axb', true)).toBe(false);
    expect(wildcardMatch('(x)+', '(x)+', false)).toBe(true);
    expect(wildcardMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(40), false)).toBe(false);
  });

  test('matches segments as the ALB matches the segment header: case-insensitive, with * and ? wildcards', () => {
    const attributes = { plan: 'pro', country: 'FR' };
    expect(evaluate(doc, 'new-checkout', { segment: 'INTERNAL' }).ruleIndex).toBe(0);
    expect(evaluate(doc, 'new-checkout', { segment: 'Beta-Testers', attributes }).ruleIndex).toBe(2);
    expect(evaluate(doc, 'new-checkout', { segment: 'premium', attributes, key: 'u' }).ruleIndex).not.toBe(2);
    expect(evaluate(doc, 'new-checkout', { attributes, key: 'u' }).ruleIndex).not.toBe(2);
    expect(segmentMatches('b?ta', 'BETA')).toBe(true);
    expect(segmentMatches('b?ta', 'bta')).toBe(false);
    expect(segmentMatches('*-eu-*', 'premium-eu-west')).toBe(true);
    expect(segmentMatches('*-eu-*', 'premium-us-west')).toBe(false);
    expect(segmentMatches('internal', 'internal-x')).toBe(false);
  });

  test('a segment rule that also has conditions needs both', () => {
    expect(evaluate(doc, 'new-checkout', { segment: 'beta', attributes: { plan: 'free', country: 'FR' }, key: 'u' }).ruleIndex).not.toBe(2);
    expect(evaluate(doc, 'new-checkout', { attributes: { plan: 'pro', country: 'FR' }, key: 'u' }).ruleIndex).not.toBe(2);
  });

  test.each([
    [{ attribute: 'plan', op: 'equals', value: 'pro' }, 'pro', true],
    [{ attribute: 'plan', op: 'equals', value: 'pro' }, 'free', false],
    [{ attribute: 'plan', op: 'notEquals', value: 'pro' }, 'free', true],
    [{ attribute: 'plan', op: 'notEquals', value: 'pro' }, 'pro', false],
    [{ attribute: 'age', op: 'equals', value: 18 }, '18', true],
    [{ attribute: 'admin', op: 'equals', value: true }, 'true', true],
    [{ attribute: 'plan', op: 'in', values: ['pro', 'team'] }, 'team', true],
    [{ attribute: 'plan', op: 'in', values: ['pro', 'team'] }, 'free', false],
    [{ attribute: 'plan', op: 'notIn', values: ['pro', 'team'] }, 'free', true],
    [{ attribute: 'plan', op: 'notIn', values: ['pro', 'team'] }, 'pro', false],
    [{ attribute: 'email', op: 'startsWith', value: 'qa+' }, 'qa+1@example.com', true],
    [{ attribute: 'email', op: 'startsWith', value: 'qa+' }, 'QA+1@example.com', false],
    [{ attribute: 'age', op: 'lt', value: 18 }, 17, true],
    [{ attribute: 'age', op: 'lt', value: 18 }, 18, false],
    [{ attribute: 'age', op: 'lte', value: 18 }, 18, true],
    [{ attribute: 'age', op: 'lte', value: 18 }, 19, false],
    [{ attribute: 'age', op: 'gt', value: 18 }, 19, true],
    [{ attribute: 'age', op: 'gt', value: 18 }, 18, false],
    [{ attribute: 'age', op: 'gte', value: 18 }, '18', true],
    [{ attribute: 'age', op: 'gte', value: 18 }, '17.5', false],
    [{ attribute: 'age', op: 'gte', value: 18 }, 'eighteen', false],
    [{ attribute: 'age', op: 'gte', value: 18 }, '', false],
  ] as const)('condition %j on %j is %s', (condition, actual, expected) => {
    const d: FlagsDocument = { version: 1, flags: { f: { enabled: true, default: false, rules: [{ conditions: [condition], serve: true }] } } };
    const result = evaluate(d, 'f', { attributes: { [condition.attribute]: actual } });
    expect(result.value).toBe(expected);
    expect(result.reason).toBe(expected ? 'RULE_MATCH' : 'DEFAULT');
  });

  test('every condition of a rule must hold', () => {
    const context = (age: number) => ({ key: 'user-7', attributes: { email: 'ann@example.com', age } });
    expect(evaluate(doc, 'theme', context(40))).toMatchObject({ variant: 'classic', reason: 'DEFAULT' });
    expect(evaluate(doc, 'theme', context(12))).toMatchObject({ variant: 'classic', reason: 'DEFAULT' });
    const bright = users(100).find((key) => evaluate(doc, 'theme', { ...context(20), key }).variant === 'bright')!;
    expect(evaluate(doc, 'theme', { ...context(20), key: bright })).toMatchObject({ variant: 'bright', reason: 'PERCENTAGE', ruleIndex: 1 });
    expect(evaluate(doc, 'theme', { ...context(30), key: bright })).toMatchObject({ variant: 'classic', reason: 'DEFAULT' });
  });

  test('a disabled boolean flag is false for everyone, whatever its default and rules', () => {
    expect(evaluate(doc, 'kill-switch', { segment: 'internal' })).toEqual({ flagKey: 'kill-switch', value: false, variant: 'off', reason: 'DISABLED' });
    expect(isEnabled(doc, 'kill-switch', { segment: 'internal' })).toBe(false);
  });

  test('a disabled multivariate flag serves its default variant', () => {
    expect(evaluate(doc, 'retired-theme', { segment: 'internal' })).toEqual({ flagKey: 'retired-theme', value: 2, variant: 'b', reason: 'DISABLED' });
  });

  test('a missing flag gives the caller\'s fallback', () => {
    expect(evaluate(doc, 'no-such-flag', {})).toEqual({ flagKey: 'no-such-flag', value: undefined, variant: undefined, reason: 'FLAG_NOT_FOUND' });
    expect(evaluate(doc, 'no-such-flag', {}, 'blue')).toMatchObject({ value: 'blue', reason: 'FLAG_NOT_FOUND' });
    expect(evaluate(undefined, 'new-checkout', {}, false)).toMatchObject({ value: false, reason: 'FLAG_NOT_FOUND' });
    expect(evaluate(doc, 'toString', {}).reason).toBe('FLAG_NOT_FOUND');
    expect(isEnabled(doc, 'no-such-flag')).toBe(false);
  });

  test('serves multivariate values, and the default when no rule matches', () => {
    expect(evaluate(doc, 'theme', { attributes: { email: 'qa+7@example.com' } }))
      .toEqual({ flagKey: 'theme', value: { primary: '#000' }, variant: 'dark', reason: 'RULE_MATCH', ruleIndex: 0 });
    expect(evaluate(doc, 'theme', { key: 'k', attributes: { email: 'ann@example.com', age: 60 } }))
      .toEqual({ flagKey: 'theme', value: { primary: '#333' }, variant: 'classic', reason: 'DEFAULT' });
  });

  test('reports MISSING_CONTEXT, with what was missing, when a percentage rule has no user key', () => {
    expect(evaluate(doc, 'new-checkout', { attributes: { country: 'FR' } }))
      .toEqual({ flagKey: 'new-checkout', value: false, variant: 'off', reason: 'MISSING_CONTEXT', missing: ['key'] });
    expect(evaluate(doc, 'new-checkout', { key: '', attributes: { country: 'FR' } }).reason).toBe('MISSING_CONTEXT');
  });

  test('reports MISSING_CONTEXT when a rule needs an attribute the context lacks', () => {
    expect(evaluate(doc, 'theme', { key: 'k' })).toMatchObject({ variant: 'classic', reason: 'MISSING_CONTEXT', missing: ['attributes.email', 'attributes.age'] });
  });

  test('a rule that cannot be judged does not stop a later rule from matching', () => {
    const d: FlagsDocument = {
      version: 1,
      flags: { f: { enabled: true, default: false, rules: [{ conditions: [{ attribute: 'plan', op: 'equals', value: 'pro' }], serve: false }, { segments: ['beta'], serve: true }] } },
    };
    expect(evaluate(d, 'f', { segment: 'beta' })).toMatchObject({ value: true, reason: 'RULE_MATCH', ruleIndex: 1 });
  });

  test('a condition that is false outweighs a missing one: the rule simply does not match', () => {
    expect(evaluate(doc, 'theme', { key: 'k', attributes: { email: 'ann@example.com' } })).toMatchObject({ reason: 'MISSING_CONTEXT', missing: ['attributes.age'] });
    const d: FlagsDocument = {
      version: 1,
      flags: { f: { enabled: true, default: false, rules: [{ conditions: [{ attribute: 'a', op: 'equals', value: 1 }, { attribute: 'b', op: 'equals', value: 1 }], serve: true }] } },
    };
    expect(evaluate(d, 'f', { attributes: { a: 2 } }).reason).toBe('DEFAULT');
  });

  test('serves a percentage rule only to users whose bucket is inside it, with reason PERCENTAGE', () => {
    const inside = users(1000).find((key) => bucketOf('f', '', key) < 1000)!;
    const outside = users(1000).find((key) => bucketOf('f', '', key) >= 1000)!;
    expect(evaluate(percentDoc(10), 'f', { key: inside })).toEqual({ flagKey: 'f', value: true, variant: 'on', reason: 'PERCENTAGE', ruleIndex: 0 });
    expect(evaluate(percentDoc(10), 'f', { key: outside })).toMatchObject({ value: false, reason: 'DEFAULT' });
  });

  test('0% serves nobody and 100% everybody, without needing a user key', () => {
    expect(evaluate(percentDoc(0), 'f', {})).toMatchObject({ value: false, reason: 'DEFAULT' });
    expect(evaluate(percentDoc(100), 'f', {})).toMatchObject({ value: true, reason: 'PERCENTAGE' });
  });

  test('users outside a rule\'s percentage fall through to the next rule', () => {
    const d: FlagsDocument = {
      version: 1,
      flags: { f: { enabled: true, variants: { a: 'A', b: 'B', c: 'C' }, default: 'c', rules: [{ percent: 30, serve: 'a' }, { percent: 60, serve: 'b' }] } },
    };
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (const key of users(20_000)) counts[evaluate(d, 'f', { key }).variant!]++;
    // One bucket per user and flag: rule 2 at 60% re-serves the 30% that rule 1 took, so it adds 30 more points.
    expectWithin(counts.a / 200, 30, 1);
    expectWithin(counts.b / 200, 30, 1);
    expectWithin(counts.c / 200, 40, 1);
  });

  test('evaluateAll evaluates every flag of the document for one context', () => {
    const all = evaluateAll(doc, { segment: 'internal', key: 'k', attributes: { email: 'qa+1@x', age: 20, country: 'FR' } });
    expect(Object.keys(all).sort()).toEqual(['kill-switch', 'new-checkout', 'retired-theme', 'theme']);
    expect(all['new-checkout'].value).toBe(true);
    expect(all.theme.variant).toBe('dark');
  });
});

describe('percentage buckets', () => {
  test('a user keeps their bucket: it depends only on flag key, salt and user key (pinned values)', () => {
    // Changing the hash would silently move users in and out of every running rollout; these pins catch that.
    expect(bucketOf('new-checkout', '', 'user-1')).toBe(5256);
    expect(bucketOf('new-checkout', '', 'user-2')).toBe(2281);
    expect(bucketOf('new-checkout', 's1', 'user-1')).toBe(344);
    expect(bucketOf('theme', '', 'alice')).toBe(7353);
    for (const key of users(100)) expect(bucketOf('f', '', key)).toBe(bucketOf('f', '', key));
  });

  test('rollouts are monotonic: every user inside at 5% is still inside at 25%, 50% and 100%', () => {
    const keys = users(10_000);
    const inside = (percent: number) => new Set(keys.filter((key) => isEnabled(percentDoc(percent), 'f', { key })));
    const steps = [1, 5, 25, 50, 99.99, 100].map(inside);
    for (let i = 1; i < steps.length; i++) {
      for (const key of steps[i - 1]) expect(steps[i].has(key)).toBe(true);
      expect(steps[i].size).toBeGreaterThan(steps[i - 1].size);
    }
    expect(steps[steps.length - 1].size).toBe(keys.length);
  });

  test('100,000 user keys split within one percentage point of the target', () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `${i.toString(36)}@example.com`);
    const d = percentDoc(25);
    const on = keys.filter((key) => evaluate(d, 'f', { key }).value === true).length;
    expectWithin((on / keys.length) * 100, 25, 1);

    const buckets = keys.map((key) => bucketOf('checkout', '', key));
    for (const target of [0.5, 1, 5, 10, 33.33, 50, 75, 90, 99]) {
      const share = (buckets.filter((b) => b < target * 100).length / keys.length) * 100;
      expectWithin(share, target, 1);
    }
  });

  test('different flags and salts draw independent samples of users', () => {
    const keys = users(50_000);
    const sample = (flag: string, salt = '') => new Set(keys.filter((key) => bucketOf(flag, salt, key) < 1000));
    const a = sample('a');
    const overlap = (other: Set<string>) => ([...a].filter((key) => other.has(key)).length / keys.length) * 100;
    // Two independent 10% samples share about 1% of users; the same sample would share 10%.
    expectWithin(overlap(sample('b')), 1, 0.3);
    expectWithin(overlap(sample('a', 'reshuffled')), 1, 0.3);
    expectWithin(overlap(sample('a')), 10, 0.5);
  });
});

describe('validateFlagsDocument', () => {
  test('accepts a valid document', () => {
    expect(validateFlagsDocument(doc)).toEqual([]);
  });

  test('reports every problem with its JSON path, what was expected and what was found', () => {
    const bad = {
      version: 2,
      extra: true,
      flags: {
        checkout: {
          enabled: 'yes',
          default: false,
          rules: [
            { segments: ['beta', 'BETA'], serve: true },
            { conditions: [{ attribute: 'age', op: 'between', value: 3 }], serve: true },
            { percent: 140, serve: true },
            { conditions: [{ attribute: 'plan', op: 'in', values: [] }, { attribute: 'age', op: 'gte', value: '18' }], serve: 'yes' },
            { segments: ['has space'], percentage: 5, serve: true },
          ],
        },
        theme: { enabled: true, variants: { dark: 1 }, default: 'light', rules: [{ serve: 'dark' }, { segments: ['beta'], serve: 'dim' }, { segments: ['x'], serve: 'dark' }] },
        'bad key!': { enabled: true, default: true },
      },
    };
    expect(validateFlagsDocument(bad)).toEqual([
      'extra: expected no such field (allowed: version, flags), got true',
      'version: expected 1, got 2',
      'flags.checkout.enabled: expected true or false, got "yes"',
      'flags.checkout.rules[0].segments[1]: expected each segment once (segments match case-insensitively), got "BETA"',
      'flags.checkout.rules[1].conditions[0].op: expected one of equals, notEquals, in, notIn, startsWith, lt, lte, gt, gte, got "between"',
      'flags.checkout.rules[2].percent: expected a number 0..100 with at most 2 decimals, got 140',
      'flags.checkout.rules[3].serve: expected true or false (a boolean flag), got "yes"',
      'flags.checkout.rules[3].conditions[0].values: expected an array of 1-1000 strings, numbers or booleans, got []',
      'flags.checkout.rules[3].conditions[1].value: expected a finite number (gte), got "18"',
      'flags.checkout.rules[4].percentage: expected no such field (allowed: name, segments, conditions, percent, serve), got 5',
      'flags.checkout.rules[4].segments[0]: expected a segment of 1-128 letters, digits, ".", "_", "-", "*" or "?" (a value of the segment header), got "has space"',
      'flags.theme.default: expected one of the variants "dark", got "light"',
      'flags.theme.rules[0]: expected segments, conditions or a percent below 100 on every rule but the last (this rule matches every user, so rules[1..2] are never reached), got {"serve":"dark"}',
      'flags.theme.rules[1].serve: expected one of the variants "dark", got "dim"',
      'flags["bad key!"]: expected a flag key of 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit, got "bad key!"',
    ]);
  });

  test.each([
    [null, '(document): expected an object with "version" and "flags", got null'],
    [{ version: 1 }, 'flags: expected an object of flags by key, got undefined'],
    [{ version: 1, flags: { f: { enabled: true, default: false, rules: {} } } }, 'flags.f.rules: expected an array of rules, got {}'],
    [{ version: 1, flags: { f: { enabled: true, default: false, rules: [{ percent: 12.345, serve: true }] } } }, 'flags.f.rules[0].percent: expected a number 0..100 with at most 2 decimals, got 12.345'],
    [{ version: 1, flags: { f: { enabled: true, variants: {}, default: 'a' } } }, 'flags.f.variants: expected an object of at least one variant by name (or no "variants" for a boolean flag), got {}'],
    [{ version: 1, flags: { 'v.2': { enabled: true, default: 1 } } }, 'flags["v.2"].default: expected true or false (a boolean flag), got 1'],
    [{ version: 1, flags: { f: { enabled: true, default: false, rules: [{ conditions: [{ attribute: 'e', op: 'startsWith', value: '' }], serve: true }] } } },
      'flags.f.rules[0].conditions[0].value: expected a non-empty string (startsWith), got ""'],
  ])('refuses %j', (input, message) => {
    expect(validateFlagsDocument(input)).toContain(message);
  });

  test('refuses a document larger than the CloudFormation template can carry', () => {
    const flags: Record<string, unknown> = {};
    for (let i = 0; i < 3000; i++) flags[`flag-${i}`] = { enabled: true, description: 'x'.repeat(200), default: false };
    expect(validateFlagsDocument({ version: 1, flags })).toEqual([expect.stringMatching(/^\(document\): expected at most 524288 bytes of JSON, got "\d+ bytes"$/)]);
  });

  test('parseFlagsDocument parses AppConfig\'s bytes and throws every problem at once', () => {
    expect(parseFlagsDocument(new TextEncoder().encode(JSON.stringify(doc)))).toEqual(doc);
    const bad = JSON.stringify({ version: 1, flags: { f: { enabled: 1, default: 'x' } } });
    expect(() => parseFlagsDocument(bad, 'flags of app web')).toThrow(InvalidFlagsDocumentError);
    expect(() => parseFlagsDocument(bad, 'flags of app web'))
      .toThrow('Invalid flags of app web: 2 problems:\n  flags.f.enabled: expected true or false, got 1\n  flags.f.default: expected true or false (a boolean flag), got "x"');
    expect(() => parseFlagsDocument('{not json')).toThrow(/^Invalid flags document: 1 problem:\n {2}\(document\): expected JSON, got a parse error/);
  });
});

describe('FLAGS_JSON_SCHEMA', () => {
  // AppConfig reads draft-04; Ajv 8 reads draft-07, a superset of the keywords used here (checked below).
  const { $schema, ...schema } = FLAGS_JSON_SCHEMA;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

  test('is a draft-04 schema that fits AppConfig\'s validator (32,768 characters)', () => {
    expect($schema).toBe('http://json-schema.org/draft-04/schema#');
    const text = JSON.stringify(FLAGS_JSON_SCHEMA);
    expect(text.length).toBeLessThanOrEqual(32_768);
    for (const keyword of ['const', 'contains', 'propertyNames', 'if', 'then', 'exclusiveMinimum', 'exclusiveMaximum', 'examples']) {
      expect(text).not.toContain(`"${keyword}":`);
    }
  });

  test('accepts a valid document', () => {
    expect(validate(doc)).toBe(true);
  });

  test.each([
    ['a percentage above 100', { version: 1, flags: { f: { enabled: true, default: false, rules: [{ percent: 140, serve: true }] } } }],
    ['a misspelt field', { version: 1, flags: { f: { enabled: true, default: false, rules: [{ percentage: 5, serve: true }] } } }],
    ['an unknown operator', { version: 1, flags: { f: { enabled: true, default: false, rules: [{ conditions: [{ attribute: 'a', op: 'between', value: 1 }], serve: true }] } } }],
    ['a variant name served by a boolean flag', { version: 1, flags: { f: { enabled: true, default: false, rules: [{ serve: 'on' }] } } }],
    ['a boolean default of a multivariate flag', { version: 1, flags: { f: { enabled: true, variants: { a: 1 }, default: true } } }],
    ['a missing "enabled"', { version: 1, flags: { f: { default: false } } }],
    ['an invalid flag key', { version: 1, flags: { 'bad key': { enabled: true, default: false } } }],
    ['another version', { version: 2, flags: {} }],
    ['a segment with a space', { version: 1, flags: { f: { enabled: true, default: false, rules: [{ segments: ['a b'], serve: true }] } } }],
    ['numeric comparison with a string', { version: 1, flags: { f: { enabled: true, default: false, rules: [{ conditions: [{ attribute: 'a', op: 'gt', value: '1' }], serve: true }] } } }],
  ])('refuses %s', (_, input) => {
    expect(validate(input)).toBe(false);
    expect(validateFlagsDocument(input)).not.toEqual([]);
  });
});
