import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { LoadBalancerGateProps } from '../gates/load-balancer-gate-props';
import type { ValidationGateContext } from '../gates/validation-gate-binding';
import { IBlueGreenRouting } from '../routing/blue-green-routing';
import { HandlerFunction } from './handler-function';
import { propError } from './validation';

/** HTTPS listeners are usually on 443; anything else is taken as HTTP. */
const HTTPS_PORT = 443;
const HTTP_PORT = 80;

/** The VPC a gate function runs in: the one given, else the load balancer's. */
export function gateVpc(scope: Construct, vpc: ec2.IVpc | undefined, routing: IBlueGreenRouting): ec2.IVpc {
  const found = vpc ?? routing.loadBalancer.vpc;
  if (!found) throw propError(scope, 'vpc is not set and the load balancer carries no VPC (an imported load balancer): pass vpc, the VPC the gate runs in');
  return found;
}

/** The listener's port, when its connections know it. */
function listenerPort(routing: IBlueGreenRouting): number | undefined {
  const port = routing.listener.connections.defaultPort;
  if (!port) return undefined;
  const from = port.toRuleJson().fromPort as number | undefined;
  return from === undefined || Token.isUnresolved(from) ? undefined : from;
}

/**
 * Where the gate sends its requests: `baseUrl` when given, else the load balancer's DNS name on the listener's port
 * (https on 443, http otherwise). An HTTPS listener's certificate names your domain, not the load balancer's DNS
 * name: give `baseUrl` with that domain.
 */
export function gateBaseUrl(scope: Construct, baseUrl: string | undefined, routing: IBlueGreenRouting): string {
  if (baseUrl !== undefined) {
    if (!Token.isUnresolved(baseUrl) && !/^https?:\/\/[^/\s]+\/?$/.test(baseUrl)) {
      throw propError(scope, `baseUrl must be "http(s)://host[:port]" without a path (paths go in endpoints), got "${baseUrl}"`);
    }
    return baseUrl;
  }
  const port = listenerPort(routing) ?? HTTP_PORT;
  if (port === HTTPS_PORT) {
    throw propError(scope, 'the listener is on port 443 (HTTPS): its certificate names your domain, not the load balancer, so set baseUrl, e.g. "https://www.example.com"');
  }
  return `http://${routing.loadBalancer.loadBalancerDnsName}${port === HTTP_PORT ? '' : `:${port}`}`;
}

/** Lets the gate function reach the listener (an internal load balancer; an internet-facing one is reached through the NAT). */
export function allowToListener(routing: IBlueGreenRouting, fn: ec2.IConnectable, description: string): void {
  if (routing.listener.connections.defaultPort) routing.listener.connections.allowDefaultPortFrom(fn, description);
}

/** The methods a gate may use: it must change nothing. */
const SAFE_METHOD = /^(GET|HEAD|OPTIONS)$/;
const DEFAULT_METHOD = 'GET';

/** How a load-balancer gate sends its requests, checked. */
export interface LoadBalancerGateRequests {
  readonly method: string;
  readonly baseUrl: string;
  readonly vpc: ec2.IVpc;
}

/**
 * Checks the props shared by the gates that call a color through the test route (endpoints, method, baseUrl, the
 * routing's test route) and says how they send their requests.
 */
export function loadBalancerGateRequests(scope: Construct, gate: string, props: LoadBalancerGateProps, context: ValidationGateContext): LoadBalancerGateRequests {
  const method = (props.method ?? DEFAULT_METHOD).toUpperCase();
  checkEndpoints(scope, props.endpoints);
  if (!SAFE_METHOD.test(method)) throw propError(scope, `method must be GET, HEAD or OPTIONS (a gate must not change anything), got "${props.method}"`);
  if (!context.routing.testRouteHeader) {
    throw propError(scope, `${gate} needs the routing's test route (BlueGreenRouting testRoute is off): it reaches a color only through it, and without it the requests would reach the production color`);
  }
  return { method, baseUrl: gateBaseUrl(scope, props.baseUrl, context.routing), vpc: gateVpc(scope, props.vpc, context.routing) };
}

/** The gate's endpoints as paths starting with "/". */
function checkEndpoints(scope: Construct, endpoints: readonly string[]): void {
  if (endpoints.length === 0) throw propError(scope, 'endpoints must list at least one path, e.g. ["/health"]');
  for (const e of endpoints) {
    if (Token.isUnresolved(e)) continue;
    if (!/^\/[^\s]*$/.test(e)) throw propError(scope, `endpoints must be paths starting with "/" without spaces, got "${e}"`);
  }
}

/** What differs between the functions of the gates that call a color through the test route. */
export interface LoadBalancerGateFunction {
  /** The handler's name (lambda/gates). */
  readonly handler: string;
  readonly description: string;
  readonly config: object;
  readonly timeout: Duration;
}

/**
 * The gate's Lambda function, in the VPC its requests leave from, allowed to reach the listener: the same for every
 * gate that calls a color through the test route (HTTP, performance baseline).
 */
export function loadBalancerGateFunction(scope: Construct, gate: string, props: LoadBalancerGateProps, context: ValidationGateContext,
  requests: LoadBalancerGateRequests, fn: LoadBalancerGateFunction): HandlerFunction {
  const created = new HandlerFunction(scope, 'Function', {
    handler: fn.handler,
    description: fn.description,
    config: fn.config,
    timeout: fn.timeout,
    vpc: requests.vpc,
    vpcSubnets: props.vpcSubnets,
    logRetention: context.logRetention,
  });
  allowToListener(context.routing, created, `cdk-zero-downtime ${gate} of ${context.serviceName}`);
  return created;
}
