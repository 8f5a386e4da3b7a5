import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Options shared by the gates that call the new color through the load balancer's test route
 * (ValidationGate.http, ValidationGate.performanceBaseline).
 */
export interface LoadBalancerGateProps {
  /** Paths the gate calls, in order, starting with "/", e.g. ['/health', '/api/projects']. */
  readonly endpoints: string[];
  /**
   * HTTP method of every request: GET, HEAD or OPTIONS (a gate must change nothing; no body is sent).
   * @default 'GET'
   */
  readonly method?: string;
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
}
