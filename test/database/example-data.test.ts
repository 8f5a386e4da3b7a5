import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { addEverJustData } from '../../bin/everjust-data';
import { createEverJust, EVERJUST_DATABASE_SECRET_NAME } from '../../bin/everjust';
import { handlerConfigOf } from '../constructs/fixtures';

/**
 * The example app with its data stack, built and synthesized once for the tests that only read it (a synth of the
 * four stacks is the bulk of each test's time; App.synth() caches its assembly, and no test here changes the tree).
 */
let shared: { pair: ReturnType<typeof createEverJust>; data: ReturnType<typeof addEverJustData> } | undefined;
function everJustWithData(): NonNullable<typeof shared> {
  if (!shared) {
    const app = new App({ builtinCloudFormationValidation: false });
    const pair = createEverJust(app);
    shared = { pair, data: addEverJustData(app, pair) };
  }
  return shared;
}

describe('the EverJust example data stack', () => {
  test('an encrypted, Multi-AZ PostgreSQL with deletion protection, backups, IAM auth and a rotated secret, in the pair\'s VPC', () => {
    const t = Template.fromStack(everJustWithData().data.stack);
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres', StorageEncrypted: true, MultiAZ: true, DeletionProtection: true, BackupRetentionPeriod: 7,
      EnableIAMDatabaseAuthentication: true, Port: '5433', EnableCloudwatchLogsExports: ['postgresql'],
    });
    t.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: Match.arrayWith([{ 'Fn::ImportValue': Match.stringLikeRegexp('Vpc') }]) });
    t.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(30 days)' } });
  });

  test('runs the users-plan migration in a release plan: expand, the EverJust rollout, the new-checkout flag, approval, contract', () => {
    const t = Template.fromStack(everJustWithData().data.stack);
    // ZDT_CONFIG joins the secret's ARN (a reference) into JSON: a stand-in goes where the reference is.
    expect(handlerConfigOf(t, 'migration', 'ref')).toMatchObject({ migration: { name: 'add_users_plan' }, schema: 'public', tls: 'require' });
    // The release plan releases the gate, not a 'Rollout Completed' rule (it would contract before the flag rollout).
    expect(JSON.stringify(t.findResources('AWS::Events::Rule'))).not.toContain('Rollout Completed');
    const plans = Object.values(t.findResources('AWS::StepFunctions::StateMachine')).filter((r) => r.Metadata?.['cdk-zero-downtime:release-plan']);
    expect(plans).toHaveLength(1);
    expect(plans[0].Metadata['cdk-zero-downtime:release-plan'].steps.map((s: { part: string }) => s.part)).toEqual(['migration', 'traffic', 'flag', 'gate', 'migration']);
    // The migration Lambda may reach the database port; nothing else is opened.
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      Description: 'cdk-zero-downtime migration Lambda', IpProtocol: 'tcp',
      FromPort: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Database'), 'Endpoint.Port'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UsersPlanMigrationHandlerSecurityGroup'), 'GroupId'] },
    });
  });

  test('moves the database to the next PostgreSQL major version through a manually approved blue/green switchover', () => {
    const { data } = everJustWithData();
    const t = Template.fromStack(data.stack);
    // Blue/green keeps green in sync by logical replication, which the source's parameters must allow.
    t.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: Match.objectLike({ 'rds.logical_replication': '1', 'rds.force_ssl': '1' }) });
    expect(data.upgrade.sourceKind).toBe('instance');
    expect(handlerConfigOf(t, 'blue-green', 'ref')).toMatchObject({ sourceKind: 'instance', targetEngineVersion: '18.1', targetDBParameterGroupName: 'ref', switchoverTimeoutSeconds: 120, replicaLag: { metricName: 'ReplicaLag', maxSeconds: 5 } });
    // Green gets the same parameters as blue, in a PostgreSQL 18 family group.
    t.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'postgres18', Parameters: { 'rds.force_ssl': '1', 'rds.logical_replication': '1' } });
    // Approval: the execution waits on a task token carried by an EventBridge event.
    const definition = JSON.stringify(Object.values(t.findResources('AWS::StepFunctions::StateMachine')).map((r) => r.Properties.DefinitionString));
    expect(definition).toContain('events:putEvents.waitForTaskToken');
    expect(definition).toContain('Database Switchover Awaiting Approval');
  });
});

// Moved from test/constructs/example-app.test.ts to share the synth above.
describe('the EverJust example app: validation gates and notifications', () => {
  test('checks its endpoints and its database before traffic moves, and tells Slack, email, on-call and the status page', () => {
    const { pair, data } = everJustWithData();
    const router = Template.fromStack(pair.routerStack);

    expect(pair.rollout.preTrafficGates.map((g) => g.name)).toEqual(['HTTP check', 'Database check']);
    router.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('HTTP check of EverJust \\(3 endpoints') });
    router.hasResource('AWS::Lambda::Function', { Metadata: { 'cdk-zero-downtime:handler': 'database-gate' } });
    // The database admits the gate on its port; the gate reads the secret the data stack names.
    Template.fromStack(data.stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      SourceSecurityGroupId: { 'Fn::ImportValue': Match.stringLikeRegexp('RolloutPreTrafficGate2FunctionSecurityGroup') },
    });
    Template.fromStack(data.stack).hasResourceProperties('AWS::SecretsManager::Secret', { Name: EVERJUST_DATABASE_SECRET_NAME });
    router.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 1);
    router.hasResourceProperties('AWS::Events::ApiDestination', { HttpMethod: 'PATCH', InvocationEndpoint: Match.stringLikeRegexp('^https://api.statuspage.io/v1/pages/') });
    router.hasResourceProperties('AWS::Events::ApiDestination', { HttpMethod: 'POST', InvocationEndpoint: 'https://api.opsgenie.com/v2/alerts' });
  });

  test('tells the same Slack channel and stakeholders about the new-checkout flag\'s guarded rollout (one chat configuration)', () => {
    const router = Template.fromStack(everJustWithData().pair.routerStack);
    const flagRules = Object.values(router.findResources('AWS::Events::Rule')).filter((r) => JSON.stringify(r.Properties?.EventPattern ?? {}).includes('new-checkout'));
    const detailTypes = flagRules.flatMap((r) => r.Properties.EventPattern['detail-type'] as string[]);
    expect(detailTypes).toEqual(expect.arrayContaining(['Flag Rollout Started', 'Flag Rollout Rolled Back', 'Flag Rollout Completed']));
    router.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 1);
  });
});
