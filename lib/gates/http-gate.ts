import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { HttpGateConfig } from '../../lambda/gates/gate-contract';
import { loadBalancerGateFunction, loadBalancerGateRequests } from '../private/gate-network';
import { gateFunctionTimeout } from '../private/gate-timeouts';
import { PropChecks } from '../private/validation';
import { LoadBalancerGateProps } from './load-balancer-gate-props';
import { IValidationGate, ValidationGateBinding, ValidationGateContext } from './validation-gate-binding';

/** Options of ValidationGate.http. */
export interface HttpGateProps extends LoadBalancerGateProps {
  /**
   * An endpoint passes when it answers within this (time to the last byte of the answer).
   * @default Duration.seconds(1)
   */
  readonly maxLatency?: Duration;
  /**
   * An endpoint passes when its status is below this.
   * @default 400
   */
  readonly maxStatusExclusive?: number;
  /**
   * Tries per endpoint: it passes on its first good try and fails when every try failed (a target's first request
   * after a deploy may be slow). 1 to 10.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Wait between two tries of one endpoint.
   * @default Duration.seconds(2)
   */
  readonly retryDelay?: Duration;
  /**
   * A try without an answer after this has failed.
   * @default Duration.seconds(5)
   */
  readonly requestTimeout?: Duration;
  /**
   * Name of the gate in the rollback's cause.
   * @default 'HTTP check'
   */
  readonly name?: string;
}

const DEFAULTS = {
  maxLatency: Duration.seconds(1),
  maxStatusExclusive: 400,
  attempts: 3,
  retryDelay: Duration.seconds(2),
  requestTimeout: Duration.seconds(5),
  name: 'HTTP check',
};
/**
 * The HTTP gate (ValidationGate.http): a Lambda function in the VPC calls each endpoint on the load balancer with the
 * test route's header, so that only the new color answers; every endpoint must answer with a status below 400 within
 * `maxLatency`. The rollback's cause names the endpoint, the color, the status or latency seen and the limit.
 */
export class HttpGate implements IValidationGate {
  public readonly name: string;

  constructor(private readonly props: HttpGateProps) {
    this.name = props.name ?? DEFAULTS.name;
  }

  public bind(scope: Construct, context: ValidationGateContext): ValidationGateBinding {
    const props = this.props;
    const requests = loadBalancerGateRequests(scope, this.name, props, context);
    const checks = new PropChecks(scope)
      .number('attempts', props.attempts, 1, 10)
      .number('maxStatusExclusive', props.maxStatusExclusive, 200, 600)
      .duration('maxLatency', props.maxLatency, Duration.millis(1), Duration.minutes(1))
      .duration('requestTimeout', props.requestTimeout, Duration.millis(100), Duration.minutes(5))
      .duration('retryDelay', props.retryDelay, Duration.millis(0), Duration.minutes(5));
    const attempts = props.attempts ?? DEFAULTS.attempts;
    const requestTimeout = props.requestTimeout ?? DEFAULTS.requestTimeout;
    const retryDelay = props.retryDelay ?? DEFAULTS.retryDelay;
    const endpoints = props.endpoints.length;
    const timeout = gateFunctionTimeout(checks, this.name, { tries: endpoints * attempts, tryTimeout: requestTimeout, waits: endpoints * (attempts - 1), wait: retryDelay }, context);
    const config: HttpGateConfig = {
      name: this.name,
      baseUrl: requests.baseUrl,
      endpoints: props.endpoints.map((path) => ({ path, method: requests.method })),
      maxStatusExclusive: props.maxStatusExclusive ?? DEFAULTS.maxStatusExclusive,
      maxLatencyMs: (props.maxLatency ?? DEFAULTS.maxLatency).toMilliseconds(),
      requestTimeoutMs: requestTimeout.toMilliseconds(),
      attempts,
      retryDelayMs: retryDelay.toMilliseconds(),
    };
    const fn = loadBalancerGateFunction(scope, this.name, props, context, requests, {
      handler: 'http-gate',
      description: `cdk-zero-downtime: ${this.name} of ${context.serviceName} (${props.endpoints.length} endpoints through the test route)`,
      config,
      timeout,
    });
    return { hook: fn };
  }
}
