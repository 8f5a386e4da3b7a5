/**
 * The rules of the CloudWatch User Guide page "Specification: Embedded metric format"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
 * that its JSON schema (./emf-schema.ts) does not express, checked on a serialized document. Each message names the
 * section it comes from.
 */
import Ajv from 'ajv';
import { EMF_JSON_SCHEMA } from './emf-schema';

const validateSchema = new Ajv({ allErrors: true, strict: false }).compile(EMF_JSON_SCHEMA);

/** Every way `line` breaks the specification; [] for a valid document. */
export function emfViolations(line: string, maxBytes = 256 * 1024): string[] {
  const problems: string[] = [];
  // [Embedded metric format document structure] "limited to a maximum size of 256 KB".
  if (Buffer.byteLength(line) > maxBytes) problems.push(`document structure: ${Buffer.byteLength(line)} bytes > ${maxBytes}`);
  let doc: any;
  try {
    // [Root node] "The LogEvent message MUST be a valid JSON object with no additional data at the beginning or end".
    doc = JSON.parse(line);
  } catch (error) {
    return [...problems, `root node: not JSON (${(error as Error).message})`];
  }
  if (line !== line.trim() || typeof doc !== 'object' || doc === null || Array.isArray(doc)) return [...problems, 'root node: not a bare JSON object'];
  if (!validateSchema(doc)) problems.push(...(validateSchema.errors ?? []).map((e) => `schema: ${e.instancePath} ${e.message}`));
  for (const directive of doc._aws?.CloudWatchMetrics ?? []) {
    // [MetricDirective object] "This array MUST NOT contain more than 100 MetricDefinition objects".
    if ((directive.Metrics ?? []).length > 100) problems.push(`MetricDirective: ${directive.Metrics.length} metrics > 100`);
    for (const set of directive.Dimensions ?? []) {
      for (const name of set) {
        // [DimensionSet array] "The values within this array MUST also be members on the root-node"; [Target members]
        // "A dimension target MUST have a string value".
        if (typeof doc[name] !== 'string') problems.push(`DimensionSet: target ${name} is ${JSON.stringify(doc[name])}, not a string on the root node`);
      }
    }
    for (const metric of directive.Metrics ?? []) {
      const target = doc[metric.Name];
      // [Target members] "A metric target MUST be a numeric value or an array of numeric values. Numeric array metric
      // targets MUST NOT have more than 100 members."
      if (Array.isArray(target)) {
        if (target.length > 100) problems.push(`Target members: ${metric.Name} has ${target.length} values > 100`);
        if (!target.every((v) => typeof v === 'number' && Number.isFinite(v))) problems.push(`Target members: ${metric.Name} holds a non-number`);
      } else if (typeof target !== 'number' || !Number.isFinite(target)) {
        problems.push(`Target members: ${metric.Name} is ${JSON.stringify(target)}, not a number on the root node`);
      }
      // [MetricDefinition object] StorageResolution: 1 or 60.
      if (metric.StorageResolution !== undefined && metric.StorageResolution !== 1 && metric.StorageResolution !== 60) problems.push(`MetricDefinition: StorageResolution ${metric.StorageResolution}`);
    }
  }
  return problems;
}
