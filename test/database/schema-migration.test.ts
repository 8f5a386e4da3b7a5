import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EVENT_SOURCE } from '../../lambda/shared/contracts';
import { SchemaMigration, SchemaMigrationProps } from '../../lib/database/schema-migration';
import { importedRollout } from '../constructs/fixtures';
import { Migration } from '../../lambda/database/types';
import { handlerConfigOf, stateMachineDefinitionOf } from '../constructs/fixtures';

const migration: Migration = { name: 'rename_users_name', operations: [{ op: 'renameColumn', table: 'users', from: 'name', to: 'full_name' }] };

function build(props: Partial<SchemaMigrationProps> = {}, app = new App({ builtinCloudFormationValidation: false })) {
  const stack = new Stack(app, 'Db');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  vpc.addFlowLog('FlowLogs');
  const secret = new secretsmanager.Secret(stack, 'DbSecret');
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test stand-in for an RDS-managed secret (rotated by RDS)' });
  const dbSecurityGroup = new ec2.SecurityGroup(stack, 'DbSg', { vpc, allowAllOutbound: false });
  const database = { connections: new ec2.Connections({ securityGroups: [dbSecurityGroup], defaultPort: ec2.Port.tcp(5432) }) };
  const m = new SchemaMigration(stack, 'Migration', { vpc, secret, database, migration, ...props });
  return { app, stack, m, template: () => Template.fromStack(stack) };
}

const definitionOf = (template: Template): Record<string, any> => stateMachineDefinitionOf(template, 'X');

describe('SchemaMigration', () => {
  test('can be created with default configuration: a VPC Lambda with its config and a Standard state machine', () => {
    const { template } = build();
    const t = template();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: { Variables: { ZDT_CONFIG: Match.anyValue() } },
    });
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true } });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' });
  });

  test('runs start -> backfill loop -> validate -> gate -> complete, and rolls back on failure before the gate', () => {
    const def = definitionOf(build().template());
    expect(def.StartAt).toBe('Start');
    expect(def.States.Start.Next).toBe('EmitStarted');
    expect(def.States['BackfillDone?'].Choices[0]).toMatchObject({ Variable: '$.backfill.done', BooleanEquals: true, Next: 'EmitBackfilled' });
    expect(def.States.EmitBackfilled.Next).toBe('Validate');
    expect(def.States['BackfillDone?'].Default).toBe('Backfill');
    expect(def.States.Validate.Next).toBe('EmitWaiting');
    expect(def.States.WaitForRollout.Resource).toMatch(/lambda:invoke.waitForTaskToken$/);
    expect(def.States.WaitForRollout.Parameters.Payload).toMatchObject({ action: 'waitGate', 'taskToken.$': '$$.Task.Token' });
    expect(def.States.WaitForRollout.Next).toBe('Complete');
    // A cancel stops Start or Backfill without a rollback; any other failure rolls back.
    for (const s of ['Start', 'Backfill']) expect(def.States[s].Catch[0]).toMatchObject({ ErrorEquals: ['ZdtMigrationCancelled'], Next: 'EmitFailed' });
    for (const s of ['Start', 'Backfill']) expect(def.States[s].Catch[1]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'Rollback' });
    expect(def.States.Validate.Catch[0].Next).toBe('Rollback');
    // A release plan's rejectGate (its traffic rolled back) rolls back; any other end of the gate (its timeout) does not.
    expect(def.States.WaitForRollout.Catch.map((c: { ErrorEquals: string[]; Next: string }) => [c.ErrorEquals, c.Next])).toEqual([
      [['ZdtMigrationRollbackRequested'], 'Rollback'], [['States.ALL'], 'EmitFailed'],
    ]);
    expect(def.States.Complete.Catch[0].Next).toBe('EmitFailed');
    expect(def.States.Rollback.Next).toBe('EmitRolledBack');
    expect(def.States.Backfill.Retry[0].ErrorEquals).toEqual(expect.arrayContaining(['ZdtRetryableError', 'ZdtMigrationLockTimeout']));
  });

  test('emits migration events to EventBridge with the library source', () => {
    const def = definitionOf(build().template());
    for (const [state, detailType] of [['EmitStarted', 'Migration Started'], ['EmitCompleted', 'Migration Completed'], ['EmitRolledBack', 'Migration Rolled Back'], ['EmitFailed', 'Migration Failed']]) {
      expect(def.States[state].Parameters.Entries[0]).toMatchObject({ Source: EVENT_SOURCE, DetailType: detailType });
    }
    expect(def.States.EmitStarted.Parameters.Entries[0].Detail).toMatchObject({ migration: 'rename_users_name', 'execution.$': '$$.Execution.Id' });
  });

  test('takes the migration from the execution input when no migration prop is given', () => {
    const def = definitionOf(build({ migration: undefined }).template());
    expect(def.States.Start.Parameters).toEqual({ action: 'start', 'migration.$': '$.migration' });
    expect(def.States.EmitStarted.Parameters.Entries[0].Detail['migration.$']).toBe('$.migration.name');
  });

  test('without a gate, complete follows validation', () => {
    const def = definitionOf(build({ gate: false }).template());
    expect(def.States.Validate.Next).toBe('Complete');
    expect(def.States.WaitForRollout).toBeUndefined();
  });

  test('least privilege: reads only its secret; task success and failure on "*", the only Resource they support (the token names the task)', () => {
    const t = build().template();
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: Match.stringLikeRegexp('DbSecret') } })]) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'], Effect: 'Allow', Resource: '*' }]) },
    });
  });

  test('completeAfterRollout releases the gate on the rollout\'s Rollout Completed event', () => {
    const { m, template, stack } = build();
    m.completeAfterRollout(importedRollout(stack, 'web'));
    template().hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: [EVENT_SOURCE], 'detail-type': ['Rollout Completed'], detail: { service: ['web'] } },
      Targets: [Match.objectLike({ Input: JSON.stringify({ action: 'releaseGate', reason: 'Rollout Completed for web' }) })],
    });
  });

  test('fails at once when the migration prop is invalid, naming the prop and the construct path', () => {
    expect(() => build({ migration: { name: 'bad', operations: [{ op: 'renameColumn', table: 'users', from: 'a' } as never] } }))
      .toThrow(/Db\/Migration: migration is invalid: .*operations\[0\] \(renameColumn on users\): to must be an identifier/s);
  });

  test('fails at once when schema and the migration name make a version schema longer than PostgreSQL allows', () => {
    const schema = 'tenant_' + 'a'.repeat(40);
    const name = 'b'.repeat(20);
    expect(() => build({ schema, migration: { ...migration, name } }))
      .toThrow(new RegExp(`Db/Migration: schema "${schema}" and migration name "${name}" make the version schema "${schema}_${name}" of 68 bytes; it must be at most 63 bytes`));
    expect(() => build({ schema, migration: { ...migration, name: 'b'.repeat(15) } })).not.toThrow();
  });

  test('fails at synth when schema is not a PostgreSQL identifier or is longer than 63 bytes', () => {
    expect(() => build({ schema: '1tenant', migration: undefined }).app.synth()).toThrow(/schema must be a PostgreSQL identifier .*got "1tenant"/);
    expect(() => build({ schema: 's'.repeat(64), migration: undefined }).app.synth()).toThrow(/schema must be at most 63 bytes .*got 64/);
  });

  /** The migration Lambda's ZDT_CONFIG (the secret's ARN, a token, as 'ref'). */
  const lambdaConfig = (props: Partial<SchemaMigrationProps>) => handlerConfigOf(build(props).template(), 'migration', 'ref');

  test('passes the backfill sizing to the Lambda: largest batch and target duration', () => {
    expect(lambdaConfig({ batchSize: 5000, batchTarget: Duration.millis(10) })).toMatchObject({ batchSize: 5000, batchTargetMs: 10 });
  });

  test('passes the acknowledgements to the Lambda: neither unless given', () => {
    expect(lambdaConfig({})).toMatchObject({ acknowledgeHighRisk: false, acknowledgeLogicalReplication: false });
    expect(lambdaConfig({ acknowledgeLogicalReplication: true })).toMatchObject({ acknowledgeHighRisk: false, acknowledgeLogicalReplication: true });
  });

  test('fails at synth when a range is out of bounds', () => {
    const { app } = build({ batchSize: 0, lockTimeout: Duration.minutes(5) });
    expect(() => app.synth()).toThrow(/batchSize must be an integer from 1 to 100000, got 0[\s\S]*lockTimeout must be from/);
  });

  test('is cdk-nag AwsSolutions clean', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const { m, stack } = build({}, app);
    m.completeAfterRollout(importedRollout(stack, 'web'));
    expect(() => app.synth()).not.toThrow();
  });
});
