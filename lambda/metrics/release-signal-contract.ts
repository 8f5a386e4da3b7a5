/**
 * The per-color release signal: what an application emits (lambda/metrics/release-metrics.ts, through EMF log lines)
 * and what the constructs alarm on (lib/rollout/high-resolution-alarms.ts). One contract, so the metric names,
 * dimensions and environment variables cannot drift apart between the two sides.
 */

/** Environment variables the color stacks set on the services they create (lib/stacks/blue-green-stacks.ts). */
export const RELEASE_SIGNAL_ENV = {
  /** The service name of the rollout (ProgressiveRollout.serviceName): the metric's Service dimension. */
  SERVICE: 'ZDT_RELEASE_SERVICE',
  /** The color of the stack the service runs in ("blue" or "green"): the metric's Color dimension. */
  COLOR: 'ZDT_RELEASE_COLOR',
  /** The CloudWatch namespace the alarms read. */
  NAMESPACE: 'ZDT_RELEASE_NAMESPACE',
} as const;

/** The namespace of the signal unless the rollout sets another. */
export const DEFAULT_RELEASE_SIGNAL_NAMESPACE = 'ZeroDowntime/Release';

/** Metric names of the signal. */
export const RELEASE_SIGNAL_METRICS = {
  /** Every response, per second (Count, summed). */
  REQUESTS: 'Requests',
  /** Responses with a status of 500 or more, per second (Count, summed; 0 is written too, so the rate is defined). */
  ERRORS: 'Errors5xx',
  /** Time to the response, every request's value (Milliseconds): CloudWatch computes p99 over them. */
  LATENCY: 'Latency',
} as const;

/** Dimension names of the signal. */
export const RELEASE_SIGNAL_DIMENSIONS = {
  SERVICE: 'Service',
  COLOR: 'Color',
} as const;
