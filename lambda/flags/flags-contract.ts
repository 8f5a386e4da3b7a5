/**
 * What synth-time code (lib/flags/feature-flags.ts) shares with the flags runtime: the flags document format, its
 * JSON Schema and its validation, so a document is refused at synth by the same check AppConfig's Lambda validator
 * and the evaluator apply. A re-export; lib/ imports lambda/ only through contract modules (.dependency-cruiser.cjs).
 */
export * from './document';
export { FLAGS_JSON_SCHEMA } from './schema';
export { validateFlagsDocument } from './validate';
