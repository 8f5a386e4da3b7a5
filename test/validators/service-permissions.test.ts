import { runSimulation, Simulation } from '@cloud-copilot/iam-simulate';
import { synthesizedApps } from './matrix';
import { identityPolicies, resolveApp, roleOf } from './resolve';

/**
 * What AWS services themselves need of the library's resources, beyond the calls its code makes
 * (test/validators/iam.test.ts): Lambda's network interfaces for a function in a VPC, AppConfig invoking the flags
 * validator. Checked on the resolved templates of the matrix and the example app, with iam-simulate where a
 * policy decides.
 */

const { matrix, example } = synthesizedApps();
const stacks = [...resolveApp(matrix), ...resolveApp(example)];

const vpcFunctions = stacks.flatMap((s) => s.resolver.resourcesOfType('AWS::Lambda::Function')
  .filter(({ resource }) => resource.Metadata?.['cdk-zero-downtime:handler'] && (resource.Properties as any)?.VpcConfig)
  .map(({ logicalId }) => [`${s.name}/${logicalId}`, s, logicalId] as const));

/** The EC2 actions of AWSLambdaVPCAccessExecutionRole (Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC"). */
const VPC_ACCESS_ACTIONS = ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'];

describe('permissions AWS services need of the library\'s resources', () => {
  test('the matrix has VPC functions (SchemaMigration) to check', () => {
    expect(vpcFunctions.length).toBeGreaterThanOrEqual(2);
  });

  test.each(vpcFunctions)('%s (in a VPC) may do what AWSLambdaVPCAccessExecutionRole allows', async (_, stack, logicalId) => {
    const fn = stack.resolver.resourceProperties(logicalId) as any;
    const roleLogicalId = roleOf(stack, fn.Role);
    const policies = identityPolicies(stack, roleLogicalId) as Simulation['identityPolicies'];
    const denied: string[] = [];
    for (const action of VPC_ACCESS_ACTIONS) {
      const simulation: Simulation = {
        identityPolicies: policies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          action,
          principal: `arn:aws:sts::123456789012:assumed-role/${roleLogicalId}/function`,
          resource: { resource: '*', accountId: '123456789012' },
          contextVariables: {},
        },
      } as Simulation;
      const result = await runSimulation(simulation, {});
      if (result.resultType === 'error') throw new Error(`${action}: ${JSON.stringify(result.errors)}`);
      if (result.overallResult !== 'Allowed') denied.push(`${action}: ${result.overallResult}`);
    }
    expect(denied).toEqual([]);
  });

  test('AppConfig may invoke the flags validator only for this account\'s application (SourceAccount and SourceArn)', () => {
    const flags = stacks.find((s) => s.name === 'RolloutDefaults')!;
    const r = flags.resolver;
    const [validator] = r.resourcesOfType('AWS::Lambda::Function').filter(({ resource }) => resource.Metadata?.['cdk-zero-downtime:handler'] === 'flags-validator');
    const permissions = r.resourcesOfType('AWS::Lambda::Permission')
      .map(({ logicalId }) => r.resourceProperties(logicalId) as any)
      .filter((p) => p.Principal === 'appconfig.amazonaws.com');
    expect(permissions).toHaveLength(1);
    const [application] = r.resourcesOfType('AWS::AppConfig::Application');
    expect(permissions[0]).toMatchObject({
      FunctionName: r.getAtt(validator.logicalId, 'Arn'),
      SourceAccount: '123456789012',
      SourceArn: `arn:aws:appconfig:us-east-1:123456789012:application/${r.ref(application.logicalId)}*`,
    });
  });
});
