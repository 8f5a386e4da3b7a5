import { createHash } from 'node:crypto';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { FLAGS_JSON_SCHEMA, FlagsDocument, validateFlagsDocument } from '../../lambda/flags/flags-contract';
import { HandlerFunction } from '../private/handler-function';
import { acknowledge } from '../private/nag';
import { PropChecks, propError } from '../private/validation';
import { StateTable } from '../../lambda/shared/contracts';
import { FlagDeployment } from './flag-deployment';

/** Props of FeatureFlags. */
export interface FeatureFlagsProps {
  /**
   * The flags document, as JSON (`{ version: 1, flags: { ... } }`, the format lib/flags/README.md describes).
   * Checked at synth: every problem is reported with its JSON path. In TypeScript, type it with `FlagsDocument`
   * from `cdk-zero-downtime-runtime` to get the checks at compile time too.
   */
  readonly flags: { [key: string]: any };
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
   * Alarms that roll the flags back to the previous version when one goes into ALARM while AppConfig deploys a new
   * version or bakes it. Give it the alarms that roll back a traffic shift (`rollout.alarms`, or a ColorHealthAlarms
   * `composite`) so that a bad flag change is undone by the same signals as a bad release.
   *
   * AppConfig also rolls back when a monitored alarm is INSUFFICIENT_DATA, which a metric alarm is when it was just
   * created (in the same deploy as the flags' first deployment) or when its metric has no data (a quiet color). So
   * AppConfig watches one composite alarm of this construct, `rollbackAlarm`, whose rule is `ALARM(a) OR ALARM(b)
   * ...` over these alarms: it is in ALARM exactly when one of them is, and OK otherwise, whatever data they have.
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

/**
 * Alarms in the rollback composite: CloudWatch takes at most 100 alarms in a composite alarm's rule (CloudWatch
 * User Guide, "CloudWatch service quotas": alarms referenced in a composite alarm rule).
 */
export const MAX_ROLLBACK_ALARMS = 100;
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
  /**
   * The flags document, as deployed (TypeScript only; other languages read the prop they passed).
   * @jsii ignore
   */
  public readonly document: FlagsDocument;
  /** The AppConfig application. */
  public readonly application: appconfig.Application;
  /** The AppConfig environment, watching the rollback alarms. */
  public readonly environment: appconfig.Environment;
  /** The hosted configuration profile holding the flags document. */
  public readonly configuration: appconfig.HostedConfiguration;
  /** The AppConfig deployment strategy the flags are deployed with. */
  public readonly deploymentStrategy: appconfig.DeploymentStrategy;
  /** The role AppConfig assumes to read the rollback alarms (absent without rollbackAlarms). */
  public readonly monitorRole?: iam.Role;
  /**
   * The one alarm AppConfig watches: ALARM when one of `rollbackAlarms` is in ALARM, OK otherwise (their missing
   * data included). Absent without rollbackAlarms.
   */
  public readonly rollbackAlarm?: cloudwatch.CompositeAlarm;
  /** The Lambda validator AppConfig runs before it deploys a version of the flags (validateFlagsDocument). */
  public readonly validator: lambda.IFunction;
  /** Id of the AppConfig application. */
  public readonly applicationId: string;
  /** Id of the AppConfig environment. */
  public readonly environmentId: string;
  /** Id of the configuration profile that holds the flags. */
  public readonly configurationProfileId: string;
  /** ARN of this environment's configuration of this profile: the resource of grantRead's permissions. */
  public readonly configurationArn: string;
  /**
   * Path of the flags on the AppConfig Lambda extension (`http://localhost:2772` + this path), by ids:
   * `/applications/<id>/environments/<id>/configurations/<id>`.
   */
  public readonly extensionPath: string;

  /** The flag rollouts' lock table, made by the first GuardedFlagRollout. */
  private rolloutLocks?: dynamodb.Table;
  /** Construct path of the GuardedFlagRollout of each flag. */
  private readonly guardedRollouts = new Map<string, string>();

  constructor(scope: Construct, id: string, props: FeatureFlagsProps) {
    super(scope, id);
    this.document = props.flags as FlagsDocument;
    const alarms = props.rollbackAlarms ?? [];
    const description = props.description ?? 'Feature flags managed by cdk-zero-downtime';

    const checks = new PropChecks(this)
      .pattern('applicationName', props.applicationName, APPCONFIG_NAME, '1-64 characters')
      .pattern('environmentName', props.environmentName, APPCONFIG_NAME, '1-64 characters')
      .that(description.length <= MAX_DESCRIPTION_CHARS,
        `description must be at most ${MAX_DESCRIPTION_CHARS} characters, got ${description.length}`)
      .that(alarms.length <= MAX_ROLLBACK_ALARMS,
        `rollbackAlarms may hold at most ${MAX_ROLLBACK_ALARMS} alarms (CloudWatch's limit of alarms in the rule of the composite alarm AppConfig watches), got ${alarms.length}`);
    for (const problem of validateFlagsDocument(this.document)) checks.that(false, `prop flags is not a valid flags document: ${problem}`);

    const strategy = (props.deployment ?? FlagDeployment.exponential()).bind(this.node.path);

    this.application = new appconfig.Application(this, 'Application', {
      applicationName: props.applicationName,
      description,
    });

    let monitors: appconfig.Monitor[] | undefined;
    if (alarms.length > 0) {
      // AppConfig User Guide, "Monitoring deployments for automatic rollback": a monitored alarm in ALARM *or
      // INSUFFICIENT_DATA* rolls the deployment back. CloudWatch User Guide, "Composite alarms": ALARM(x) is TRUE
      // only while x is in ALARM, and a composite whose rule is FALSE is OK. So the composite below turns the
      // children's missing data (new alarms, quiet metrics) into OK and rolls back only on a real ALARM.
      this.rollbackAlarm = new cloudwatch.CompositeAlarm(this, 'RollbackAlarm', {
        alarmRule: cloudwatch.AlarmRule.anyOf(...alarms.map((alarm) => cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM))),
        alarmDescription: 'cdk-zero-downtime feature flags: ALARM when one of the rollback alarms is in ALARM (AppConfig rolls the flags back); missing data is OK',
        // Actions stay enabled: AppConfig does not roll back on an alarm whose actions are disabled (same page).
      });
      this.monitorRole = this.createMonitorRole();
      monitors = [appconfig.Monitor.fromCloudWatchAlarm(this.rollbackAlarm, this.monitorRole)];
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

    const validator = new HandlerFunction(this, 'Validator', {
      handler: 'flags-validator',
      description: 'Validates a version of the feature flags before AWS AppConfig deploys it (cdk-zero-downtime)',
      config: {},
      timeout: VALIDATOR_TIMEOUT,
    });
    // AppConfig invokes the validator as a service principal: without a source condition any AppConfig
    // application of any account could make it run (the confused deputy, IAM User Guide "The confused deputy
    // problem"; AppConfig User Guide, "Cross-service confused deputy prevention"). Only this account's
    // application may. LambdaValidator.fromFunction keeps a permission of this id rather than adding its own.
    validator.addPermission('AppConfigPermission', {
      principal: new iam.ServicePrincipal('appconfig.amazonaws.com'),
      sourceAccount: Stack.of(this).account,
      // Application ids are 7 characters: the prefix matches this application and its configuration profiles only.
      sourceArn: Stack.of(this).formatArn({ service: 'appconfig', resource: 'application', resourceName: `${this.application.applicationId}*` }),
    });

    this.validator = validator;
    const content = serialize(this.document);
    this.configuration = new appconfig.HostedConfiguration(this, 'Flags', {
      application: this.application,
      name: FLAGS_PROFILE_NAME,
      description,
      type: appconfig.ConfigurationType.FREEFORM,
      content: appconfig.ConfigurationContent.fromInlineJson(content),
      // Two validators, AppConfig's maximum: the JSON Schema (shape), and validateFlagsDocument in a Lambda (every
      // rule the schema cannot express), so a version created in the console or with the API gets the synth's check.
      validators: [appconfig.JsonSchemaValidator.fromInline(JSON.stringify(FLAGS_JSON_SCHEMA)), appconfig.LambdaValidator.fromFunction(validator)],
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
   * Registers the GuardedFlagRollout of `flagKey` and returns the table of this profile's flag rollout locks (one
   * item per flag: one rollout at a time per flag, as lambda/rollout/lock.ts keeps it for a service), made with the
   * first. A second GuardedFlagRollout of the same flag is refused, naming both construct paths.
   * @internal
   */
  public _registerGuardedRollout(rollout: Construct, flagKey: string): dynamodb.ITable {
    const other = this.guardedRollouts.get(flagKey);
    if (other !== undefined) {
      throw propError(rollout, `flagKey "${flagKey}" of ${this.node.path} is already rolled out by the GuardedFlagRollout ${other}: `
        + 'one rollout at a time per flag (two state machines would overwrite each other\'s phases and rollbacks); keep one of them');
    }
    this.guardedRollouts.set(flagKey, rollout.node.path);
    // Locks only: nothing in the table outlives a rollout (an expired lock is free), so it goes with the stack.
    this.rolloutLocks ??= new dynamodb.Table(this, 'RolloutLocks', {
      partitionKey: { name: StateTable.PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    return this.rolloutLocks;
  }

  /**
   * The role AppConfig assumes to read the rollback composite's state. CloudWatch returns composite alarms only to
   * cloudwatch:DescribeAlarms on "*" (it has no other permission).
   */
  private createMonitorRole(): iam.Role {
    const role = new iam.Role(this, 'MonitorRole', {
      assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com'),
      description: 'Lets AWS AppConfig read the rollback alarms of cdk-zero-downtime feature flags',
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));
    acknowledge(role, 'AwsSolutions-IAM5[Resource::*]',
      'AppConfig reads the rollback composite alarm with cloudwatch:DescribeAlarms, which returns composite alarms only to a permission on "*"; the role has no other permission');
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
