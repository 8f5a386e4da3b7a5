import {
  ATTRIBUTE_NAME_PATTERN, FLAG_KEY_PATTERN, FLAGS_DOCUMENT_VERSION, MAX_CONDITION_VALUES, MAX_RULES_PER_FLAG,
  SEGMENT_PATTERN, VARIANT_NAME_PATTERN,
} from './document';

const attributeValue = { type: ['string', 'number', 'boolean'] };
const attribute = { type: 'string', pattern: ATTRIBUTE_NAME_PATTERN.source };

/** Fields of a rule other than `serve`, which depends on the flag's kind. */
const ruleFields = {
  name: { type: 'string' },
  segments: { type: 'array', minItems: 1, items: { type: 'string', pattern: SEGMENT_PATTERN.source } },
  conditions: { type: 'array', minItems: 1, items: { $ref: '#/definitions/condition' } },
  percent: { type: 'number', minimum: 0, maximum: 100 },
};
const flagFields = {
  description: { type: 'string' },
  enabled: { type: 'boolean' },
  salt: { type: 'string' },
};

/**
 * JSON Schema (draft-04, the dialect AWS AppConfig's JSON_SCHEMA validator reads) of a FlagsDocument. AppConfig
 * runs its validators before a version is deployed, including versions edited in the console, so a malformed
 * document does not reach the applications.
 *
 * A schema cannot check everything: validateFlagsDocument also checks that `default` and `serve` name existing
 * variants, that segments are not listed twice, that rules are reachable, and percentages' decimals. The construct
 * runs validateFlagsDocument at synth.
 */
export const FLAGS_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  title: 'cdk-zero-downtime feature flags',
  type: 'object',
  required: ['version', 'flags'],
  additionalProperties: false,
  properties: {
    version: { enum: [FLAGS_DOCUMENT_VERSION] },
    flags: {
      type: 'object',
      additionalProperties: false,
      patternProperties: { [FLAG_KEY_PATTERN.source]: { $ref: '#/definitions/flag' } },
    },
  },
  definitions: {
    flag: { oneOf: [{ $ref: '#/definitions/booleanFlag' }, { $ref: '#/definitions/multivariateFlag' }] },
    booleanFlag: {
      type: 'object',
      required: ['enabled', 'default'],
      additionalProperties: false,
      properties: {
        ...flagFields,
        default: { type: 'boolean' },
        rules: { type: 'array', maxItems: MAX_RULES_PER_FLAG, items: { $ref: '#/definitions/booleanRule' } },
      },
    },
    multivariateFlag: {
      type: 'object',
      required: ['enabled', 'default', 'variants'],
      additionalProperties: false,
      properties: {
        ...flagFields,
        variants: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          patternProperties: { [VARIANT_NAME_PATTERN.source]: {} },
        },
        default: { type: 'string', pattern: VARIANT_NAME_PATTERN.source },
        rules: { type: 'array', maxItems: MAX_RULES_PER_FLAG, items: { $ref: '#/definitions/multivariateRule' } },
      },
    },
    booleanRule: {
      type: 'object',
      required: ['serve'],
      additionalProperties: false,
      properties: { ...ruleFields, serve: { type: 'boolean' } },
    },
    multivariateRule: {
      type: 'object',
      required: ['serve'],
      additionalProperties: false,
      properties: { ...ruleFields, serve: { type: 'string', pattern: VARIANT_NAME_PATTERN.source } },
    },
    condition: {
      oneOf: [
        {
          type: 'object',
          required: ['attribute', 'op', 'value'],
          additionalProperties: false,
          properties: { attribute, op: { enum: ['equals', 'notEquals'] }, value: attributeValue },
        },
        {
          type: 'object',
          required: ['attribute', 'op', 'values'],
          additionalProperties: false,
          properties: {
            attribute,
            op: { enum: ['in', 'notIn'] },
            values: { type: 'array', minItems: 1, maxItems: MAX_CONDITION_VALUES, items: attributeValue },
          },
        },
        {
          type: 'object',
          required: ['attribute', 'op', 'value'],
          additionalProperties: false,
          properties: { attribute, op: { enum: ['startsWith'] }, value: { type: 'string', minLength: 1 } },
        },
        {
          type: 'object',
          required: ['attribute', 'op', 'value'],
          additionalProperties: false,
          properties: { attribute, op: { enum: ['lt', 'lte', 'gt', 'gte'] }, value: { type: 'number' } },
        },
      ],
    },
  },
} as const;
