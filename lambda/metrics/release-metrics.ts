/**
 * The per-color release signal an application records for every request it answers: requests, 5xx and latency,
 * with the dimensions Service and Color, at one-second storage resolution, written as EMF log lines (emf.ts: no AWS
 * API call per request). ProgressiveRollout's high-resolution alarms read it (10-second periods), so a release that
 * fails is seen in seconds instead of the minutes ALB metrics take.
 *
 *   const metrics = ReleaseMetrics.fromEnvironment();      // ZDT_RELEASE_SERVICE / _COLOR / _NAMESPACE
 *   server.on('request', (req, res) => metrics.observe(res));
 *
 * The color stacks of BlueGreenStacks set the environment variables on the services they create; without them
 * (a local run, a service outside a color stack) `fromEnvironment()` returns a recorder that records nothing, and
 * the rollout is judged on ALB metrics alone.
 */
import { EmfSink, EmfWriter } from './emf';
import { DEFAULT_RELEASE_SIGNAL_NAMESPACE, RELEASE_SIGNAL_DIMENSIONS, RELEASE_SIGNAL_ENV, RELEASE_SIGNAL_METRICS } from './release-signal-contract';

export { DEFAULT_RELEASE_SIGNAL_NAMESPACE, RELEASE_SIGNAL_DIMENSIONS, RELEASE_SIGNAL_ENV, RELEASE_SIGNAL_METRICS } from './release-signal-contract';

const COLORS = ['blue', 'green'];
const HTTP_SERVER_ERROR = 500;

export interface ReleaseMetricsOptions {
  /** The rollout's service name (the Service dimension). */
  readonly service: string;
  /** "blue" or "green" (the Color dimension). */
  readonly color: string;
  /** @default DEFAULT_RELEASE_SIGNAL_NAMESPACE */
  readonly namespace?: string;
  /** Where the EMF documents go. @default one line each on process.stdout */
  readonly sink?: EmfSink;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default 1000 (ms) */
  readonly flushIntervalMs?: number;
  /** @default true */
  readonly flushOnExit?: boolean;
}

/** The end of a response, as node:http's ServerResponse (and Express's, Fastify's raw one) offers it. */
export interface ObservableResponse {
  readonly statusCode: number;
  once(event: 'finish', listener: () => void): unknown;
}

/** Records the release signal of one service and color. */
export class ReleaseMetrics {
  /**
   * A recorder for the service and color the color stack set in the environment (RELEASE_SIGNAL_ENV), or one that
   * records nothing when they are absent (`enabled` false). A color other than blue or green throws: the alarms
   * would never see its data.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env, options: Omit<ReleaseMetricsOptions, 'service' | 'color' | 'namespace'> = {}): ReleaseMetrics {
    const service = env[RELEASE_SIGNAL_ENV.SERVICE];
    const color = env[RELEASE_SIGNAL_ENV.COLOR];
    if (!service || !color) return new ReleaseMetrics(undefined);
    return new ReleaseMetrics({ ...options, service, color, namespace: env[RELEASE_SIGNAL_ENV.NAMESPACE] || undefined });
  }

  /** The dimensions every record carries (empty when disabled). */
  readonly dimensions: Readonly<Record<string, string>>;
  private readonly writer: EmfWriter | undefined;

  constructor(options: ReleaseMetricsOptions | undefined) {
    if (options && !COLORS.includes(options.color)) {
      throw new Error(`ReleaseMetrics color: got ${JSON.stringify(options.color)}; allowed: "blue" or "green" (${RELEASE_SIGNAL_ENV.COLOR}, set by the color stack)`);
    }
    this.dimensions = options ? { [RELEASE_SIGNAL_DIMENSIONS.SERVICE]: options.service, [RELEASE_SIGNAL_DIMENSIONS.COLOR]: options.color } : {};
    this.writer = options && new EmfWriter({
      namespace: options.namespace ?? DEFAULT_RELEASE_SIGNAL_NAMESPACE,
      storageResolution: 1,
      defaultDimensions: this.dimensions,
      sink: options.sink,
      clock: options.clock,
      flushIntervalMs: options.flushIntervalMs,
      flushOnExit: options.flushOnExit,
    });
  }

  /** False when the environment named no service and color: records are dropped. */
  get enabled(): boolean {
    return this.writer !== undefined;
  }

  /** Records one answered request: its HTTP status and how long it took, in milliseconds. */
  record(statusCode: number, latencyMs: number): void {
    if (!this.writer) return;
    this.writer.count(RELEASE_SIGNAL_METRICS.REQUESTS, 1);
    // Written as 0 too: every second with requests has an error count, so the alarm's rate is never missing.
    this.writer.count(RELEASE_SIGNAL_METRICS.ERRORS, statusCode >= HTTP_SERVER_ERROR ? 1 : 0);
    this.writer.sample(RELEASE_SIGNAL_METRICS.LATENCY, Math.max(0, latencyMs));
  }

  /** Records `response` when it finishes (status and time since this call). */
  observe(response: ObservableResponse, startedAtMs: number = performance.now()): void {
    if (!this.writer) return;
    response.once('finish', () => this.record(response.statusCode, performance.now() - startedAtMs));
  }

  /** Writes what is held now (e.g. in a SIGTERM handler, before the process exits). */
  flush(): number {
    return this.writer?.flush() ?? 0;
  }

  /** Stops the timer and writes what is held. */
  close(): number {
    return this.writer?.close() ?? 0;
  }
}
