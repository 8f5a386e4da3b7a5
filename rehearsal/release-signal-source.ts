/**
 * The application's release signal in the rehearsal: what `ReleaseMetrics` (lambda/metrics/release-metrics.ts) in
 * each color's service would write as EMF log lines, and CloudWatch Logs would extract into the custom metrics
 * Requests, Errors5xx and Latency (dimensions Service and Color, one-second storage resolution). The numbers are the
 * traffic model's (the same requests, 5xx and latencies the simulated ALB reports for that color's target group), so
 * the high-resolution alarms and the ALB metrics see one service; only the delay before CloudWatch has them differs.
 *
 * The delay, from the end of a period to its datapoint in CloudWatch (RELEASE_SIGNAL_INGESTION_DELAY_SECONDS):
 * - up to 1 s in the application: EmfWriter writes a second once it is over, on a 1-second timer (lambda/metrics/emf.ts);
 * - up to 5 s in the awslogs log driver of ECS/Fargate, which sends its buffer to CloudWatch Logs every 5 seconds
 *   (moby daemon/logger/awslogs/cloudwatchlogs.go: batchPublishFrequency = 5 * time.Second; Fargate's
 *   shim-loggers-for-containerd uses that driver). AWS recommends exactly that bound for high-resolution EMF metrics:
 *   "we recommended that you flush logs to CloudWatch Logs at an interval of 5 seconds or less to avoid introducing an
 *   additional delay, which can cause alarming on partial or missing data" (CloudWatch User Guide, "Setting alarms on
 *   metrics created with the embedded metric format"; the CloudWatch agent's force_flush_interval defaults to 5 s);
 * - CloudWatch Logs' extraction of the metrics from the event: the same page says only that "CloudWatch Logs needs to
 *   process logs so they can be transformed into metrics", and the EMF specification promises delivery, not a time
 *   ("Embedded metric format ensures at least one time delivery of metrics extracted from log events, while duplicate
 *   metric values may occasionally occur": User Guide, "Specification: Embedded metric format"). AWS documents no
 *   latency for it: assumed 5 s.
 * The judge reads the signal's periods that ended `highResolutionSignal.metricDelay` (20 s by default) ago, above this.
 * The rehearsal also states an assumption for the alarm's side (rehearsal/simulation-alarm-events.ts).
 */
import { DEFAULT_RELEASE_SIGNAL_NAMESPACE, RELEASE_SIGNAL_DIMENSIONS, RELEASE_SIGNAL_ENV, RELEASE_SIGNAL_METRICS } from '../lambda/metrics/release-signal-contract';
import type { Color } from '../lambda/shared/contracts';
import type { StackTemplate } from './deployer';
import { arnResourceSuffix, MetricQuery, MetricSource } from './fakes';
import { ALB_NAMESPACE } from './traffic-model';

/** EmfWriter's flush (1 s) + the awslogs driver's batch (5 s) + CloudWatch Logs' extraction (assumed 5 s). */
export const RELEASE_SIGNAL_INGESTION_DELAY_SECONDS = 1 + 5 + 5;
const MS_PER_SECOND = 1000;

/** What the color stacks told the application (its ZDT_RELEASE_* environment), or undefined when they did not. */
export interface ReleaseSignalEnvironment {
  readonly service: string;
  readonly namespace: string;
}

/**
 * The service and namespace the applications of the deployed stacks emit under: the ZDT_RELEASE_* variables of their
 * ECS container definitions or Lambda functions (BlueGreenStacks sets them), or undefined when no compute has them.
 */
export function releaseSignalEnvironmentOf(stacks: readonly StackTemplate[]): ReleaseSignalEnvironment | undefined {
  for (const stack of stacks) {
    const resources = (stack.template as { Resources?: Record<string, { Type: string; Properties?: any }> }).Resources ?? {};
    for (const resource of Object.values(resources)) {
      const envs: Array<Record<string, unknown>> = [];
      if (resource.Type === 'AWS::ECS::TaskDefinition') {
        for (const container of resource.Properties?.ContainerDefinitions ?? []) {
          envs.push(Object.fromEntries((container.Environment ?? []).map((e: { Name: string; Value: unknown }) => [e.Name, e.Value])));
        }
      } else if (resource.Type === 'AWS::Lambda::Function') {
        envs.push(resource.Properties?.Environment?.Variables ?? {});
      }
      for (const env of envs) {
        const service = env[RELEASE_SIGNAL_ENV.SERVICE];
        if (typeof service === 'string' && typeof env[RELEASE_SIGNAL_ENV.COLOR] === 'string') {
          const namespace = env[RELEASE_SIGNAL_ENV.NAMESPACE];
          return { service, namespace: typeof namespace === 'string' ? namespace : DEFAULT_RELEASE_SIGNAL_NAMESPACE };
        }
      }
    }
  }
  return undefined;
}

export interface ReleaseSignalSourceOptions extends ReleaseSignalEnvironment {
  /** The ALB metrics of the simulated service (the traffic model). */
  readonly alb: MetricSource;
  readonly loadBalancerArn: string;
  readonly targetGroupArns: Readonly<Record<Color, string>>;
}

/** The release signal as CloudWatch would hold it: a MetricSource of the application's namespace. */
export class ReleaseSignalSource implements MetricSource {
  private readonly lb: string;
  private readonly tgs: Record<Color, string>;

  constructor(private readonly options: ReleaseSignalSourceOptions) {
    this.lb = arnResourceSuffix(options.loadBalancerArn);
    this.tgs = { blue: arnResourceSuffix(options.targetGroupArns.blue), green: arnResourceSuffix(options.targetGroupArns.green) };
  }

  value(query: MetricQuery): number | null {
    if (query.namespace !== this.options.namespace) return null;
    const dims = query.dimensions;
    if (Object.keys(dims).sort().join(',') !== [RELEASE_SIGNAL_DIMENSIONS.COLOR, RELEASE_SIGNAL_DIMENSIONS.SERVICE].join(',')) return null;
    if (dims[RELEASE_SIGNAL_DIMENSIONS.SERVICE] !== this.options.service) return null;
    const color = dims[RELEASE_SIGNAL_DIMENSIONS.COLOR] as Color;
    if (color !== 'blue' && color !== 'green') return null;
    const alb = (metricName: string, statistic: string) => this.options.alb.value({
      namespace: ALB_NAMESPACE, metricName, statistic, dimensions: { LoadBalancer: this.lb, TargetGroup: this.tgs[color] },
      periodStart: query.periodStart, periodSeconds: query.periodSeconds,
    });
    // A second without requests has no EMF document: no datapoint at all.
    const requests = alb('RequestCount', 'Sum');
    if (requests === null) return null;
    switch (query.metricName) {
      case RELEASE_SIGNAL_METRICS.REQUESTS:
        return query.statistic === 'Sum' || query.statistic === 'SampleCount' ? requests : null;
      case RELEASE_SIGNAL_METRICS.ERRORS:
        // ReleaseMetrics writes Errors5xx 0 in a second without 5xx.
        return query.statistic === 'Sum' ? alb('HTTPCode_Target_5XX_Count', 'Sum') ?? 0 : query.statistic === 'SampleCount' ? requests : null;
      case RELEASE_SIGNAL_METRICS.LATENCY: {
        const value = alb('TargetResponseTime', query.statistic);
        if (value === null) return null;
        return query.statistic === 'SampleCount' ? value : value * MS_PER_SECOND;
      }
      default:
        return null;
    }
  }
}
