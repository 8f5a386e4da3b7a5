/**
 * Metrics applications emit at runtime, through CloudWatch Embedded Metric Format log lines (no AWS SDK, no API call
 * per request): `cdk-zero-downtime-runtime/metrics`.
 */
export * from './emf';
export * from './release-metrics';
