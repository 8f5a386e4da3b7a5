import { DEFAULT_VARIANT_NAMESPACE, VariantDimension, VariantMetric } from '../flag-rollout/flag-rollout-contract';
import { EmfSink, EmfWriter } from '../metrics/emf';
import type { FlagRecorder } from './recorder';

export { DEFAULT_VARIANT_NAMESPACE, VariantDimension, VariantMetric };

export interface VariantMetricsOptions {
  /** The `Service` dimension: GuardedFlagRollout's `serviceName`. */
  readonly service: string;
  /** CloudWatch namespace: GuardedFlagRollout's `metricsNamespace`. @default 'ZdtFlagVariants' */
  readonly namespace?: string;
  /** Only these flags are measured (each flag is one more set of metrics, billed). @default - every flag evaluated */
  readonly flags?: readonly string[];
  /** Where the EMF documents go. @default one line each on process.stdout (Lambda, awslogs, FireLens, the CloudWatch agent) */
  readonly sink?: EmfSink;
  /** Milliseconds since the epoch. @default Date.now */
  readonly clock?: () => number;
  /** Background flush interval, ms (0: call flush yourself, e.g. at the end of a Lambda invocation). @default 1000 */
  readonly flushIntervalMs?: number;
}

/** What happened to one request. */
export interface RequestOutcome {
  /** The request failed (a 5xx, an exception): what the guarded rollout counts as an error. */
  readonly error: boolean;
  /** Time to answer, milliseconds. */
  readonly latencyMs: number;
}

/**
 * The application side of a guarded flag rollout: per request, for each flag evaluated and the variant it served,
 * Requests (count), Errors (count, 0 when it did not fail, so the sum is never missing) and Latency (milliseconds,
 * every sample, for CloudWatch's percentiles), dimensions Service / Flag / Variant: what GuardedFlagRollout judges.
 * Written as CloudWatch Embedded Metric Format through lambda/metrics/emf.ts (aggregated per second, one log line
 * per second and variant): no AWS call per request, no SDK. Standard (60 s) resolution: the rollout reads minutes.
 */
export class VariantMetrics {
  private readonly writer: EmfWriter;
  private readonly service: string;
  private readonly only?: ReadonlySet<string>;

  constructor(options: VariantMetricsOptions) {
    if (typeof options.service !== 'string' || options.service.length === 0) throw new Error('VariantMetrics: service must be a non-empty string (GuardedFlagRollout serviceName)');
    this.service = options.service;
    this.only = options.flags ? new Set(options.flags) : undefined;
    this.writer = new EmfWriter({
      namespace: options.namespace ?? DEFAULT_VARIANT_NAMESPACE,
      storageResolution: 60,
      sink: options.sink,
      clock: options.clock,
      flushIntervalMs: options.flushIntervalMs,
    });
  }

  /** Records one request served by the variants `served` (a FlagRecorder, or flag key -> variant). */
  record(served: FlagRecorder | Readonly<Record<string, string>>, outcome: RequestOutcome): void {
    const variants = isRecorder(served) ? served.served() : served;
    for (const [flag, variant] of Object.entries(variants)) {
      if (this.only && !this.only.has(flag)) continue;
      const dimensions = { [VariantDimension.SERVICE]: this.service, [VariantDimension.FLAG]: flag, [VariantDimension.VARIANT]: variant };
      this.writer.count(VariantMetric.REQUESTS, 1, dimensions);
      this.writer.count(VariantMetric.ERRORS, outcome.error ? 1 : 0, dimensions);
      this.writer.sample(VariantMetric.LATENCY, outcome.latencyMs, dimensions, 'Milliseconds');
    }
  }

  /** Writes everything held (the end of a Lambda invocation). Returns the number of documents written. */
  flush(): number {
    return this.writer.flush();
  }

  /**
   * Stops the timer and writes what is held (in a SIGTERM handler: Node emits no `exit` on a signal, so what the
   * writer holds would be lost otherwise). Further records throw.
   */
  close(): number {
    return this.writer.close();
  }
}

function isRecorder(value: unknown): value is FlagRecorder {
  return typeof (value as FlagRecorder).served === 'function';
}
