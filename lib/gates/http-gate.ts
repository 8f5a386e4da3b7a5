import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { HttpGateConfig } from '../../lambda/gates/gate-contract';
import { allowToListener, checkEndpoints, gateBaseUrl, gateVpc } from '../private/gate-network';
import { HandlerFunction } from '../private/handler-function';
import { acknowledge } from '../private/nag';
import { checkFitsHook, probeDuration } from '../private/gate-timeouts';
import { PropChecks, propError } from '../private/validation';
import { IValidationGate, ValidationGateBinding, ValidationGateContext } from './validation-gate-binding';

/** Options of ValidationGate.http. */
export interface HttpGateProps {
  /** Paths the gate calls on the new color, in order, e.g. ['/health', '/api/users/me', '/api/projects']. */
  readonly endpoints: string[];
  /**
   * HTTP method of every request (no body is sent).
   * @default 'GET'
   */
  readonly method?: string;
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
   * Scheme, host and port of the requests, e.g. 'https://www.example.com' (needed for an HTTPS listener, whose
   * certificate names your domain). The host must resolve to the load balancer: the test route selects the color.
   * @default - http:// the load balancer's DNS name, on the listener's port
   */
  readonly baseUrl?: string;
  /**
   * VPC of the gate function.
   * @default - the load balancer's VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of the gate function.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Name of the gate in the rollback's cause.
   * @default 'HTTP check'
   */
  readonly name?: string;
}

/** The methods a gate may use: it must change nothing. */
const METHOD = /^(GET|HEAD|OPTIONS)$/;
const DEFAULTS = {
  method: 'GET',
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
    const method = (props.method ?? DEFAULTS.method).toUpperCase();
    checkEndpoints(scope, props.endpoints);
    if (!METHOD.test(method)) throw propError(scope, `method must be GET, HEAD or OPTIONS (a gate must not change anything), got "${props.method}"`);
    if (!context.routing.testRouteHeader) {
      throw propError(scope, `${this.name} needs the routing's test route (BlueGreenRouting testRoute is off): without it the requests would reach the production color`);
    }
    new PropChecks(scope)
      .number('attempts', props.attempts, 1, 10)
      .number('maxStatusExclusive', props.maxStatusExclusive, 200, 600)
      .duration('maxLatency', props.maxLatency, Duration.millis(1), Duration.minutes(1))
      .duration('requestTimeout', props.requestTimeout, Duration.millis(100), Duration.minutes(5))
      .duration('retryDelay', props.retryDelay, Duration.millis(0), Duration.minutes(5));
    const attempts = props.attempts ?? DEFAULTS.attempts;
    const requestTimeout = props.requestTimeout ?? DEFAULTS.requestTimeout;
    const retryDelay = props.retryDelay ?? DEFAULTS.retryDelay;
    const timeout = checkFitsHook(scope, this.name, probeDuration(props.endpoints.length, attempts, requestTimeout, retryDelay), context);
    const config: HttpGateConfig = {
      name: this.name,
      baseUrl: gateBaseUrl(scope, props.baseUrl, context.routing),
      endpoints: props.endpoints.map((path) => ({ path, method })),
      maxStatusExclusive: props.maxStatusExclusive ?? DEFAULTS.maxStatusExclusive,
      maxLatencyMs: (props.maxLatency ?? DEFAULTS.maxLatency).toMilliseconds(),
      requestTimeoutMs: requestTimeout.toMilliseconds(),
      attempts,
      retryDelayMs: retryDelay.toMilliseconds(),
    };
    const fn = new HandlerFunction(scope, 'Function', {
      handler: 'http-gate',
      description: `cdk-zero-downtime: ${this.name} of ${context.serviceName} (${props.endpoints.length} endpoints through the test route)`,
      config,
      timeout,
      vpc: gateVpc(scope, props.vpc, context.routing),
      vpcSubnets: props.vpcSubnets,
      logRetention: context.logRetention,
    });
    allowToListener(context.routing, fn, `cdk-zero-downtime ${this.name} of ${context.serviceName}`);
    acknowledge(fn, 'AwsSolutions-IAM5[Resource::*]', 'A Lambda in a VPC manages its network interfaces; EC2 has no resource-level permissions for them');
    return { hook: fn };
  }
}
