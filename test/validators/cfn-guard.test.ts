import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { App, IPolicyValidationContextBeta1, IPolicyValidationPluginBeta1, PolicyValidationPluginReportBeta1, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { BlueGreenRouting, ProgressiveRollout } from '../../lib';
import { BlueGreenDatabase } from '../../lib/database/blue-green-database';
import { DatabaseSource } from '../../lib/database/database-source';
import { SchemaMigration } from '../../lib/database/schema-migration';
import { FeatureFlags } from '../../lib/flags/feature-flags';

/**
 * AWS Control Tower's proactive controls (cfn-guard rules shipped with @cdklabs/cdk-validator-cfnguard, which also
 * ships the cfn-guard binary) on the library's own resources. Each rule they fail is documented in the README
 * ("Compliance: Control Tower controls") with why and how a user who enforces it configures the construct; this
 * test keeps that list true both ways.
 */

/** The rules the library's resources fail by design, as documented in the README. */
const DOCUMENTED: Record<string, string> = {
  cloudwatch_alarm_action_check: 'CT.CLOUDWATCH.PR.1',
  cloudwatch_log_group_retention_period_check: 'CT.CLOUDWATCH.PR.2',
  cloudwatch_log_group_encrypted_check: 'CT.CLOUDWATCH.PR.3',
  lambda_inside_vpc_check: 'CT.LAMBDA.PR.3',
  kms_create_grant_aws_service_check: 'CT.KMS.PR.3',
  lambda_function_public_access_prohibited_check: 'CT.LAMBDA.PR.2',
};

/** The library's constructs in one stack: a rollout with its routing, feature flags, a migration, an RDS blue/green. */
function libraryApp(): App {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Library', { env: { region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc });
  const listener = loadBalancer.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  const rollout = new ProgressiveRollout(stack, 'Rollout', { routing: new BlueGreenRouting(stack, 'Routing', { vpc, loadBalancer, listener }), serviceName: 'web' });
  new FeatureFlags(stack, 'Flags', { flags: { version: 1, flags: { checkout: { enabled: true, default: false } } }, rollbackAlarms: rollout.alarms });
  new SchemaMigration(stack, 'Migration', { vpc, secret: new secretsmanager.Secret(stack, 'Secret') });
  new BlueGreenDatabase(stack, 'Upgrade', { source: DatabaseSource.fromArn('arn:aws:rds:us-east-1:123456789012:db:orders'), targetEngineVersion: '17.2' });
  Validations.of(app).addPlugins(new ApplicableControlTowerRules());
  return app;
}

/**
 * CfnGuardValidator with the Control Tower rules that name none of the synthesized templates' resource types left
 * out: cfn-guard evaluates those to SKIP (each selects `Resources.*[ Type == '<its types>' ]` and has nothing to check
 * when that is empty), so leaving them out changes no finding. cfn-guard's time grows with rules x template size
 * (about 0.06 s of CPU per rule on this template): all 237 rules took ~16 s of CPU, the ~45 that can apply ~4 s.
 * A rule that names no resource type at all is kept.
 */
class ApplicableControlTowerRules implements IPolicyValidationPluginBeta1 {
  readonly name = 'cdk-validator-cfnguard';

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const types = new Set(context.templatePaths.flatMap((path) =>
      Object.values<{ Type: string }>(JSON.parse(readFileSync(path, 'utf8')).Resources ?? {}).map((r) => r.Type)));
    const rulesDir = join(dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules', 'control-tower', 'cfn-guard');
    const absent: string[] = [];
    for (const service of readdirSync(rulesDir)) {
      for (const file of readdirSync(join(rulesDir, service))) {
        const named = readFileSync(join(rulesDir, service, file), 'utf8').match(/AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g) ?? [];
        if (named.length > 0 && !named.some((type) => types.has(type))) absent.push(parse(file).name);
      }
    }
    return new CfnGuardValidator({ disabledRules: absent }).validate(context);
  }
}

/** Library constructs (not the test's VPC, load balancer or secret). */
const LIBRARY_PATHS = /^Library\/(Rollout|Routing|Flags|Migration|Upgrade|ZdtLiveRouteProvider)\//;

describe('cfn-guard Control Tower controls on the library\'s resources', () => {
  test('every control the library\'s resources fail is one the README documents, and each documented one still applies', () => {
    let message = '';
    try {
      libraryApp().synth();
    } catch (err) {
      message = (err as Error).message;
    }
    const reportFile = /A copy of this report can be found in: (\S+)/.exec(message)?.[1];
    expect(reportFile).toBeDefined();
    const report = JSON.parse(readFileSync(reportFile!, 'utf8'));
    const failed = new Map<string, string[]>();
    for (const plugin of report.pluginReports) {
      for (const v of plugin.violations) {
        const paths = v.violatingConstructs?.map((c: any) => c.constructPath) ?? v.violatingResources.map((r: any) => r.locations?.[0] ?? r.resourceLogicalId);
        const ours = paths.filter((p: string) => LIBRARY_PATHS.test(p));
        if (ours.length > 0) failed.set(v.ruleName, [...failed.get(v.ruleName) ?? [], ...ours]);
      }
    }
    const undocumented = [...failed.keys()].filter((rule) => !(rule in DOCUMENTED)).map((rule) => `${rule}: ${failed.get(rule)!.join(', ')}`);
    expect(undocumented).toEqual([]);
    expect([...failed.keys()].sort()).toEqual(Object.keys(DOCUMENTED).sort());
    const readme = readFileSync(`${__dirname}/../../README.md`, 'utf8');
    for (const control of Object.values(DOCUMENTED)) expect(readme).toContain(control);
  });
});
