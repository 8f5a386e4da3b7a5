/**
 * A CloudWatch Embedded Metric Format (EMF) writer for applications: no dependencies, no AWS SDK, no API call per
 * request. Values are aggregated in memory per (timestamp second, dimension set) and written, once the second is
 * over, as one EMF document per bucket (split only where the specification's limits force it) to a sink — by default
 * one line on process.stdout, which the Lambda runtime, the awslogs log driver, FireLens or the CloudWatch agent
 * carry to CloudWatch Logs, where the metrics are extracted.
 *
 * Every rule below cites the CloudWatch User Guide, "Specification: Embedded metric format"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
 * as "[EMF spec: <section>]".
 *
 * Counts (requests, errors) are summed per bucket: one number per document. Samples (latencies) are kept as arrays of
 * values: CloudWatch computes statistics and percentiles from every value of the array [EMF spec: Target members — "a
 * metric target MUST be a numeric value or an array of numeric values"].
 */

/** [EMF spec: MetricDirective object] "This array MUST NOT contain more than 100 MetricDefinition objects". */
export const EMF_MAX_METRICS_PER_DIRECTIVE = 100;
/** [EMF spec: Target members] "Numeric array metric targets MUST NOT have more than 100 members". */
export const EMF_MAX_VALUES_PER_METRIC = 100;
/** [EMF spec: DimensionSet array] "A DimensionSet MUST NOT contain more than 30 dimension keys". */
export const EMF_MAX_DIMENSIONS = 30;
/**
 * [EMF spec: Embedded metric format document structure] "subject to the same limits as standard CloudWatch Logs
 * events and are limited to a maximum size of 256 KB". (Later editions of the page state 1 MB, after CloudWatch Logs
 * raised its event limit; 256 KB is what every edition and every log shipper accepts, so it is the default and the
 * maximum here.)
 */
export const EMF_MAX_EVENT_BYTES = 256 * 1024;

/**
 * The CloudWatch units [EMF spec: MetricDefinition object — "Values SHOULD be valid CloudWatch metric units"; the JSON
 * schema's MetricUnit pattern], as in the CloudWatch API reference, MetricDatum.Unit.
 */
export type EmfUnit =
  | 'Seconds' | 'Microseconds' | 'Milliseconds'
  | 'Bytes' | 'Kilobytes' | 'Megabytes' | 'Gigabytes' | 'Terabytes'
  | 'Bits' | 'Kilobits' | 'Megabits' | 'Gigabits' | 'Terabits'
  | 'Percent' | 'Count'
  | 'Bytes/Second' | 'Kilobytes/Second' | 'Megabytes/Second' | 'Gigabytes/Second' | 'Terabytes/Second'
  | 'Bits/Second' | 'Kilobits/Second' | 'Megabits/Second' | 'Gigabits/Second' | 'Terabits/Second'
  | 'Count/Second' | 'None';

export const EMF_UNITS: readonly EmfUnit[] = [
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits',
  'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second',
  'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second',
  'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
];

/**
 * [EMF spec: MetricDefinition object] StorageResolution: 1 stores the metric at one-second resolution (a
 * high-resolution metric), 60 at one minute (the default when absent).
 */
export type EmfStorageResolution = 1 | 60;

/** Dimension name → value. Each distinct combination is a distinct CloudWatch metric (and is billed as one). */
export type EmfDimensions = Readonly<Record<string, string>>;

/** Receives one serialized EMF document (one log event, no trailing newline). */
export type EmfSink = (document: string) => void;

/** One EMF document as it is serialized. */
export interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: EmfUnit; readonly StorageResolution?: 1 }[];
    }[];
  };
  readonly [member: string]: unknown;
}

export interface EmfWriterOptions {
  /** The CloudWatch namespace of every metric this writer emits (1–255 characters, not starting with ':'). */
  readonly namespace: string;
  /** 1 (high resolution, for alarms with 10 s or 30 s periods) or 60. Default 1. */
  readonly storageResolution?: EmfStorageResolution;
  /** Dimensions added to every record (e.g. service and color); a record's own dimensions win on a clash. */
  readonly defaultDimensions?: EmfDimensions;
  /** Where documents go. Default: one line each on process.stdout. */
  readonly sink?: EmfSink;
  /** Milliseconds since the epoch. Default Date.now. */
  readonly clock?: () => number;
  /** How often the background timer writes the seconds that are over, in ms. 0 = no timer. Default 1000. */
  readonly flushIntervalMs?: number;
  /** Write everything still held when the process exits. Default true. */
  readonly flushOnExit?: boolean;
  /** The largest document written, in bytes (UTF-8). Default and maximum 256 KiB (EMF_MAX_EVENT_BYTES). */
  readonly maxEventBytes?: number;
  /** Called when a background (timer or exit) flush fails. Default: one line on process.stderr. */
  readonly onError?: (error: unknown) => void;
}

/** A record the caller got wrong: names the field, the value given and what is allowed. */
export class EmfValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmfValidationError';
  }
}

type MetricKind = 'count' | 'sample';

interface MetricSpec {
  readonly kind: MetricKind;
  readonly unit: EmfUnit;
}

interface Bucket {
  readonly second: number;
  readonly dimensions: EmfDimensions;
  readonly counts: Map<string, number>;
  readonly samples: Map<string, number[]>;
}

/** The smallest maxEventBytes accepted: room for the metadata, 30 dimensions' worth of names, and one value. */
const MIN_EVENT_BYTES = 4096;

/**
 * Aggregates metric values per (second, dimension set) and writes EMF documents. Cheap per record (a map update);
 * all serialization happens at flush time.
 */
export class EmfWriter {
  readonly namespace: string;
  readonly storageResolution: EmfStorageResolution;
  private readonly defaultDimensions: EmfDimensions;
  private readonly sink: EmfSink;
  private readonly clock: () => number;
  private readonly maxEventBytes: number;
  private readonly onError: (error: unknown) => void;
  private readonly specs = new Map<string, MetricSpec>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly dimensionKeyCache = new Map<string, string>();
  private readonly dimensionNames = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly exitListener: (() => void) | undefined;
  private closed = false;

  constructor(options: EmfWriterOptions) {
    this.namespace = checkNamespace(options.namespace);
    this.storageResolution = options.storageResolution ?? 1;
    if (this.storageResolution !== 1 && this.storageResolution !== 60) {
      throw new EmfValidationError(`EmfWriter storageResolution: got ${String(options.storageResolution)}; allowed: 1 (high resolution) or 60 [EMF spec: MetricDefinition object]`);
    }
    this.defaultDimensions = checkDimensions(options.defaultDimensions ?? {}, 'defaultDimensions');
    for (const name of Object.keys(this.defaultDimensions)) this.dimensionNames.add(name);
    this.sink = options.sink ?? stdoutSink;
    this.clock = options.clock ?? Date.now;
    this.maxEventBytes = options.maxEventBytes ?? EMF_MAX_EVENT_BYTES;
    if (!Number.isInteger(this.maxEventBytes) || this.maxEventBytes < MIN_EVENT_BYTES || this.maxEventBytes > EMF_MAX_EVENT_BYTES) {
      throw new EmfValidationError(`EmfWriter maxEventBytes: got ${String(options.maxEventBytes)}; allowed: an integer from ${MIN_EVENT_BYTES} to ${EMF_MAX_EVENT_BYTES} [EMF spec: 256 KB]`);
    }
    this.onError = options.onError ?? ((error) => process.stderr.write(`EmfWriter: flush failed: ${error instanceof Error ? error.message : String(error)}\n`));
    const interval = options.flushIntervalMs ?? 1000;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new EmfValidationError(`EmfWriter flushIntervalMs: got ${String(options.flushIntervalMs)}; allowed: 0 (no timer) or a positive number of milliseconds`);
    }
    if (interval > 0) {
      this.timer = setInterval(() => this.background(() => this.flushCompleted()), interval);
      // The timer must never keep an application (or a test runner) alive on its own.
      this.timer.unref();
    }
    if (options.flushOnExit ?? true) {
      // 'exit' listeners run synchronously; process.stdout is synchronous for files and, on Linux, for pipes
      // (Node.js docs, process, "A note on process I/O"), so the last documents reach the log driver.
      this.exitListener = () => this.background(() => this.flush());
      process.on('exit', this.exitListener);
    }
  }

  /** Adds `value` (default 1) to the count `name` for this second and dimension set. */
  count(name: string, value = 1, dimensions: EmfDimensions = {}, unit: EmfUnit = 'Count'): void {
    if (!Number.isFinite(value)) throw new EmfValidationError(`EmfWriter.count(${JSON.stringify(name)}): value ${String(value)} is not a finite number [EMF spec: Target members — numeric]`);
    const bucket = this.bucketFor(name, 'count', unit, dimensions);
    bucket.counts.set(name, (bucket.counts.get(name) ?? 0) + value);
  }

  /** Records one sample of `name` (e.g. a latency) for this second and dimension set; every sample is kept. */
  sample(name: string, value: number, dimensions: EmfDimensions = {}, unit: EmfUnit = 'Milliseconds'): void {
    if (!Number.isFinite(value)) throw new EmfValidationError(`EmfWriter.sample(${JSON.stringify(name)}): value ${String(value)} is not a finite number [EMF spec: Target members — numeric]`);
    const bucket = this.bucketFor(name, 'sample', unit, dimensions);
    const values = bucket.samples.get(name);
    if (values) values.push(value);
    else bucket.samples.set(name, [value]);
  }

  /** Writes every bucket held, the current second's included. Returns the number of documents written. */
  flush(): number {
    return this.write(() => true);
  }

  /** Writes the buckets of the seconds that are over (what the timer does). Returns the number of documents written. */
  flushCompleted(): number {
    const current = Math.floor(this.clock() / 1000);
    return this.write((bucket) => bucket.second < current);
  }

  /** Stops the timer, forgets the exit listener and writes what is held. Further records throw. */
  close(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.exitListener) process.removeListener('exit', this.exitListener);
    const written = this.flush();
    this.closed = true;
    return written;
  }

  /** How many (second, dimension set) buckets are waiting to be written. */
  get pendingBuckets(): number {
    return this.buckets.size;
  }

  private background(action: () => unknown): void {
    try {
      action();
    } catch (error) {
      this.onError(error);
    }
  }

  private write(select: (bucket: Bucket) => boolean): number {
    const due = [...this.buckets.entries()].filter(([, bucket]) => select(bucket)).sort(([, a], [, b]) => a.second - b.second);
    let written = 0;
    for (const [key, bucket] of due) {
      // Removed before the sink runs: a sink that throws loses this bucket rather than writing it twice later.
      this.buckets.delete(key);
      for (const document of renderEmfDocuments({
        namespace: this.namespace,
        timestamp: bucket.second * 1000,
        dimensions: bucket.dimensions,
        counts: [...bucket.counts].map(([name, value]) => ({ name, unit: this.specs.get(name)!.unit, value })),
        samples: [...bucket.samples].map(([name, values]) => ({ name, unit: this.specs.get(name)!.unit, values })),
        storageResolution: this.storageResolution,
        maxEventBytes: this.maxEventBytes,
      })) {
        this.sink(document);
        written++;
      }
    }
    return written;
  }

  private bucketFor(name: string, kind: MetricKind, unit: EmfUnit, dimensions: EmfDimensions): Bucket {
    if (this.closed) throw new EmfValidationError(`EmfWriter: record of ${JSON.stringify(name)} after close()`);
    const spec = this.specs.get(name);
    if (!spec) {
      checkMetricName(name);
      if (!EMF_UNITS.includes(unit)) throw new EmfValidationError(`EmfWriter metric ${JSON.stringify(name)}: unit ${JSON.stringify(unit)} is not a CloudWatch unit; allowed: ${EMF_UNITS.join(', ')} [EMF spec: MetricDefinition object]`);
      if (this.dimensionNames.has(name)) throw new EmfValidationError(`EmfWriter metric ${JSON.stringify(name)}: the name is also a dimension; a root member is either a metric or a dimension [EMF spec: Target members]`);
      this.specs.set(name, { kind, unit });
    } else if (spec.kind !== kind || spec.unit !== unit) {
      throw new EmfValidationError(`EmfWriter metric ${JSON.stringify(name)}: recorded as ${kind} in ${unit}, but it was first recorded as ${spec.kind} in ${spec.unit}; one metric name has one kind and one unit`);
    }
    const merged = Object.keys(dimensions).length === 0 ? this.defaultDimensions : { ...this.defaultDimensions, ...dimensions };
    const dimensionKey = this.dimensionKey(merged);
    const second = Math.floor(this.clock() / 1000);
    const key = `${second}|${dimensionKey}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { second, dimensions: merged, counts: new Map(), samples: new Map() };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** A stable key for a dimension set (names sorted); validates a set the first time it is seen. */
  private dimensionKey(dimensions: EmfDimensions): string {
    const raw = JSON.stringify(dimensions);
    let key = this.dimensionKeyCache.get(raw);
    if (key === undefined) {
      checkDimensions(dimensions, 'dimensions');
      for (const dimension of Object.keys(dimensions)) {
        if (this.specs.has(dimension)) throw new EmfValidationError(`EmfWriter dimension ${JSON.stringify(dimension)}: the name is also a metric; a root member is either a metric or a dimension [EMF spec: Target members]`);
        this.dimensionNames.add(dimension);
      }
      key = JSON.stringify(Object.keys(dimensions).sort().map((name) => [name, dimensions[name]]));
      // Bounded: dimension sets are low-cardinality by design (each one is a billed metric); the cache only saves
      // re-validating them, so it is simply dropped when an application misuses dimensions.
      if (this.dimensionKeyCache.size >= 10_000) this.dimensionKeyCache.clear();
      this.dimensionKeyCache.set(raw, key);
    }
    return key;
  }
}

function stdoutSink(document: string): void {
  process.stdout.write(`${document}\n`);
}

export interface EmfBucket {
  readonly namespace: string;
  /** Milliseconds since the epoch [EMF spec: Metadata object — Timestamp]. */
  readonly timestamp: number;
  readonly dimensions: EmfDimensions;
  readonly counts: readonly { readonly name: string; readonly unit: EmfUnit; readonly value: number }[];
  readonly samples: readonly { readonly name: string; readonly unit: EmfUnit; readonly values: readonly number[] }[];
  readonly storageResolution: EmfStorageResolution;
  readonly maxEventBytes?: number;
}

/**
 * Renders one bucket as the fewest EMF documents the limits allow: all counts and the first 100 values of each
 * sample in the first document, more documents only for metrics beyond 100 [EMF spec: MetricDirective object], for
 * values beyond 100 per metric [EMF spec: Target members], or to stay under maxEventBytes [EMF spec: 256 KB]. Every
 * document carries the same timestamp and dimensions; CloudWatch aggregates them into the same data point.
 */
export function renderEmfDocuments(bucket: EmfBucket): string[] {
  const maxBytes = bucket.maxEventBytes ?? EMF_MAX_EVENT_BYTES;
  const dimensionNames = Object.keys(bucket.dimensions).sort();
  const highResolution = bucket.storageResolution === 1;

  // The pieces to place: each count whole, each sample in slices of at most 100 values.
  interface Piece { readonly name: string; readonly unit: EmfUnit; value: number | number[] }
  const pending: Piece[] = [
    ...bucket.counts.map((c) => ({ name: c.name, unit: c.unit, value: c.value })),
    ...bucket.samples.flatMap((s) => chunks(s.values, EMF_MAX_VALUES_PER_METRIC).map((values) => ({ name: s.name, unit: s.unit, value: values }))),
  ];

  const documents: string[] = [];
  while (pending.length > 0) {
    const members: Record<string, number | number[]> = {};
    const definitions: { Name: string; Unit: EmfUnit; StorageResolution?: 1 }[] = [];
    const build = (): string => JSON.stringify({
      // [EMF spec: Root node] the metadata object; [Metadata object] Timestamp and CloudWatchMetrics.
      _aws: {
        Timestamp: bucket.timestamp,
        CloudWatchMetrics: [{
          Namespace: bucket.namespace,
          // [EMF spec: DimensionSet array] an array of dimension-name arrays; one set: the bucket's dimensions.
          Dimensions: [dimensionNames],
          Metrics: definitions,
        }],
      },
      // [EMF spec: DimensionSet array] each dimension name is a root member with a string value.
      ...bucket.dimensions,
      // [EMF spec: Target members] each metric name is a root member: a number or an array of numbers.
      ...members,
    });
    let size = Buffer.byteLength(build());
    if (size > maxBytes) throw new EmfValidationError(`EMF document without metrics is ${size} bytes, over maxEventBytes ${maxBytes}: fewer or shorter dimensions`);
    for (let i = 0; i < pending.length && definitions.length < EMF_MAX_METRICS_PER_DIRECTIVE;) {
      const piece = pending[i];
      if (piece.name in members) {
        i++; // another slice of a metric already in this document: next document
        continue;
      }
      const definition = { Name: piece.name, Unit: piece.unit, ...(highResolution ? { StorageResolution: 1 as const } : {}) };
      const added = (value: number | number[]) => Buffer.byteLength(`,${JSON.stringify(definition)},${JSON.stringify(piece.name)}:${JSON.stringify(value)}`);
      if (size + added(piece.value) <= maxBytes) {
        members[piece.name] = piece.value;
        definitions.push(definition);
        size += added(piece.value);
        pending.splice(i, 1);
        continue;
      }
      if (Array.isArray(piece.value) && piece.value.length > 1) {
        // Place the longest prefix of the values that fits; the rest stays pending for the next document.
        let fit = 0;
        for (let lo = 1, hi = piece.value.length - 1; lo <= hi;) {
          const mid = (lo + hi) >> 1;
          if (size + added(piece.value.slice(0, mid)) <= maxBytes) {
            fit = mid;
            lo = mid + 1;
          } else {
            hi = mid - 1;
          }
        }
        if (fit > 0) {
          const head = piece.value.slice(0, fit);
          members[piece.name] = head;
          definitions.push(definition);
          piece.value = piece.value.slice(fit);
        }
      }
      break; // this document is full
    }
    if (definitions.length === 0) throw new EmfValidationError(`EMF metric ${JSON.stringify(pending[0].name)} does not fit in maxEventBytes ${maxBytes}`);
    documents.push(build());
  }
  return documents;
}

function chunks(values: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

function checkNamespace(namespace: string): string {
  // [EMF spec: JSON schema] Namespace: a string of 1 to 255 characters; CloudWatch API reference, Metric.Namespace:
  // pattern [^:].* (no leading colon).
  if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255 || namespace.startsWith(':') || !/^[\x20-\x7E]+$/.test(namespace)) {
    throw new EmfValidationError(`EmfWriter namespace: got ${JSON.stringify(namespace)}; allowed: 1 to 255 printable ASCII characters, not starting with ':' [EMF spec: MetricDirective object]`);
  }
  return namespace;
}

function checkMetricName(name: string): void {
  // [EMF spec: JSON schema] MetricName: 1 to 255 characters. '_aws' is the metadata member [Root node].
  if (typeof name !== 'string' || name.length < 1 || name.length > 255 || name === '_aws') {
    throw new EmfValidationError(`EmfWriter metric name: got ${JSON.stringify(name)}; allowed: 1 to 255 characters, not "_aws" [EMF spec: MetricDefinition object]`);
  }
}

function checkDimensions(dimensions: EmfDimensions, field: string): EmfDimensions {
  const names = Object.keys(dimensions);
  if (names.length > EMF_MAX_DIMENSIONS) {
    throw new EmfValidationError(`EmfWriter ${field}: ${names.length} dimensions (${names.join(', ')}); allowed: at most ${EMF_MAX_DIMENSIONS} [EMF spec: DimensionSet array]`);
  }
  for (const name of names) {
    const value = dimensions[name];
    // [EMF spec: JSON schema] DimensionReference: 1 to 255 characters. CloudWatch API reference, Dimension: names
    // and values are ASCII with at least one non-whitespace character, a name does not start with ':', a value
    // has at most 1024 characters. [DimensionSet array] the target member MUST have a string value.
    if (name.length < 1 || name.length > 255 || name.startsWith(':') || name === '_aws' || !/^[\x20-\x7E]*\S[\x20-\x7E]*$/.test(name)) {
      throw new EmfValidationError(`EmfWriter ${field}: dimension name ${JSON.stringify(name)}; allowed: 1 to 255 printable ASCII characters with a non-space, not starting with ':', not "_aws" [EMF spec: DimensionSet array]`);
    }
    if (typeof value !== 'string' || value.length < 1 || value.length > 1024 || !/^[\x20-\x7E]*\S[\x20-\x7E]*$/.test(value)) {
      throw new EmfValidationError(`EmfWriter ${field}: dimension ${name} = ${JSON.stringify(value)}; allowed: a string of 1 to 1024 printable ASCII characters with a non-space [EMF spec: DimensionSet array]`);
    }
  }
  return dimensions;
}
