/**
 * DatabaseTls.VERIFY_FULL verifies RDS's certificate against Amazon's CAs: Lambda's Node.js 20+ runtimes no longer
 * load them by default (they ship them in /var/runtime/ca-cert.pem, loaded through NODE_EXTRA_CA_CERTS), so every
 * library Lambda that connects to PostgreSQL with VERIFY_FULL sets that variable, and only then (it costs cold-start
 * time).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DatabaseTls, ValidationGate } from '../../lib';
import { SchemaMigration } from '../../lib/database/schema-migration';
import { network, rollout } from './fixtures';

const AMAZON_CAS = { NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' };

function functionEnvironment(template: Template, handler: string): Record<string, unknown> {
  const [fn] = Object.values<any>(template.findResources('AWS::Lambda::Function', { Metadata: { 'cdk-zero-downtime:handler': handler } }));
  return fn.Properties.Environment.Variables;
}

describe('DatabaseTls.VERIFY_FULL', () => {
  test('the database gate loads Amazon\'s CA certificates with VERIFY_FULL, not with REQUIRE', () => {
    const f = network();
    rollout(f, { preTrafficGates: [
      ValidationGate.database({ secretName: 'db', tls: DatabaseTls.VERIFY_FULL }),
      ValidationGate.database({ secretName: 'db', name: 'Database check (unverified)' }),
    ] });
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Database check of'), Environment: { Variables: Match.objectLike(AMAZON_CAS) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Database check \\(unverified\\)'), Environment: { Variables: Match.objectEquals({ ZDT_CONFIG: Match.anyValue() }) },
    });
  });

  test('the migration Lambda loads them with VERIFY_FULL', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Db');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    new SchemaMigration(stack, 'Migration', { vpc, secret: new secretsmanager.Secret(stack, 'DbSecret'), tls: DatabaseTls.VERIFY_FULL });
    expect(functionEnvironment(Template.fromStack(stack), 'migration')).toMatchObject(AMAZON_CAS);
  });
});
