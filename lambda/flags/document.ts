/**
 * The feature flags document: the JSON that the FeatureFlags construct stores in AWS AppConfig and that applications
 * fetch and evaluate with `evaluate()`. Types and constants only (no AWS SDK, no aws-cdk-lib), so both the construct
 * (synth time) and applications (runtime) import it.
 */

/** The document format this library writes and evaluates (`version` of a FlagsDocument). */
export const FLAGS_DOCUMENT_VERSION = 1;

/** Any JSON value: what a variant of a multivariate flag may hold. */
export type FlagValue = string | number | boolean | null | readonly FlagValue[] | { readonly [key: string]: FlagValue };

/** Attribute values an application passes in the evaluation context (header and query values are strings). */
export type AttributeValue = string | number | boolean;

/** Comparison of a user attribute. Equality, membership and prefix compare the values as strings (`'18'` equals `18`). */
export type FlagCondition =
  /** The attribute equals (or, with `notEquals`, differs from) `value`. */
  | { readonly attribute: string; readonly op: 'equals' | 'notEquals'; readonly value: AttributeValue }
  /** The attribute is (or, with `notIn`, is not) one of `values`. */
  | { readonly attribute: string; readonly op: 'in' | 'notIn'; readonly values: readonly AttributeValue[] }
  /** The attribute starts with `value` (case-sensitive). */
  | { readonly attribute: string; readonly op: 'startsWith'; readonly value: string }
  /** Numeric comparison `attribute <op> value`; a string attribute must parse as a number, or the condition is false. */
  | { readonly attribute: string; readonly op: 'lt' | 'lte' | 'gt' | 'gte'; readonly value: number };

export type ConditionOperator = FlagCondition['op'];

/** Every condition operator, for validation and the JSON Schema. */
export const CONDITION_OPERATORS: readonly ConditionOperator[] = ['equals', 'notEquals', 'in', 'notIn', 'startsWith', 'lt', 'lte', 'gt', 'gte'];

/**
 * One targeting rule. A user matches when their segment is one of `segments` (if given) and every condition holds
 * (if given); then, with `percent`, only that share of the matching users (by a stable hash of their key) gets `serve`.
 * Users outside the percentage fall through to the next rule.
 */
export interface FlagRule {
  /** Shown in evaluation results and logs. */
  readonly name?: string;
  /**
   * Segments (values of the rollout's segment header, e.g. `internal`, `beta`, `premium`) this rule applies to.
   * Matched as the ALB matches the header: case-insensitive, `*` any characters, `?` one character.
   * Absent: any segment, or none.
   */
  readonly segments?: readonly string[];
  /** Conditions on user attributes, all of which must hold. Absent: no attribute condition. */
  readonly conditions?: readonly FlagCondition[];
  /**
   * Share of the matching users, 0-100 in steps of 0.01 (basis points), that get `serve`. Absent: all of them.
   * Needs the context's `key`.
   */
  readonly percent?: number;
  /** What a matching user gets: `true`/`false` for a boolean flag, a variant name for a multivariate flag. */
  readonly serve: boolean | string;
}

/** A flag whose value is true or false. */
export interface BooleanFlag {
  readonly description?: string;
  /** A disabled flag is `false` for everyone (a kill switch), whatever its rules say. */
  readonly enabled: boolean;
  /** The value when no rule matches. */
  readonly default: boolean;
  /** Rules in order: the first that matches decides. */
  readonly rules?: readonly FlagRule[];
  /** Mixed into the percentage hash: change it to give the flag a fresh random sample of users. @default - none */
  readonly salt?: string;
}

/** A flag with named variants (any JSON values), e.g. `{ control: 'blue', treatment: 'green' }`. */
export interface MultivariateFlag {
  readonly description?: string;
  /** A disabled flag serves its `default` variant to everyone, whatever its rules say. */
  readonly enabled: boolean;
  readonly variants: { readonly [name: string]: FlagValue };
  /** Name of the variant served when no rule matches (and when the flag is disabled). */
  readonly default: string;
  readonly rules?: readonly FlagRule[];
  readonly salt?: string;
}

export type FlagDefinition = BooleanFlag | MultivariateFlag;

/** The document stored in AppConfig. */
export interface FlagsDocument {
  /** FLAGS_DOCUMENT_VERSION. */
  readonly version: typeof FLAGS_DOCUMENT_VERSION;
  /** Flags by key. */
  readonly flags: { readonly [key: string]: FlagDefinition };
}

/** Who is asking: what the rules match on. */
export interface EvaluationContext {
  /** A stable identifier of the user (or session, or tenant) for percentage rules. */
  readonly key?: string;
  /** The request's segment: the value of the rollout's segment header (e.g. `x-zdt-segment: beta`). */
  readonly segment?: string;
  /** User attributes for conditions. */
  readonly attributes?: { readonly [name: string]: AttributeValue | undefined };
}

/** Why a flag has the value it has. */
export const EvaluationReason = {
  /** The document has no flag of that key: the value is the caller's fallback. */
  FLAG_NOT_FOUND: 'FLAG_NOT_FOUND',
  /** The flag is disabled: false, or the default variant. */
  DISABLED: 'DISABLED',
  /** A rule without a percentage matched. */
  RULE_MATCH: 'RULE_MATCH',
  /** A rule matched and the user's bucket is inside its percentage. */
  PERCENTAGE: 'PERCENTAGE',
  /** No rule matched: the flag's default. */
  DEFAULT: 'DEFAULT',
  /** No rule matched, and at least one rule could not be judged for lack of context (key or attribute): the default. */
  MISSING_CONTEXT: 'MISSING_CONTEXT',
} as const;
export type EvaluationReasonType = (typeof EvaluationReason)[keyof typeof EvaluationReason];

export interface FlagEvaluation<T extends FlagValue = FlagValue> {
  readonly flagKey: string;
  /** The flag's value for this context; the caller's fallback (or undefined) when the flag is not found. */
  readonly value: T | undefined;
  /** `on`/`off` for a boolean flag, the variant name for a multivariate flag; undefined when the flag is not found. */
  readonly variant: string | undefined;
  readonly reason: EvaluationReasonType;
  /** Index of the rule that decided (RULE_MATCH, PERCENTAGE). */
  readonly ruleIndex?: number;
  /** Name of the rule that decided, when it has one. */
  readonly ruleName?: string;
  /** What the context lacked (MISSING_CONTEXT): `key` or `attributes.<name>`. */
  readonly missing?: readonly string[];
}

/** Variant names of a boolean flag's values. */
export const BooleanVariant = { ON: 'on', OFF: 'off' } as const;

/** Flag keys: a letter or digit, then letters, digits, `.`, `_`, `-`; at most 128 characters. */
export const FLAG_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Variant names: like flag keys, at most 64 characters. */
export const VARIANT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/**
 * Segments: what the rollout's segment header carries, the same characters its ALB rule accepts (letters, digits,
 * `.`, `_`, `-`, and the wildcards `*` and `?`), 1-128 characters.
 */
export const SEGMENT_PATTERN = /^[A-Za-z0-9._*?-]{1,128}$/;
/** Attribute names: 1-128 characters, no whitespace. */
export const ATTRIBUTE_NAME_PATTERN = /^\S{1,128}$/;
/** Rules of one flag. More than this is a sign that targeting belongs in the application. */
export const MAX_RULES_PER_FLAG = 100;
/** Values of one `in` / `notIn` condition. */
export const MAX_CONDITION_VALUES = 1000;
/**
 * Largest document, bytes of its JSON. The construct inlines the document into the CloudFormation template, whose
 * limit is 1 MB; half of it leaves room for the rest of the stack.
 */
export const MAX_DOCUMENT_BYTES = 512 * 1024;
/** Percentages are in basis points (hundredths of a percent): 100% = 10,000 buckets. */
export const BUCKETS = 10_000;
/** A percentage has at most this many decimals (one basis point is 0.01%). */
export const PERCENT_DECIMALS = 2;
