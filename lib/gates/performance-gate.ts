import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PerformanceGateConfig } from '../../lambda/gates/gate-contract';
import { loadBalancerGateFunction, loadBalancerGateRequests } from '../private/gate-network';
import { gateFunctionTimeout } from '../private/gate-timeouts';
import { PropChecks } from '../private/validation';
import { LoadBalancerGateProps } from './load-balancer-gate-props';
import { IValidationGate, ValidationGateBinding, ValidationGateContext } from './validation-gate-binding';

/** Options of ValidationGate.performanceBaseline. */
export interface PerformanceGateProps extends LoadBalancerGateProps {
  /**
   * Requests per endpoint and color (after one uncounted warm-up each), alternating between the colors. 1 to 100.
   * @default 20
   */
  readonly samples?: number;
  /**
   * The latency percentile compared, 1 to 99. The median by default: from 20 samples a high percentile is mostly
   * noise (the p90 of 20 requests is their second slowest), and a regression that matters moves the median too.
   * @default 50
   */
  readonly percentile?: number;
  /**
   * Fail when the new color's percentile exceeds the stable color's times this...
   * @default 1.5
   */
  readonly maxLatencyFactor?: number;
  /**
   * ...and exceeds it by more than this.
   * @default Duration.millis(50)
   */
  readonly minDifference?: Duration;
  /**
   * A request without an answer after this fails the gate.
   * @default Duration.seconds(2)
   */
  readonly requestTimeout?: Duration;
  /**
   * Name of the gate in the rollback's cause.
   * @default 'Performance baseline'
   */
  readonly name?: string;
}

const DEFAULTS = {
  samples: 20, percentile: 50, maxLatencyFactor: 1.5, minDifference: Duration.millis(50), requestTimeout: Duration.seconds(2), name: 'Performance baseline',
};
const COLORS_COMPARED = 2;

/**
 * The performance-baseline gate (ValidationGate.performanceBaseline): a Lambda function in the VPC calls each endpoint
 * on the new color and on the stable color through the test route (the header set to each color), and fails when the
 * new color's latency percentile exceeds the stable one's by the factor and the minimum difference. The cause names
 * the endpoint, both percentiles and the limit.
 */
export class PerformanceGate implements IValidationGate {
  public readonly name: string;

  constructor(private readonly props: PerformanceGateProps) {
    this.name = props.name ?? DEFAULTS.name;
  }

  public bind(scope: Construct, context: ValidationGateContext): ValidationGateBinding {
    const props = this.props;
    const requests = loadBalancerGateRequests(scope, this.name, props, context);
    const checks = new PropChecks(scope)
      .number('samples', props.samples, 1, 100)
      .number('percentile', props.percentile, 1, 99)
      .number('maxLatencyFactor', props.maxLatencyFactor, 1, 100, { integer: false })
      .duration('minDifference', props.minDifference, Duration.millis(0), Duration.minutes(1))
      .duration('requestTimeout', props.requestTimeout, Duration.millis(100), Duration.minutes(1));
    const samples = props.samples ?? DEFAULTS.samples;
    const requestTimeout = props.requestTimeout ?? DEFAULTS.requestTimeout;
    // Each sample and one warm-up per endpoint and color, one after the other, none retried.
    const timeout = gateFunctionTimeout(checks, this.name, { tries: props.endpoints.length * (samples + 1) * COLORS_COMPARED, tryTimeout: requestTimeout }, context);
    const config: PerformanceGateConfig = {
      name: this.name,
      baseUrl: requests.baseUrl,
      endpoints: props.endpoints.map((path) => ({ path, method: requests.method })),
      samples,
      percentile: props.percentile ?? DEFAULTS.percentile,
      maxLatencyFactor: props.maxLatencyFactor ?? DEFAULTS.maxLatencyFactor,
      minDifferenceMs: (props.minDifference ?? DEFAULTS.minDifference).toMilliseconds(),
      requestTimeoutMs: requestTimeout.toMilliseconds(),
      maxStatusExclusive: 400,
    };
    const fn = loadBalancerGateFunction(scope, this.name, props, context, requests, {
      handler: 'performance-gate',
      description: `cdk-zero-downtime: ${this.name} of ${context.serviceName} (new color against the stable one)`,
      config,
      timeout,
    });
    return { hook: fn };
  }
}
