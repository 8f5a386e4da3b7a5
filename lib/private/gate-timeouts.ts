import { Duration } from 'aws-cdk-lib';
import type { ValidationGateContext } from '../gates/validation-gate-binding';
import { PropChecks } from './validation';

/** Time a gate function needs beyond its tries and waits: a cold start in the VPC, reading its configuration or secret. */
const FUNCTION_MARGIN = Duration.seconds(15);
/** Lambda's longest run. */
const LAMBDA_MAX = Duration.minutes(15);

/** What a gate does in one run, one after the other: `tries` tries of up to `tryTimeout`, and `waits` waits of `wait`. */
export interface GateWork {
  readonly tries: number;
  readonly tryTimeout: Duration;
  readonly waits?: number;
  readonly wait?: Duration;
}

/** The longest run of a gate's function (every try at its timeout, every wait, and the start): its timeout must cover it. */
export function probeDuration(work: GateWork): Duration {
  return Duration.millis(work.tries * work.tryTimeout.toMilliseconds() + (work.waits ?? 0) * (work.wait?.toMilliseconds() ?? 0) + FUNCTION_MARGIN.toMilliseconds());
}

/**
 * The timeout of a gate's function: its longest run, in whole seconds. That it fits Lambda's 15 minutes and the
 * rollout's hook timeout is checked at synth with the gate's range checks (after them: an out-of-range prop is named
 * as such); the function is built with at most Lambda's limit meanwhile.
 */
export function gateFunctionTimeout(checks: PropChecks, gate: string, work: GateWork, context: ValidationGateContext): Duration {
  const seconds = Math.ceil(probeDuration(work).toMilliseconds() / 1000);
  checks.combination(() => (seconds > LAMBDA_MAX.toSeconds() || seconds > context.hookTimeout.toSeconds()
    ? `${gate} may run ${seconds} s (every request or try at its timeout, the waits between tries, and about ${FUNCTION_MARGIN.toSeconds()} s to start), `
      + `more than the rollout's hookTimeout (${context.hookTimeout.toHumanString()}) or Lambda's 15 minutes: lower its tries, samples or timeouts, or raise hookTimeout`
    : undefined));
  return Duration.seconds(Math.min(seconds, LAMBDA_MAX.toSeconds()));
}
