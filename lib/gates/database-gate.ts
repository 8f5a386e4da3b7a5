import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DatabaseGateConfig } from '../../lambda/gates/gate-contract';
import type { TlsMode } from '../../lambda/database/migration-contract';
import { DatabaseTls } from '../database/database-tls';
import { gateVpc } from '../private/gate-network';
import { HandlerFunction } from '../private/handler-function';
import { gateFunctionTimeout } from '../private/gate-timeouts';
import { PropChecks, propError } from '../private/validation';
import { IValidationGate, ValidationGateBinding, ValidationGateContext } from './validation-gate-binding';

/** Options of ValidationGate.database. */
export interface DatabaseGateProps {
  /**
   * The database's secret (RDS secret JSON: host, port, username, password, dbname). Give this or `secretName`.
   * @default - the secret named `secretName`
   */
  readonly secret?: secretsmanager.ISecret;
  /**
   * Name of the database's secret, for a secret in a stack deployed after the rollout's (the gate imports it by name).
   * Give this or `secret`.
   * @default - `secret`
   */
  readonly secretName?: string;
  /**
   * Connect and `SELECT 1` must both be done within this.
   * @default Duration.seconds(1)
   */
  readonly timeout?: Duration;
  /**
   * Tries: the gate passes on its first good try. 1 to 10.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Wait between two tries.
   * @default Duration.seconds(2)
   */
  readonly retryDelay?: Duration;
  /**
   * TLS of the connection.
   * @default DatabaseTls.REQUIRE
   */
  readonly tls?: DatabaseTls;
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
   * Security groups of the gate function.
   * @default - a new security group; allow it to the database with `database.connections.allowDefaultPortFrom(gate)`
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Name of the gate in the rollback's cause.
   * @default 'Database check'
   */
  readonly name?: string;
}

const DEFAULTS = { timeout: Duration.seconds(1), attempts: 3, retryDelay: Duration.seconds(2), tls: DatabaseTls.REQUIRE, name: 'Database check' };

/**
 * The database gate (ValidationGate.database): a Lambda function in the VPC reads the database's secret, connects and
 * runs `SELECT 1` within `timeout` (1 second by default). It is an ec2.IConnectable once bound: let it reach the
 * database with `database.connections.allowDefaultPortFrom(gate)`.
 */
export class DatabaseGate implements IValidationGate, ec2.IConnectable {
  public readonly name: string;
  private bound?: HandlerFunction;

  constructor(private readonly props: DatabaseGateProps) {
    this.name = props.name ?? DEFAULTS.name;
  }

  /** The gate function's network connections (after the rollout has bound the gate). */
  public get connections(): ec2.Connections {
    if (!this.bound) throw new Error(`${this.name}: the gate has no function yet; pass it to a ProgressiveRollout (preTrafficGates) before using its connections`);
    return this.bound.connections;
  }

  /** The gate function (after the rollout has bound the gate). */
  public get gateFunction(): lambda.IFunction {
    if (!this.bound) throw new Error(`${this.name}: the gate has no function yet; pass it to a ProgressiveRollout (preTrafficGates) first`);
    return this.bound;
  }

  public bind(scope: Construct, context: ValidationGateContext): ValidationGateBinding {
    const props = this.props;
    if (this.bound) throw propError(scope, `${this.name} is already bound to ${this.bound.node.path}: create one gate per rollout`);
    if ((props.secret === undefined) === (props.secretName === undefined)) {
      throw propError(scope, `${this.name}: give exactly one of secret and secretName, got ${props.secret ? 'both' : 'neither'}`);
    }
    const checks = new PropChecks(scope)
      .duration('timeout', props.timeout, Duration.millis(100), Duration.minutes(1))
      .duration('retryDelay', props.retryDelay, Duration.millis(0), Duration.minutes(5))
      .number('attempts', props.attempts, 1, 10);
    const timeout = props.timeout ?? DEFAULTS.timeout;
    const attempts = props.attempts ?? DEFAULTS.attempts;
    const retryDelay = props.retryDelay ?? DEFAULTS.retryDelay;
    const functionTimeout = gateFunctionTimeout(checks, this.name, { tries: attempts, tryTimeout: timeout, waits: attempts - 1, wait: retryDelay }, context);
    const secret = props.secret ?? secretsmanager.Secret.fromSecretNameV2(scope, 'Secret', props.secretName!);
    const tls = props.tls ?? DEFAULTS.tls;
    const config: DatabaseGateConfig = {
      name: this.name,
      secretArn: secret.secretArn,
      timeoutMs: timeout.toMilliseconds(),
      attempts,
      retryDelayMs: retryDelay.toMilliseconds(),
      tls: tls as string as TlsMode,
    };
    const fn = new HandlerFunction(scope, 'Function', {
      handler: 'database-gate',
      description: `cdk-zero-downtime: ${this.name} of ${context.serviceName} (connect and SELECT 1 within ${timeout.toHumanString()})`,
      config,
      timeout: functionTimeout,
      vpc: gateVpc(scope, props.vpc, context.routing),
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      logRetention: context.logRetention,
      trustAmazonCertificates: tls === DatabaseTls.VERIFY_FULL,
    });
    secret.grantRead(fn);
    this.bound = fn;
    return { hook: fn };
  }
}
