/**
 * Feature flags at runtime: the document format, the evaluator, its validation and JSON Schema. Pure code (no AWS
 * SDK): applications import it to evaluate the flags they fetch from AWS AppConfig.
 */
export * from './document';
export { evaluate, evaluateAll, isEnabled, segmentMatches } from './evaluator';
export { bucketOf, percentToBuckets } from './bucket';
export { validateFlagsDocument, assertFlagsDocument, parseFlagsDocument, InvalidFlagsDocumentError } from './validate';
export { FLAGS_JSON_SCHEMA } from './schema';
export { FlagRecorder } from './recorder';
export { VariantMetrics, type VariantMetricsOptions, type RequestOutcome, DEFAULT_VARIANT_NAMESPACE, VariantDimension, VariantMetric } from './variant-metrics';
