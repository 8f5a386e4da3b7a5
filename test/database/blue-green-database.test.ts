import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EVENT_SOURCE } from '../../lambda/shared/contracts';
import { BlueGreenHandlerConfig } from '../../lambda/database/blue-green-contract';
import { BlueGreenDatabase, BlueGreenDatabaseProps } from '../../lib/database/blue-green-database';
import { DatabaseSource } from '../../lib/database/database-source';
import { DatabaseSourceKind } from '../../lib/database/database-source-kind';
import { SwitchoverApproval } from '../../lib/database/switchover-approval';
import { handlerConfigOf, stateMachineDefinitionOf } from '../constructs/fixtures';

const ARN = 'arn:aws:rds:eu-west-1:123456789012:db:orders';
const CLUSTER_ARN = 'arn:aws:rds:eu-west-1:123456789012:cluster:orders';

function build(props: Partial<BlueGreenDatabaseProps> = {}, app = new App({ builtinCloudFormationValidation: false })) {
  const stack = new Stack(app, 'Db', { env: { account: '123456789012', region: 'eu-west-1' } });
  const bg = new BlueGreenDatabase(stack, 'Upgrade', { source: DatabaseSource.fromArn(ARN), targetEngineVersion: '17.2', ...props });
  return { app, stack, bg, template: () => Template.fromStack(stack) };
}

const definitionOf = (template: Template): Record<string, any> => stateMachineDefinitionOf(template, 'X');

function configOf(template: Template): BlueGreenHandlerConfig {
  return handlerConfigOf(template, 'blue-green');
}

function statementsOf(template: Template): { Action: string | string[]; Resource: unknown }[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('BlueGreenDatabase', () => {
  test('can be created with default configuration: the handler config and a Standard state machine', () => {
    const { template, bg } = build();
    const t = template();
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true } });
    expect(configOf(t)).toEqual({
      sourceArn: ARN, sourceKind: 'instance', deploymentName: bg.deploymentName, targetEngineVersion: '17.2', switchoverTimeoutSeconds: 300, deleteOldAfter: false,
    });
    expect(bg.deploymentName).toMatch(/^zdt-[A-Za-z0-9-]+$/);
    expect(bg.deploymentName.length).toBeLessThanOrEqual(60);
  });

  test('runs create -> provisioning poll -> preflight -> switchover -> switchover poll -> verify -> completed event -> cleanup', () => {
    const def = definitionOf(build().template());
    expect(def.StartAt).toBe('CreateDeployment');
    expect(def.States.CreateDeployment.Next).toBe('StartProvisioningPolls');
    expect(def.States.ProvisioningStatus.Parameters).toMatchObject({ action: 'status', phase: 'provisioned', maxPolls: 180, 'polls.$': '$.poll.polls', 'deploymentId.$': '$.deployment.deploymentId' });
    expect(def.States['ProvisioningDone?'].Choices[0]).toMatchObject({ Variable: '$.poll.waiting', BooleanEquals: true, Next: 'WaitForProvisioning' });
    expect(def.States['ProvisioningDone?'].Default).toBe('Preflight');
    expect(def.States.WaitForProvisioning).toMatchObject({ Type: 'Wait', Seconds: 60, Next: 'ProvisioningStatus' });
    expect(def.States.Preflight.Next).toBe('Switchover');
    expect(def.States.Preflight.Retry).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['ZdtBlueGreenNotReady'], IntervalSeconds: 60, MaxAttempts: 10 })]));
    expect(def.States.Switchover.Next).toBe('StartSwitchoverPolls');
    // 300 s timeout + 10 min for RDS to settle, polled every 15 s.
    expect(def.States.SwitchoverStatus.Parameters).toMatchObject({ phase: 'switched', maxPolls: 60 });
    expect(def.States['SwitchoverDone?'].Default).toBe('Verify');
    expect(def.States.Verify.Next).toBe('EmitCompleted');
    expect(def.States.EmitCompleted.Parameters.Entries[0]).toMatchObject({ Source: EVENT_SOURCE, DetailType: 'Database Switchover Completed' });
    expect(def.States.EmitCompleted.Next).toBe('Cleanup');
    expect(def.States.Cleanup.Next).toBe('SwitchedOver');
    for (const s of ['CreateDeployment', 'ProvisioningStatus', 'Preflight', 'Switchover', 'SwitchoverStatus', 'Verify']) {
      expect(def.States[s].Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'EmitFailed', ResultPath: '$.error' });
      expect(def.States[s].Retry[0].ErrorEquals).toContain('ZdtRetryableError');
    }
    expect(def.States.EmitFailed.Parameters.Entries[0]).toMatchObject({ DetailType: 'Database Switchover Failed', Detail: { 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' } });
    expect(def.States.EmitFailed.Next).toBe('SwitchoverFailed');
    expect(def.States.SwitchoverFailed).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    expect(def.States.AwaitApproval).toBeUndefined();
  });

  test('manual approval pauses on a task token after the preflight, and grantApproval lets an operator answer it', () => {
    const { template, bg, stack } = build({ approval: SwitchoverApproval.MANUAL, approvalTimeout: Duration.hours(2) });
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    bg.grantApproval(operator);
    const t = template();
    const def = definitionOf(t);
    expect(def.States.Preflight.Next).toBe('AwaitApproval');
    expect(def.States.AwaitApproval).toMatchObject({ Resource: expect.stringMatching(/events:putEvents.waitForTaskToken$/), TimeoutSeconds: 7200, Next: 'Switchover' });
    expect(def.States.AwaitApproval.Parameters.Entries[0]).toMatchObject({ DetailType: 'Database Switchover Awaiting Approval', Detail: { 'taskToken.$': '$$.Task.Token' } });
    expect(def.States.AwaitApproval.Catch[0].Next).toBe('EmitFailed');
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Operator') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], Resource: '*' })]) },
    });
  });

  test('scopes IAM to the source, the deployments and the green resource types, and deletes only the old instances when asked', () => {
    const statements = statementsOf(build().template());
    const rdsActions = statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('rds:'));
    expect(rdsActions).not.toContain('rds:DeleteDBInstance');
    expect(statements.some((s) => JSON.stringify(s.Resource).includes('"*"') && [s.Action].flat().some((a) => a.startsWith('rds:')))).toBe(false);
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: 'rds:CreateBlueGreenDeployment', Resource: [ARN, expect.objectContaining({ 'Fn::Join': ['', expect.arrayContaining([':rds:eu-west-1:123456789012:deployment:*'])] })] }),
      expect.objectContaining({ Action: ['rds:DescribeBlueGreenDeployments', 'rds:SwitchoverBlueGreenDeployment', 'rds:DeleteBlueGreenDeployment'] }),
      expect.objectContaining({ Action: ['rds:AddTagsToResource', 'rds:CreateDBInstanceReadReplica', 'rds:ModifyDBInstance', 'rds:PromoteReadReplica'] }),
    ]));
    expect(rdsActions).not.toContain('rds:CreateDBCluster');
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('cloudwatch:GetMetricData');

    const withDelete = statementsOf(build({ deleteOldAfter: true, maxReplicaLag: Duration.seconds(30), targetParameterGroup: 'pg17' }).template());
    const del = withDelete.find((s) => [s.Action].flat().includes('rds:DeleteDBInstance'))!;
    expect(JSON.stringify(del.Resource)).toMatch(/db:orders-old\*.*snapshot:orders-old\*/);
    expect(del.Action).toEqual(['rds:DeleteDBInstance', 'rds:CreateDBSnapshot', 'rds:ModifyDBInstance']);
    expect(JSON.stringify(withDelete.find((s) => s.Action === 'rds:CreateBlueGreenDeployment')!.Resource)).toMatch(/:pg:pg17/);
    expect(withDelete.find((s) => s.Action === 'cloudwatch:GetMetricData')).toMatchObject({ Resource: '*' });
  });

  test('takes the ARN and kind from a DatabaseCluster, with Aurora\'s green actions and lag metric', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Aurora');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new rds.DatabaseCluster(stack, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.VER_3_08_0 }), vpc,
      writer: rds.ClusterInstance.serverlessV2('writer'),
    });
    // A cluster's lag metric depends on its engine: maxReplicaLag alone is refused, naming the missing prop.
    expect(() => new BlueGreenDatabase(stack, 'NoMetric', { source: DatabaseSource.fromCluster(cluster), maxReplicaLag: Duration.seconds(10) }))
      .toThrow(/^Aurora\/NoMetric: maxReplicaLag on a DB cluster needs replicaLagMetric/);
    const bg = new BlueGreenDatabase(stack, 'Upgrade', {
      source: DatabaseSource.fromCluster(cluster), targetClusterParameterGroup: 'aurora8', maxReplicaLag: Duration.seconds(10), replicaLagMetric: 'AuroraBinlogReplicaLag',
    });
    expect(bg.sourceKind).toBe('cluster');
    const t = Template.fromStack(stack);
    // The cluster's ARN is made of tokens: ZDT_CONFIG is an Fn::Join around them; the literal parts carry the rest.
    expect(handlerConfigOf(t, 'blue-green')).toMatchObject({
      sourceKind: 'cluster', targetDBClusterParameterGroupName: 'aurora8',
      replicaLag: { metricName: 'AuroraBinlogReplicaLag', dimensionName: 'DBClusterIdentifier', maxSeconds: 10, windowSeconds: 300 },
    });
    const actions = statementsOf(t).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['rds:CreateDBCluster', 'rds:PromoteReadReplicaDBCluster', 'rds:ModifyDBCluster']));
  });

  test('takes the ARN, identifier and kind from a DB instance imported by attributes', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Db', { env: { account: '123456789012', region: 'eu-west-1' } });
    const instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Orders', {
      instanceIdentifier: 'orders', instanceEndpointAddress: 'orders.example', port: 5432, securityGroups: [],
    });
    const bg = new BlueGreenDatabase(stack, 'Upgrade', { source: DatabaseSource.fromInstance(instance), deleteOldAfter: true });
    expect(bg.sourceKind).toBe(DatabaseSourceKind.INSTANCE);
    expect(stack.resolve(bg.sourceArn)).toEqual(stack.resolve(instance.instanceArn));
    // deleteOldAfter names the old instances after the source's identifier.
    expect(JSON.stringify(statementsOf(Template.fromStack(stack)))).toContain('db:orders-old*');
  });

  test('lets the handler create grants on the source\'s customer managed key, and nothing else on it', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Data');
    const key = new kms.Key(stack, 'OrdersKey');
    new BlueGreenDatabase(stack, 'Upgrade', { source: DatabaseSource.fromArn('arn:aws:rds:us-east-1:123456789012:db:orders'), sourceEncryptionKey: key });
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => JSON.stringify(st.Resource) === JSON.stringify(keyArn));
    expect(statements).toEqual([{ Action: ['kms:CreateGrant', 'kms:DescribeKey'], Effect: 'Allow', Resource: keyArn }]);
  });

  test('fails at once on contradictory props, naming the prop and the construct path', () => {
    expect(() => build({ targetClusterParameterGroup: 'x' })).toThrow(/^Db\/Upgrade: targetClusterParameterGroup is set but the source is a DB instance/);
    expect(() => build({ source: DatabaseSource.fromArn(CLUSTER_ARN), deleteOldAfter: true })).toThrow(/Db\/Upgrade: deleteOldAfter is true but the source is a DB cluster/);
    expect(() => build({ approvalTimeout: Duration.hours(1) })).toThrow(/Db\/Upgrade: approvalTimeout is set but approval is "none"/);
    expect(() => build({ replicaLagMetric: 'ReplicaLag' })).toThrow(/replicaLagMetric is set but maxReplicaLag is not/);
    expect(() => build({ source: DatabaseSource.fromArn('arn:aws:s3:::bucket') })).toThrow(/Db\/Upgrade: source must be an RDS DB instance or cluster ARN .*got "arn:aws:s3:::bucket"/);
    expect(() => build({ source: DatabaseSource.fromClusterArn(ARN) })).toThrow(/Db\/Upgrade: source: DatabaseSource.fromClusterArn\(\) needs a DB cluster ARN, but ".*:db:orders" is a DB instance/);
    expect(() => build({ source: DatabaseSource.fromInstanceArn(CLUSTER_ARN) })).toThrow(/fromInstanceArn\(\) needs a DB instance ARN, but ".*:cluster:orders" is a DB cluster/);
  });

  test('an ARN known only at deploy time takes its kind from the factory', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Db');
    const arn = stack.formatArn({ service: 'rds', resource: 'db', resourceName: 'orders', arnFormat: 'arn:aws:rds:region:account:db:name' as never });
    expect(() => new BlueGreenDatabase(stack, 'A', { source: DatabaseSource.fromArn(arn) }))
      .toThrow(/Db\/A: source is an ARN known only at deploy time; give it with DatabaseSource.fromInstanceArn\(\) or DatabaseSource.fromClusterArn\(\)/);
    const bg = new BlueGreenDatabase(stack, 'B', { source: DatabaseSource.fromInstanceArn(arn), deleteOldAfter: true });
    expect(bg.sourceKind).toBe('instance');
    expect(new BlueGreenDatabase(stack, 'C', { source: DatabaseSource.fromClusterArn(arn) }).sourceKind).toBe('cluster');
  });

  test('validates ranges at synth: switchover timeout 30 s to 1 hour, deployment name, approval timeout', () => {
    expect(() => build({ switchoverTimeout: Duration.seconds(20) }).app.synth()).toThrow(/Db\/Upgrade.*switchoverTimeout must be from 30 seconds to 1 hour, got 20 seconds/s);
    expect(() => build({ switchoverTimeout: Duration.hours(2) }).app.synth()).toThrow(/switchoverTimeout must be from 30 seconds to 1 hour, got 2 hours/);
    expect(() => build({ switchoverTimeout: Duration.millis(30_500) }).app.synth()).toThrow(/switchoverTimeout must be a whole multiple of 1 second/);
    for (const name of ['1-bad', 'trailing-', 'double--hyphen', 'x'.repeat(61)]) {
      expect(() => build({ deploymentName: name }).app.synth()).toThrow(new RegExp(`deploymentName must be 1 to 60 letters, digits and single hyphens, starting with a letter and not ending with a hyphen .*got "${name}"`));
    }
    expect(() => build({ approval: SwitchoverApproval.MANUAL, approvalTimeout: Duration.days(8) }).app.synth()).toThrow(/approvalTimeout must be from 1 minute to 7 days, got 8 days/);
    expect(() => build({ switchoverTimeout: Duration.minutes(10), deploymentName: 'orders-pg17' }).app.synth()).not.toThrow();
  });

  test('is cdk-nag AwsSolutions clean', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const { stack, bg } = build({ approval: SwitchoverApproval.MANUAL, deleteOldAfter: true, maxReplicaLag: Duration.seconds(30), targetParameterGroup: 'pg17' }, app);
    bg.grantStartExecution(new iam.Role(stack, 'Pipeline', { assumedBy: new iam.AccountRootPrincipal() }));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
