import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ValidationGateContext } from '../gates/validation-gate-binding';
import { propError } from './validation';

/** Time the function needs beyond its requests and waits: cold start, reading its configuration. */
const FUNCTION_MARGIN = Duration.seconds(10);
/** Lambda's longest run. */
const LAMBDA_MAX = Duration.minutes(15);

/**
 * Runtime of a gate that tries each of `endpoints` endpoints `attempts` times, each try up to `requestTimeout`,
 * `retryDelay` apart: what its function's timeout must cover.
 */
export function probeDuration(endpoints: number, attempts: number, requestTimeout: Duration, retryDelay: Duration): Duration {
  return Duration.millis(endpoints * (attempts * requestTimeout.toMilliseconds() + (attempts - 1) * retryDelay.toMilliseconds()) + FUNCTION_MARGIN.toMilliseconds());
}

/** Checks that a gate's function fits Lambda's limit and the rollout's hook timeout, naming what to change. */
export function checkFitsHook(scope: Construct, gate: string, needed: Duration, context: ValidationGateContext): Duration {
  const seconds = Math.ceil(needed.toMilliseconds() / 1000);
  if (seconds > LAMBDA_MAX.toSeconds() || seconds > context.hookTimeout.toSeconds()) {
    throw propError(scope, `${gate} may run ${seconds} s (every request or try at its timeout, the waits between tries, and about ${FUNCTION_MARGIN.toSeconds()} s to start), `
      + `more than the rollout's hookTimeout (${context.hookTimeout.toHumanString()}) or Lambda's 15 minutes: lower its tries, samples or timeouts, or raise hookTimeout`);
  }
  return Duration.seconds(seconds);
}

