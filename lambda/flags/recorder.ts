import { EvaluationContext, FlagEvaluation, FlagsDocument, FlagValue } from './document';
import { evaluate } from './evaluator';

/**
 * Evaluates flags for one request and remembers which variant each evaluation served, for VariantMetrics (a guarded
 * flag rollout compares the users of each variant). The results are exactly `evaluate`'s: the evaluator stays pure;
 * the recorder only keeps (flag key -> variant) of what it was asked.
 *
 *   const flags = new FlagRecorder(doc);                  // one per request
 *   if (flags.isEnabled('new-checkout', { key: userId })) { ... }
 *   metrics.record(flags, { error: status >= 500, latencyMs });
 */
export class FlagRecorder {
  private readonly variants = new Map<string, string>();

  constructor(private readonly doc: FlagsDocument | undefined) {}

  /** `evaluate(doc, flagKey, context, fallback)`, recorded. A missing flag (no variant) is not recorded. */
  evaluate<T extends FlagValue = FlagValue>(flagKey: string, context: EvaluationContext = {}, fallback?: T): FlagEvaluation<T> {
    const result = evaluate<T>(this.doc, flagKey, context, fallback);
    if (result.variant !== undefined) this.variants.set(flagKey, result.variant);
    return result;
  }

  /** `isEnabled(doc, flagKey, context)`, recorded. */
  isEnabled(flagKey: string, context: EvaluationContext = {}): boolean {
    return this.evaluate(flagKey, context).value === true;
  }

  /** The variant each flag evaluated so far served (the last one, if a flag was evaluated twice), by flag key. */
  served(): Readonly<Record<string, string>> {
    return Object.fromEntries(this.variants);
  }
}
