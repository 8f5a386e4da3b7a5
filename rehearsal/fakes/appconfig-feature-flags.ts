/**
 * What AppConfig checks when a hosted configuration version of an AWS.AppConfig.FeatureFlags profile is created
 * (FakeAppConfig.createHostedConfigurationVersion), as the AppConfig User Guide states it:
 * - "When you create the hosted configuration version, AWS AppConfig verifies that your data conforms to the
 *   AWS.AppConfig.FeatureFlags JSON schema. AWS AppConfig additionally validates that each feature flag attribute in
 *   your data satisfies the constraints you defined for those attributes." (User Guide, "Creating a feature flag
 *   configuration profile in AWS AppConfig", the note after CreateHostedConfigurationVersion);
 * - the schema: User Guide, "Understanding the type reference for AWS.AppConfig.FeatureFlags"
 *   (https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-type-reference-feature-flags.html), a draft-07
 *   schema, transcribed below level by level: the flag set, flag definitions and their attribute definitions with
 *   number / string / array / boolean constraints, flag values with attribute values and multi-variant `_variants`.
 * - the attribute constraints (User Guide, "Understanding feature flag attributes": type, required, and per type
 *   minimum / maximum, pattern or enum, and array elements), checked on each flag's value.
 * Not checked: the `format: date` of `_deprecation.date` (Ajv checks no format unless given one); the variants'
 * `rule` expressions (their grammar is documented elsewhere and evaluated by AppConfig's agent).
 */
import Ajv from 'ajv';

/** Flag, attribute and value keys (the type reference's patternProperties). */
const KEY = '^[a-z][a-zA-Z\\d_-]{0,63}$';
const ref = (name: string) => ({ $ref: `#/definitions/${name}` });
const keyed = (to: object, extra: object = {}) => ({ type: 'object', patternProperties: { [KEY]: to }, additionalProperties: false, ...extra });
const typed = (type: string, properties: object = {}) => ({
  type: 'object',
  properties: { type: { type: 'string', enum: [type] }, required: { type: 'boolean' }, ...properties },
  required: ['type'],
  additionalProperties: false,
});
const string1024 = { type: 'string', maxLength: 1024 };

/** The AWS.AppConfig.FeatureFlags schema of the type reference page. */
export const FEATURE_FLAGS_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  definitions: {
    flagSetDefinition: {
      type: 'object',
      properties: { version: ref('flagSchemaVersions'), flags: ref('flagDefinitions'), values: ref('flagValues') },
      required: ['version'],
      additionalProperties: false,
    },
    flagDefinitions: keyed(ref('flagDefinition')),
    flagDefinition: {
      type: 'object',
      properties: {
        name: ref('customerDefinedName'),
        description: ref('customerDefinedDescription'),
        _createdAt: { type: 'string' },
        _updatedAt: { type: 'string' },
        _deprecation: {
          type: 'object',
          properties: { status: { type: 'string', enum: ['planned'] }, date: { type: 'string', format: 'date' } },
          additionalProperties: false,
        },
        attributes: ref('attributeDefinitions'),
      },
      additionalProperties: false,
    },
    attributeDefinitions: keyed(ref('attributeDefinition'), { maxProperties: 25 }),
    attributeDefinition: {
      type: 'object',
      properties: {
        description: ref('customerDefinedDescription'),
        constraints: { oneOf: [ref('numberConstraints'), ref('stringConstraints'), ref('arrayConstraints'), ref('boolConstraints')] },
      },
      additionalProperties: false,
    },
    flagValues: keyed(ref('flagValue')),
    flagValue: {
      type: 'object',
      properties: {
        enabled: { type: 'boolean' },
        _createdAt: { type: 'string' },
        _updatedAt: { type: 'string' },
        _variants: { type: 'array', maxLength: 32, items: ref('variant') },
      },
      patternProperties: { [KEY]: { ...ref('attributeValue'), maxProperties: 25 } },
      additionalProperties: false,
    },
    attributeValue: {
      oneOf: [
        string1024,
        { type: 'number' },
        { type: 'boolean' },
        { type: 'array', oneOf: [{ items: string1024 }, { items: { type: 'number' } }] },
      ],
      additionalProperties: false,
    },
    stringConstraints: {
      ...typed('string', {
        pattern: string1024,
        enum: { type: 'array', maxLength: 100, items: { oneOf: [string1024, { type: 'integer' }] } },
      }),
      not: { required: ['pattern', 'enum'] },
    },
    numberConstraints: typed('number', { minimum: { type: 'integer' }, maximum: { type: 'integer' } }),
    arrayConstraints: typed('array', { elements: ref('elementConstraints') }),
    boolConstraints: typed('boolean'),
    elementConstraints: { oneOf: [ref('numberConstraints'), ref('stringConstraints')] },
    variant: {
      type: 'object',
      properties: {
        enabled: { type: 'boolean' },
        name: ref('customerDefinedName'),
        rule: { type: 'string', maxLength: 16384 },
        attributeValues: keyed(ref('attributeValue'), { maxProperties: 25 }),
      },
      required: ['name', 'enabled'],
      additionalProperties: false,
    },
    customerDefinedName: { type: 'string', pattern: '^[^\\n]{1,64}$' },
    customerDefinedDescription: { type: 'string', maxLength: 1024 },
    flagSchemaVersions: { type: 'string', enum: ['1'] },
  },
  type: 'object',
  $ref: '#/definitions/flagSetDefinition',
  additionalProperties: false,
};

/** One failed check, as API_InvalidConfigurationDetail reports it. */
export interface FeatureFlagProblem {
  readonly Constraint?: string;
  readonly Location: string;
  readonly Reason: string;
  readonly Type: string;
  readonly Value?: string;
}

let compiled: ReturnType<Ajv['compile']> | undefined;

/** The schema's problems with `content`, then the attribute constraints' (only for a document the schema accepts). */
export function featureFlagsProblems(content: string): FeatureFlagProblem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(content);
  } catch (err) {
    return [{ Type: 'Validation', Location: '/', Reason: `the content is not JSON: ${(err as Error).message}` }];
  }
  // Draft-07 ignores the keywords beside a $ref: the root's `type` and `additionalProperties` are the flag set's
  // (Ajv, unlike the draft, would apply them too, refusing every property).
  compiled ??= new Ajv({ strict: false, allErrors: true, validateFormats: false })
    .compile({ definitions: FEATURE_FLAGS_SCHEMA.definitions, $ref: FEATURE_FLAGS_SCHEMA.$ref });
  if (!compiled(doc)) {
    return (compiled.errors ?? []).map((e) => ({ Type: 'Validation', Constraint: e.keyword, Location: e.instancePath || '/', Reason: e.message ?? e.keyword }));
  }
  return constraintProblems(doc as FlagSet);
}

interface Constraints {
  readonly type: 'number' | 'string' | 'array' | 'boolean';
  readonly required?: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly enum?: ReadonlyArray<string | number>;
  readonly elements?: Constraints;
}
interface FlagSet {
  readonly flags?: Record<string, { readonly attributes?: Record<string, { readonly constraints?: Constraints }> }>;
  readonly values?: Record<string, Record<string, unknown>>;
}

/** Each flag value's attributes against the constraints its flag defines for them ("Understanding feature flag attributes"). */
function constraintProblems(doc: FlagSet): FeatureFlagProblem[] {
  const problems: FeatureFlagProblem[] = [];
  for (const [flagKey, flag] of Object.entries(doc.flags ?? {})) {
    const value = doc.values?.[flagKey];
    if (value === undefined) continue;
    for (const [attribute, definition] of Object.entries(flag.attributes ?? {})) {
      const constraints = definition.constraints;
      if (!constraints) continue;
      const location = `/values/${flagKey}/${attribute}`;
      if (!(attribute in value)) {
        if (constraints.required) problems.push({ Type: 'Validation', Constraint: 'required', Location: location, Reason: `attribute ${attribute} of flag ${flagKey} is required` });
        continue;
      }
      problems.push(...valueProblems(value[attribute], constraints, location));
    }
  }
  return problems;
}

function valueProblems(value: unknown, c: Constraints, location: string): FeatureFlagProblem[] {
  const problem = (Constraint: string, Reason: string): FeatureFlagProblem[] => [{ Type: 'Validation', Constraint, Location: location, Reason, Value: JSON.stringify(value) }];
  switch (c.type) {
    case 'number':
      if (typeof value !== 'number') return problem('type', 'must be a number');
      if (c.minimum !== undefined && value < c.minimum) return problem('minimum', `must be >= ${c.minimum}`);
      if (c.maximum !== undefined && value > c.maximum) return problem('maximum', `must be <= ${c.maximum}`);
      return [];
    case 'string':
      if (typeof value !== 'string') return problem('type', 'must be a string');
      if (c.pattern !== undefined && !new RegExp(c.pattern).test(value)) return problem('pattern', `must match ${c.pattern}`);
      if (c.enum !== undefined && !c.enum.map(String).includes(value)) return problem('enum', `must be one of ${c.enum.join(', ')}`);
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : problem('type', 'must be a boolean');
    case 'array':
      if (!Array.isArray(value)) return problem('type', 'must be an array');
      return c.elements ? value.flatMap((element, i) => valueProblems(element, c.elements!, `${location}/${i}`)) : [];
  }
}
