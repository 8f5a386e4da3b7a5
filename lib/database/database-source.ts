import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { DatabaseSourceKind } from './database-source-kind';
import { propError } from '../private/validation';

/** The blue database as BlueGreenDatabase uses it, once bound. */
export interface DatabaseSourceConfig {
  /** A DB instance or a DB cluster. */
  readonly kind: DatabaseSourceKind;
  /** ARN of the DB instance or cluster. */
  readonly arn: string;
  /** Its identifier: the last part of the ARN (a token when the ARN is one). */
  readonly identifier: string;
}

/** arn:<partition>:rds:<region>:<account>:db:<name> or ...:cluster:<name>. */
const RDS_ARN = /^arn:[^:]+:rds:[^:]+:\d{12}:(db|cluster):([A-Za-z][0-9A-Za-z-]*)$/;
const ARN_FORMS = 'arn:<partition>:rds:<region>:<account>:db:<name> or ...:cluster:<name>';

/**
 * The blue database of an RDS Blue/Green switchover: an RDS DB instance or an Aurora DB cluster, given as a
 * construct (of this app, or imported with `rds.DatabaseInstance.fromDatabaseInstanceAttributes()` and the like) or
 * by its ARN. Each factory says which kind it is, so an ARN known only at deploy time needs no further hint.
 */
export abstract class DatabaseSource {
  /** An RDS DB instance. */
  public static fromInstance(instance: rds.IDatabaseInstance): DatabaseSource {
    return new BoundSource(() => ({ kind: DatabaseSourceKind.INSTANCE, arn: instance.instanceArn, identifier: instance.instanceIdentifier }));
  }

  /** An Aurora DB cluster. */
  public static fromCluster(cluster: rds.IDatabaseCluster): DatabaseSource {
    return new BoundSource(() => ({ kind: DatabaseSourceKind.CLUSTER, arn: cluster.clusterArn, identifier: cluster.clusterIdentifier }));
  }

  /** An RDS DB instance by ARN (`arn:<partition>:rds:<region>:<account>:db:<name>`), also one known only at deploy time. */
  public static fromInstanceArn(arn: string): DatabaseSource {
    return new BoundSource((scope) => fromArn(scope, arn, DatabaseSourceKind.INSTANCE));
  }

  /** An Aurora DB cluster by ARN (`arn:<partition>:rds:<region>:<account>:cluster:<name>`), also one known only at deploy time. */
  public static fromClusterArn(arn: string): DatabaseSource {
    return new BoundSource((scope) => fromArn(scope, arn, DatabaseSourceKind.CLUSTER));
  }

  /**
   * A DB instance or cluster by an ARN known at synth time: the kind is read from it (`:db:` or `:cluster:`). For an
   * ARN known only at deploy time (a token), use `fromInstanceArn()` or `fromClusterArn()`.
   */
  public static fromArn(arn: string): DatabaseSource {
    return new BoundSource((scope) => fromArn(scope, arn, undefined));
  }

  /**
   * The source as `scope` (the BlueGreenDatabase) uses it; a bad ARN is an error naming `source` and the scope's path.
   */
  public abstract bind(scope: Construct): DatabaseSourceConfig;
}

class BoundSource extends DatabaseSource {
  constructor(private readonly resolve: (scope: Construct) => DatabaseSourceConfig) {
    super();
  }

  public bind(scope: Construct): DatabaseSourceConfig {
    return this.resolve(scope);
  }
}

function fromArn(scope: Construct, arn: string, expected: DatabaseSourceKind | undefined): DatabaseSourceConfig {
  if (Token.isUnresolved(arn)) {
    if (expected === undefined) {
      throw propError(scope, 'source is an ARN known only at deploy time; give it with DatabaseSource.fromInstanceArn() or DatabaseSource.fromClusterArn()');
    }
    return { kind: expected, arn, identifier: Stack.of(scope).splitArn(arn, ArnFormat.COLON_RESOURCE_NAME).resourceName! };
  }
  const match = RDS_ARN.exec(arn);
  if (!match) throw propError(scope, `source must be an RDS DB instance or cluster ARN (${ARN_FORMS}), got "${arn}"`);
  const kind = match[1] === 'db' ? DatabaseSourceKind.INSTANCE : DatabaseSourceKind.CLUSTER;
  if (expected !== undefined && expected !== kind) {
    const factory = expected === DatabaseSourceKind.INSTANCE ? 'fromInstanceArn' : 'fromClusterArn';
    throw propError(scope, `source: DatabaseSource.${factory}() needs a DB ${expected} ARN, but "${arn}" is a DB ${kind}`);
  }
  return { kind, arn, identifier: match[2] };
}
