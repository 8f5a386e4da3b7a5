import { BooleanVariant, FlagDefinition, FlagRule, FlagsDocument, MultivariateFlag } from '../flags/document';
import { validateFlagsDocument } from '../flags/validate';
import { FlagPhase, FlagRolloutErrorName, GUARDED_RULE_NAME } from './flag-rollout-contract';
import { NamedError } from '../shared/errors';

/**
 * The flag documents of a guarded rollout, as pure functions: which variant is the control, what the document looks
 * like in a phase, and the document with the flag put back as it was.
 *
 * The rollout owns one rule of the flag, named GUARDED_RULE_NAME, placed after the flag's own rules: users that an
 * explicit rule targets (a tenant, an internal allow-list) keep what that rule serves; among the others, the phase's
 * percentage of users (by the evaluator's stable bucket, so that raising 5% to 15% only adds users) or the phase's
 * segments get the treatment; everyone else gets the flag's default, the control.
 */

export class FlagRolloutError extends NamedError<typeof FlagRolloutErrorName[keyof typeof FlagRolloutErrorName]> {}

function isMultivariate(flag: FlagDefinition): flag is MultivariateFlag {
  return (flag as MultivariateFlag).variants !== undefined;
}

/** The flag of that key, or an INVALID error naming the keys there are. */
export function flagOf(doc: FlagsDocument, flagKey: string): FlagDefinition {
  const flag = Object.prototype.hasOwnProperty.call(doc.flags ?? {}, flagKey) ? doc.flags[flagKey] : undefined;
  if (!flag) {
    throw new FlagRolloutError(FlagRolloutErrorName.INVALID,
      `The deployed flags document has no flag "${flagKey}" (flags: ${Object.keys(doc.flags ?? {}).join(', ') || 'none'})`);
  }
  return flag;
}

/** What the rule serves for the treatment: `true` for a boolean flag's `on`, else the variant's name. */
function served(flag: FlagDefinition, treatment: string): boolean | string {
  return isMultivariate(flag) ? treatment : treatment === BooleanVariant.ON;
}

/**
 * The control variant (the flag's default) of a rollout of `treatment`, after checking that the rollout makes
 * sense: the flag is enabled (a disabled flag serves its default to everyone, whatever its rules say), the
 * treatment is one of its variants and is not its default.
 */
export function controlOf(flagKey: string, flag: FlagDefinition, treatment: string): string {
  if (!flag.enabled) {
    throw new FlagRolloutError(FlagRolloutErrorName.INVALID, `Flag "${flagKey}" is disabled: every user gets its default whatever the rollout sets; enable it (with its rollout at 0%) first`);
  }
  if (isMultivariate(flag)) {
    if (!Object.prototype.hasOwnProperty.call(flag.variants, treatment)) {
      throw new FlagRolloutError(FlagRolloutErrorName.INVALID, `Flag "${flagKey}" has no variant "${treatment}" (variants: ${Object.keys(flag.variants).join(', ')})`);
    }
    if (flag.default === treatment) {
      throw new FlagRolloutError(FlagRolloutErrorName.INVALID, `Flag "${flagKey}" already serves "${treatment}" by default: nothing to roll out`);
    }
    return flag.default;
  }
  if (treatment !== BooleanVariant.ON) {
    throw new FlagRolloutError(FlagRolloutErrorName.INVALID, `Flag "${flagKey}" is a boolean flag: its treatment is "on", got "${treatment}"`);
  }
  if (flag.default) {
    throw new FlagRolloutError(FlagRolloutErrorName.INVALID, `Flag "${flagKey}" is on by default: nothing to roll out`);
  }
  return BooleanVariant.OFF;
}

/** The rollout's rule for a phase. */
export function phaseRule(flag: FlagDefinition, treatment: string, phase: Pick<FlagPhase, 'percent' | 'segments'>): FlagRule {
  const serve = served(flag, treatment);
  if (phase.segments !== undefined) return { name: GUARDED_RULE_NAME, segments: [...phase.segments], serve };
  return { name: GUARDED_RULE_NAME, percent: phase.percent ?? 0, serve };
}

/** `doc` with the flag's rollout rule set to the phase's (added after the flag's own rules the first time). */
export function documentForPhase(doc: FlagsDocument, flagKey: string, treatment: string, phase: Pick<FlagPhase, 'percent' | 'segments'>): FlagsDocument {
  const flag = flagOf(doc, flagKey);
  const rule = phaseRule(flag, treatment, phase);
  const own = (flag.rules ?? []).filter((r) => r.name !== GUARDED_RULE_NAME);
  return checked({ ...doc, flags: { ...doc.flags, [flagKey]: { ...flag, rules: [...own, rule] } as FlagDefinition } });
}

/** `doc` with the flag as `original` (its definition before the rollout); other flags stay as they are now. */
export function documentWithFlag(doc: FlagsDocument, flagKey: string, original: FlagDefinition): FlagsDocument {
  return checked({ ...doc, flags: { ...doc.flags, [flagKey]: original } });
}

/** Refuses a document the evaluator or AppConfig's validators would refuse, before it is written. */
function checked(doc: FlagsDocument): FlagsDocument {
  const problems = validateFlagsDocument(doc);
  if (problems.length > 0) {
    throw new FlagRolloutError(FlagRolloutErrorName.INVALID, `The flags document of this phase would be invalid: ${problems.join('; ')}`);
  }
  return doc;
}

/** Canonical JSON (keys sorted) for comparing two documents. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>).sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
