import { Duration, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * Range checks of a construct's props, reported at synth through node.addValidation (CDK prefixes each message
 * with the construct path). Values that are unresolved tokens are skipped: they are known only at deploy time.
 * Contradictory props are not for this class: throw those at once with `propError`.
 */
export class PropChecks {
  private readonly problems: string[] = [];
  private readonly combined: Array<() => string | undefined> = [];

  constructor(scope: Construct) {
    scope.node.addValidation({ validate: () => this.problems.length > 0 ? this.problems : this.combined.map((c) => c()).filter((p) => p !== undefined) });
  }

  /** An integer (or any number, with `integer: false`) from min to max inclusive. */
  public number(prop: string, value: number | undefined, min: number, max: number, options: { integer?: boolean; unit?: string } = {}): this {
    if (value === undefined || Token.isUnresolved(value)) return this;
    const integer = options.integer ?? true;
    const unit = options.unit ? ` ${options.unit}` : '';
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      this.problems.push(`${prop} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}${unit}, got ${value}`);
    }
    return this;
  }

  /** A duration from min to max inclusive; with `multipleOf`, a whole multiple of it. */
  public duration(prop: string, value: Duration | undefined, min: Duration, max: Duration, multipleOf?: Duration): this {
    if (value === undefined) return this;
    const seconds = value.toSeconds({ integral: false });
    if (Token.isUnresolved(seconds)) return this;
    const lo = min.toSeconds({ integral: false });
    const hi = max.toSeconds({ integral: false });
    if (seconds < lo || seconds > hi) {
      this.problems.push(`${prop} must be from ${min.toHumanString()} to ${max.toHumanString()}, got ${value.toHumanString()}`);
    } else if (multipleOf && seconds % multipleOf.toSeconds() !== 0) {
      this.problems.push(`${prop} must be a whole multiple of ${multipleOf.toHumanString()}, got ${value.toHumanString()}`);
    }
    return this;
  }

  /** A string matching a pattern, described in words for the message. */
  public pattern(prop: string, value: string | undefined, pattern: RegExp, allowed: string): this {
    if (value === undefined || Token.isUnresolved(value)) return this;
    if (!pattern.test(value)) this.problems.push(`${prop} must be ${allowed}, got "${value}"`);
    return this;
  }

  /** One of a fixed set of values (for callers without TypeScript's checks). */
  public oneOf<T>(prop: string, value: T | undefined, allowed: readonly T[]): this {
    if (value === undefined) return this;
    if (!allowed.includes(value)) this.problems.push(`${prop} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`);
    return this;
  }

  /**
   * A check of what several props combine into (a run time made of tries, timeouts and waits), made at synth and
   * reported only when every range check holds: a value out of range is named as such, not as its consequence.
   */
  public combination(check: () => string | undefined): this {
    this.combined.push(check);
    return this;
  }

  /** A free-form check: `ok` false reports `message`. */
  public that(ok: boolean, message: string): this {
    if (!ok) this.problems.push(message);
    return this;
  }
}

/** An error for contradictory props, thrown at once: names the construct path. */
export function propError(scope: Construct, message: string): Error {
  return new Error(`${scope.node.path}: ${message}`);
}
