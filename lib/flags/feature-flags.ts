import { createHash } from 'node:crypto';
import { Duration, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FLAGS_JSON_SCHEMA, FlagsDocument, validateFlagsDocument } from '../../lambda/flags/flags-contract';
import { HandlerFunction } from '../private/handler-function';
import { acknowledge } from '../private/nag';
import { PropChecks } from '../private/validation';
import { FlagDeployment } from './flag-deployment';

export interface FeatureFlagsProps {
  /**
   * The flags: a FlagsDocument (`{ version: 1, flags: { ... } }`). Checked at synth with validateFlagsDocument:
   * every problem is reported with its JSON path.
   */
  readonly flags: FlagsDocument;
  /**
   * Name of the AppConfig application, 1-64 characters.
   * @default - a name generated from the construct path
   */
  readonly applicationName?: string;
  /**
   * Name of the AppConfig environment, 1-64 characters.
   * @default - a name generated from the construct path
   */
  readonly environmentName?: string;
  /**
   * Alarms AppConfig watches while it deploys a new version of the flags and during the final bake: one in ALARM
   * (or INSUFFICIENT_DATA) rolls the flags back to the previous version. Give it the alarms that roll back a traffic
   * shift (`rollout.alarms`, or a ColorHealthAlarms `composite`) so that a bad flag change is undone by the same
   * signals as a bad release. At most 5 (AppConfig's limit of monitors per environment).
   * @default - no alarms: a deployment is never rolled back automatically
   */
  readonly rollbackAlarms?: cloudwatch.IAlarm[];
  /**
   * How AppConfig hands a new version of the flags to the application's instances.
   * @default FlagDeployment.exponential() - 10% of the targets first, doubling, over 20 minutes, then a
   * 10-minute bake (AppConfig.Canary10Percent20Minutes, AppConfig's recommendation for production)
   */
  readonly deployment?: FlagDeployment;
  /**
   * Description of the application, environment, configuration profile and deployments, up to 1,024 characters.
   * @default - a description naming cdk-zero-downtime
   */
  readonly description?: string;
}

/** AppConfig watches at most this many alarms (monitors) per environment. */
export const MAX_ROLLBACK_ALARMS = 5;
/** Name of the configuration profile that holds the flags. */
export const FLAGS_PROFILE_NAME = 'flags';
/** AppConfig names (application, environment): 1-64 characters. */
const APPCONFIG_NAME = /^[\s\S]{1,64}$/;
/** AppConfig descriptions: up to 1,024 characters. */
const MAX_DESCRIPTION_CHARS = 1024;
/** Hex characters of the document's SHA-256 in the hosted configuration's version label. */
const VERSION_LABEL_HASH_CHARS = 16;
/** What an application needs to read the flags (AppConfigData). */
/** The check takes milliseconds; this bounds a stuck invocation of the validator. */
const VALIDATOR_TIMEOUT = Duration.seconds(15);
const READ_ACTIONS = ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'];

/**
 * Feature flags with user segments and percentage rollouts, stored in AWS AppConfig and rolled back by the same
 * alarms that roll back a traffic shift.
 *
 * Creates an AppConfig application, an environment that watches `rollbackAlarms` (through a role that may only
 * describe those alarms), a hosted configuration profile holding the flags document (freeform JSON, validated by
 * the document's JSON Schema before a version is deployed), and a deployment of the document with `deployment`'s strategy.
 * Applications read it with the AppConfig Lambda extension or the AppConfigData API (grantRead) and evaluate it with
 * `evaluate` / `isEnabled`.
 */
export class FeatureFlags extends Construct {
  /** The flags document, as deployed. */
  public readonly document: FlagsDocument;
  public readonly application: appconfig.Application;
  public readonly environment: appconfig.Environment;
  public readonly configuration: appconfig.HostedConfiguration;
  public readonly deploymentStrategy: appconfig.DeploymentStrategy;
  /** The role AppConfig assumes to read the rollback alarms (absent without rollbackAlarms). */
  public readonly monitorRole?: iam.Role;
  /** The Lambda validator AppConfig runs before it deploys a version of the flags (validateFlagsDocument). */
  public readonly validator: HandlerFunction;
  public readonly applicationId: string;
  public readonly environmentId: string;
  public readonly configurationProfileId: string;
  /** ARN of this environment's configuration of this profile: the resource of grantRead's permissions. */
  public readonly configurationArn: string;
  /**
   * Path of the flags on the AppConfig Lambda extension (`http://localhost:2772` + this path), by ids:
   * `/applications/<id>/environments/<id>/configurations/<id>`.
   */
  public readonly extensionPath: string;

  constructor(scope: Construct, id: string, props: FeatureFlagsProps) {
    super(scope, id);
    this.document = props.flags;
    const alarms = props.rollbackAlarms ?? [];
    const description = props.description ?? 'Feature flags managed by cdk-zero-downtime';

    const checks = new PropChecks(this)
      .pattern('applicationName', props.applicationName, APPCONFIG_NAME, '1-64 characters')
      .pattern('environmentName', props.environmentName, APPCONFIG_NAME, '1-64 characters')
      .that(description.length <= MAX_DESCRIPTION_CHARS,
        `description must be at most ${MAX_DESCRIPTION_CHARS} characters, got ${description.length}`)
      .that(alarms.length <= MAX_ROLLBACK_ALARMS,
        `rollbackAlarms may hold at most ${MAX_ROLLBACK_ALARMS} alarms (AppConfig watches at most ${MAX_ROLLBACK_ALARMS} per environment; combine them in a composite alarm), got ${alarms.length}`);
    for (const problem of validateFlagsDocument(props.flags)) checks.that(false, `prop flags is not a valid flags document: ${problem}`);

    const strategy = (props.deployment ?? FlagDeployment.exponential()).bind(this.node.path);

    this.application = new appconfig.Application(this, 'Application', {
      applicationName: props.applicationName,
      description,
    });

    let monitors: appconfig.Monitor[] | undefined;
    if (alarms.length > 0) {
      this.monitorRole = this.createMonitorRole(alarms);
      monitors = alarms.map((alarm) => appconfig.Monitor.fromCloudWatchAlarm(alarm, this.monitorRole));
    }
    this.environment = new appconfig.Environment(this, 'Environment', {
      application: this.application,
      environmentName: props.environmentName,
      description,
      monitors,
    });

    this.deploymentStrategy = new appconfig.DeploymentStrategy(this, 'DeploymentStrategy', {
      rolloutStrategy: strategy.rolloutStrategy,
      description: `cdk-zero-downtime feature flags: FlagDeployment.${strategy.kind}()`,
    });

    this.validator = new HandlerFunction(this, 'Validator', {
      handler: 'flags-validator',
      description: 'Validates a version of the feature flags before AWS AppConfig deploys it (cdk-zero-downtime)',
      config: {},
      timeout: VALIDATOR_TIMEOUT,
    });

    const content = serialize(props.flags);
    this.configuration = new appconfig.HostedConfiguration(this, 'Flags', {
      application: this.application,
      name: FLAGS_PROFILE_NAME,
      description,
      type: appconfig.ConfigurationType.FREEFORM,
      content: appconfig.ConfigurationContent.fromInlineJson(content),
      // Two validators, AppConfig's maximum: the JSON Schema (shape), and validateFlagsDocument in a Lambda (every
      // rule the schema cannot express), so a version created in the console or with the API gets the synth's check.
      validators: [appconfig.JsonSchemaValidator.fromInline(JSON.stringify(FLAGS_JSON_SCHEMA)), appconfig.LambdaValidator.fromFunction(this.validator)],
      versionLabel: `sha256-${createHash('sha256').update(content).digest('hex').slice(0, VERSION_LABEL_HASH_CHARS)}`,
      deploymentStrategy: this.deploymentStrategy,
      deployTo: [this.environment],
    });

    this.applicationId = this.application.applicationId;
    this.environmentId = this.environment.environmentId;
    this.configurationProfileId = this.configuration.configurationProfileId;
    this.configurationArn = Stack.of(this).formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: `${this.applicationId}/environment/${this.environmentId}/configuration/${this.configurationProfileId}`,
    });
    this.extensionPath = `/applications/${this.applicationId}/environments/${this.environmentId}/configurations/${this.configurationProfileId}`;
  }

  /**
   * Lets `grantee` read the flags of this environment and profile only (appconfig:StartConfigurationSession and
   * appconfig:GetLatestConfiguration), as the AppConfig Lambda extension and the AppConfigData API need.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: READ_ACTIONS, resourceArns: [this.configurationArn] });
  }

  /**
   * The role AppConfig assumes to read the alarms' states. cloudwatch:DescribeAlarms is scoped to the alarms when
   * they are all metric alarms of this app; CloudWatch returns composite alarms (and AppConfig cannot tell an
   * imported alarm's kind) only to a DescribeAlarms permission on "*".
   */
  private createMonitorRole(alarms: cloudwatch.IAlarm[]): iam.Role {
    const role = new iam.Role(this, 'MonitorRole', {
      assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com'),
      description: 'Lets AWS AppConfig read the rollback alarms of cdk-zero-downtime feature flags',
    });
    const scoped = alarms.every((alarm) => alarm instanceof cloudwatch.Alarm);
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: scoped ? alarms.map((alarm) => alarm.alarmArn) : ['*'],
    }));
    if (!scoped) {
      acknowledge(role, 'AwsSolutions-IAM5[Resource::*]',
        'AppConfig reads composite (or imported) rollback alarms with cloudwatch:DescribeAlarms, which returns composite alarms only to a permission on "*"; the role has no other permission');
    }
    return role;
  }
}

/** The document as JSON; a document that cannot be serialized is reported by validateFlagsDocument. */
function serialize(doc: FlagsDocument): string {
  try {
    return JSON.stringify(doc) ?? '{}';
  } catch {
    return '{}';
  }
}
