import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONFIG_ENV, HANDLER_METADATA_KEY } from '../../lambda/shared/contracts';
import { acknowledge } from './nag';

export { HANDLER_METADATA_KEY };

/** Runtime of every handler: the newest Node.js that Lambda offers. */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

let packageRoot: string | undefined;

/**
 * The folder of the constructs package's package.json (where assets/ is): found by walking up from this file (works
 * from lib/ and dist/lib/), else resolved as the installed `cdk-zero-downtime` (this file compiled into the tools
 * package, cdk-zero-downtime-tools, whose peer it is).
 */
export function findPackageRoot(): string {
  if (packageRoot) return packageRoot;
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, 'utf8')).name === 'cdk-zero-downtime') {
      packageRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  try {
    packageRoot = dirname(require.resolve('cdk-zero-downtime/package.json', { paths: [__dirname] }));
    return packageRoot;
  } catch {
    throw new Error(`cdk-zero-downtime: cannot find the package root above ${__dirname}, nor an installed cdk-zero-downtime package`);
  }
}

/** The pre-bundled asset of a handler (lambda/**\/<name>-handler.ts -> assets/<name>). */
export function handlerCode(name: string): lambda.Code {
  const dir = join(findPackageRoot(), 'assets', name);
  if (!existsSync(join(dir, 'index.js'))) {
    throw new Error(`cdk-zero-downtime: the handler bundle assets/${name}/index.js is missing. Run "npm run build" (or "npm run bundle") in the cdk-zero-downtime package.`);
  }
  return lambda.Code.fromAsset(dir);
}

export interface HandlerFunctionProps {
  /** Asset name of the handler (see handlerCode). */
  readonly handler: string;
  readonly description: string;
  /** Rendered into ZDT_CONFIG as JSON (tokens allowed). */
  readonly config: unknown;
  /**
   * The owner's props that make the config grow, and what to do when it outgrows Lambda's environment, for the
   * synth error (e.g. "migration: ... pass it in the execution input instead").
   * @default - the handler's name
   */
  readonly configGrowsWith?: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  readonly vpc?: import('aws-cdk-lib/aws-ec2').IVpc;
  readonly vpcSubnets?: import('aws-cdk-lib/aws-ec2').SubnetSelection;
  readonly securityGroups?: import('aws-cdk-lib/aws-ec2').ISecurityGroup[];
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Trust Amazon's certificate authorities (RDS's among them), for a handler that verifies a database's certificate
   * (DatabaseTls.VERIFY_FULL). @default false
   */
  readonly trustAmazonCertificates?: boolean;
}

/**
 * Lambda's Node.js 20 and later runtimes no longer load Amazon-specific CA certificates at start (it slowed every cold
 * start); they ship them in this file, which NODE_EXTRA_CA_CERTS loads (AWS Compute Blog, "Node.js 20.x runtime now
 * available in AWS Lambda", November 2023: "Amazon-specific CA certificates"). Set only where a certificate is
 * verified against them.
 */
const AMAZON_CA_CERTIFICATES = { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' };

/**
 * A Lambda function running one of the library's pre-bundled handlers, with its own role
 * (no managed policies), its own log group with a retention, and X-Ray tracing.
 */
export class HandlerFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the cdk-zero-downtime ${props.handler} handler`,
    });
    super(scope, id, {
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      code: handlerCode(props.handler),
      handler: 'index.handler',
      description: props.description,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      environment: {
        [CONFIG_ENV]: Stack.of(scope).toJsonString(props.config),
        ...(props.trustAmazonCertificates ? AMAZON_CA_CERTIFICATES : {}),
      },
    });
    logGroup.grantWrite(role);
    if (props.vpc) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        // The EC2 actions of AWSLambdaVPCAccessExecutionRole (Lambda Developer Guide, "Giving Lambda functions
        // access to resources in an Amazon VPC": execution role permissions), none with resource-level permissions.
        actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: ['*'],
      }));
    }
    (this.node.defaultChild as lambda.CfnFunction).addMetadata(HANDLER_METADATA_KEY, props.handler);
    // On the owner, so the message carries the construct path the user wrote; lazy configs (the judge's alarms
    // added with addAlarm) are measured once complete.
    scope.node.addValidation({ validate: () => environmentSizeProblems(this, props) });
    acknowledge(role, 'AwsSolutions-IAM5[Resource::*]',
      `X-Ray PutTraceSegments/PutTelemetryRecords and ELB/CloudWatch Describe*, GetMetricData${props.vpc ? ', and the EC2 network-interface actions of a Lambda in a VPC,' : ''} have no resource-level permissions; every other action is scoped to named resources`);
  }
}

/**
 * Lambda allows 4 KB for all of a function's environment variables together, names and values (Lambda Developer
 * Guide, "Lambda quotas": environment variables). Counted here for ZDT_CONFIG and NODE_EXTRA_CA_CERTS, the variables the
 * library sets.
 */
export const MAX_ENVIRONMENT_BYTES = 4096;
/**
 * What a value known only at deploy time (Ref, Fn::GetAtt, Fn::ImportValue...) is counted as: an ALB listener rule
 * ARN, among the longest the configs hold, is about 150 characters; alarm and table names are shorter.
 */
export const DEPLOY_TIME_VALUE_BYTES = 150;

/** The size of ZDT_CONFIG once deployed: its literal text, plus DEPLOY_TIME_VALUE_BYTES per deploy-time value. */
export function estimatedConfigBytes(scope: Construct, config: unknown): number {
  const stack = Stack.of(scope);
  const rendered = stack.resolve(stack.toJsonString(config));
  const measure = (value: unknown): number => {
    if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
    if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
    const join = (value as Record<string, unknown>)?.['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) return join[1].reduce<number>((n, part) => n + measure(part), 0) + Buffer.byteLength(join[0]) * Math.max(0, join[1].length - 1);
    return DEPLOY_TIME_VALUE_BYTES;
  };
  return measure(rendered);
}

function environmentSizeProblems(fn: HandlerFunction, props: HandlerFunctionProps): string[] {
  const others = props.trustAmazonCertificates ? Object.entries(AMAZON_CA_CERTIFICATES).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0) : 0;
  const bytes = Buffer.byteLength(CONFIG_ENV) + estimatedConfigBytes(fn, props.config) + others;
  if (bytes <= MAX_ENVIRONMENT_BYTES) return [];
  return [`${props.configGrowsWith ?? `the ${props.handler} handler's configuration`}: the ${props.handler} handler's environment (${CONFIG_ENV}) `
    + `would be about ${bytes} bytes once deployed (each value known only at deploy time counted as ${DEPLOY_TIME_VALUE_BYTES}); `
    + `Lambda allows ${MAX_ENVIRONMENT_BYTES} bytes for all environment variables together`];
}
