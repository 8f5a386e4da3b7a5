/**
 * The example app's data tier: a stack `EverJust-data` with the EverJust.dev PostgreSQL database (RDS, in the
 * router stack's VPC), the expand/contract migration of examples/migrations/003_add_users_plan.json, whose
 * contract waits until the application rollout of the blue/green pair has completed, and the RDS blue/green
 * upgrade of the database to the next PostgreSQL major version.
 *
 * A release that needs the new column is one release plan (`release`, bin/everjust.ts addEverJustRelease): deploy the
 * idle color, then start the plan's state machine; it expands and backfills the migration, runs the traffic rollout,
 * then the guarded rollout of the `new-checkout` flag, and contracts the migration last. `zdt plan` prints it.
 */
import { App, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlueGreenStacks } from '../lib/stacks/blue-green-stacks';
import { BlueGreenDatabase } from '../lib/database/blue-green-database';
import { DatabaseSource } from '../lib/database/database-source';
import { SwitchoverApproval } from '../lib/database/switchover-approval';
import { DatabaseGate } from '../lib/gates/database-gate';
import { EVERJUST_DATABASE_SECRET_NAME } from './everjust';
import { SchemaMigration } from '../lib/database/schema-migration';
import { Migration } from '../lambda/database/types';
import { ReleasePlan } from '../lib/release/release-plan';
import { addEverJustRelease } from './everjust';

/** The migration this example deploys. */
export const EVERJUST_MIGRATION_FILE = join(__dirname, '..', 'examples', 'migrations', '003_add_users_plan.json');

/**
 * Not PostgreSQL's 5432: cdk-nag (AwsSolutions-RDS11) asks for a non-default port, which costs nothing here since
 * every client reads the port from the secret.
 */
const DATABASE_PORT = 5433;
/** The instance's identifier: fixed, so the name of its log group is known before it exists. */
const INSTANCE_IDENTIFIER = 'everjust';
/** Database created on the instance, named in the secret. */
const DATABASE_NAME = 'everjust';
/** A week of point-in-time recovery: enough to undo a bad contract found during the following release. */
const BACKUP_RETENTION = Duration.days(7);
/** The master password is rotated monthly; the migration Lambda reads the secret on every invocation. */
const ROTATION_INTERVAL = Duration.days(30);

export interface EverJustData {
  readonly stack: Stack;
  readonly database: rds.DatabaseInstance;
  readonly migration: SchemaMigration;
  /** The database's next major version, through an RDS blue/green switchover (started by hand, approved by hand). */
  readonly upgrade: BlueGreenDatabase;
  /** The release plan: migration expand, traffic rollout, the new-checkout flag rollout, migration contract. */
  readonly release: ReleasePlan;
}

/** The PostgreSQL version the blue/green deployment upgrades the database to. */
const UPGRADE_ENGINE_VERSION = rds.PostgresEngineVersion.VER_18_1;
/**
 * The database's parameters, on today's instance and on the upgrade's green one. Logical replication: RDS for
 * PostgreSQL keeps a blue/green deployment's green (a major version upgrade) in sync with it. It is a static
 * parameter: on an instance that ran without it, it applies after a reboot, which CloudFormation does not do.
 */
const DATABASE_PARAMETERS = { 'rds.force_ssl': '1', 'rds.logical_replication': '1' };

/**
 * Adds the stack `EverJust-data` to the app: an encrypted, Multi-AZ RDS for PostgreSQL instance in the pair's VPC
 * (deletion protection, backups, IAM authentication, a Secrets Manager secret with rotation, logs in CloudWatch)
 * and a SchemaMigration of the users table, released by `pair.rollout`.
 */
export function addEverJustData(app: App, pair: BlueGreenStacks): EverJustData {
  const stack = new Stack(app, 'EverJustData', {
    stackName: 'EverJust-data',
    // Same environment as the router stack, whose VPC and event bus it references.
    env: Token.isUnresolved(pair.routerStack.region) ? undefined : { region: pair.routerStack.region },
    description: 'EverJust.dev: PostgreSQL database and its expand/contract schema migration',
  });
  const vpc = pair.network.vpc;
  const database = new rds.DatabaseInstance(stack, 'Database', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    port: DATABASE_PORT,
    databaseName: DATABASE_NAME,
    // A fixed name: the rollout's database gate (router stack) imports the secret by it.
    credentials: rds.Credentials.fromGeneratedSecret('everjust_admin', { secretName: EVERJUST_DATABASE_SECRET_NAME }),
    storageType: rds.StorageType.GP3,
    allocatedStorage: 20,
    maxAllocatedStorage: 100,
    storageEncrypted: true,
    multiAz: true,
    iamAuthentication: true,
    deletionProtection: true,
    backupRetention: BACKUP_RETENTION,
    removalPolicy: RemovalPolicy.SNAPSHOT,
    instanceIdentifier: INSTANCE_IDENTIFIER,
    cloudwatchLogsExports: ['postgresql'],
    // The engine's connections are TLS ('require' in the migration Lambda); refuse plain-text ones.
    parameters: DATABASE_PARAMETERS,
  });
  // The exported PostgreSQL log, with a retention: created before the instance (RDS would otherwise create it
  // without one), instead of `cloudwatchLogsRetention`, whose custom resource needs a wildcard IAM policy.
  const postgresLogs = new logs.LogGroup(stack, 'PostgresLogs', {
    logGroupName: `/aws/rds/instance/${INSTANCE_IDENTIFIER}/postgresql`,
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  database.node.addDependency(postgresLogs);
  database.addRotationSingleUser({ automaticallyAfter: ROTATION_INTERVAL });
  // The rollout's database gate connects before any traffic moves.
  for (const gate of pair.rollout.preTrafficGates) {
    if (gate instanceof DatabaseGate) database.connections.allowDefaultPortFrom(gate, `the rollout's ${gate.name}`);
  }

  const migration = new SchemaMigration(stack, 'UsersPlanMigration', {
    vpc,
    database,
    secret: database.secret!,
    migration: JSON.parse(readFileSync(EVERJUST_MIGRATION_FILE, 'utf8')) as Migration,
    eventBus: pair.rollout.eventBus,
    // The release plan contracts after the canary, the new-checkout flag's 12 days of phases and an approval (up to 7
    // days): the gate waits long enough for all of it.
    gateTimeout: Duration.days(30),
  });
  // The contract runs only once the traffic and the new-checkout flag are rolled out: the release plan releases the
  // gate (it replaces completeAfterRollout, which would contract as soon as the traffic rollout completes).
  const release = addEverJustRelease(stack, pair, migration);

  // The move to the next PostgreSQL major version, with no downtime beyond RDS's switchover (about a minute of
  // refused writes). Run it by hand, and only between migrations: blue/green replication carries rows, not DDL. The
  // migration above completes (contract DDL) on its own when a rollout completes; while the deployment's logical
  // replication slots exist, the engine refuses that complete and the migration stays expanded. A DBA approves the switchover once green has been checked
  // (`zdt switchover approve`). Afterwards, set this stack's engine version and parameter group to the new ones, so
  // that the template describes the instance that now runs.
  const upgradeParameters = new rds.ParameterGroup(stack, 'Postgres18Parameters', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: UPGRADE_ENGINE_VERSION }),
    parameters: DATABASE_PARAMETERS,
    description: 'EverJust PostgreSQL 18: the parameters of the blue/green upgrade\'s green environment',
  });
  const upgrade = new BlueGreenDatabase(stack, 'PostgresUpgrade', {
    source: DatabaseSource.fromInstance(database),
    targetEngineVersion: UPGRADE_ENGINE_VERSION.postgresFullVersion,
    targetParameterGroup: upgradeParameters.bindToInstance({}).parameterGroupName,
    switchoverTimeout: Duration.minutes(2),
    maxReplicaLag: Duration.seconds(5),
    approval: SwitchoverApproval.MANUAL,
    eventBus: pair.rollout.eventBus,
  });
  return { stack, database, migration, upgrade, release };
}
