import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  DEFAULT_VARIANT_NAMESPACE, FLAG_ROLLOUT_KIND, FlagGuardConfig, FlagPhase, FlagRolloutConfig, STATE_MACHINE_KIND_METADATA_KEY, VariantAnalysisConfig,
} from '../../lambda/flag-rollout/flag-rollout-contract';
import { BooleanVariant, FlagDefinition, MultivariateFlag } from '../../lambda/flags/flags-contract';
import { GUARD_FAILURES_METRIC, LockConfig, METRIC_NAMESPACE, MetricDimension } from '../../lambda/shared/contracts';
import { addExecutionGuard } from '../private/execution-guard';
import { buildFlagRolloutDefinition, phaseLeaseSeconds } from '../private/flag-rollout-definition';
import { HandlerFunction } from '../private/handler-function';
import { acknowledge, iam5FunctionVersions, iam5Resource } from '../private/nag';
import { standardStateMachine } from '../private/standard-state-machine';
import { grantTaskTokenResponse } from '../private/task-response';
import { PropChecks, propError } from '../private/validation';
import { InconclusiveAction } from '../rollout/inconclusive-action';
import { FeatureFlags, FLAGS_PROFILE_NAME } from './feature-flags';
import { FlagRolloutPlan } from './flag-rollout-plan';

/** Props of GuardedFlagRollout. */
export interface GuardedFlagRolloutProps {
  /** The flags whose flag is rolled out (its AppConfig application, environment and profile). */
  readonly flags: FeatureFlags;
  /** Key of the flag to roll out; it must be in the flags document, enabled, and not serve the treatment by default. */
  readonly flagKey: string;
  /**
   * Value of the `Service` dimension of the application's variant metrics (lambda/flags/variant-metrics.ts), and
   * the service named in events.
   */
  readonly serviceName: string;
  /**
   * The variant rolled out: `on` for a boolean flag, a variant name for a multivariate flag. The control is the
   * flag's default.
   * @default 'on'
   */
  readonly treatment?: string;
  /**
   * The phases.
   * @default FlagRolloutPlan.percentage() - 0%, 5% for 2 days, 15% for 3 days, 50% for 1 week, 100%
   */
  readonly plan?: FlagRolloutPlan;
  /**
   * CloudWatch namespace the application emits its variant metrics to.
   * @default 'ZdtFlagVariants'
   */
  readonly metricsNamespace?: string;
  /**
   * The smallest regression worth rolling back: the treatment's errors per request at this many times the
   * control's. More than 1.
   * @default 2
   */
  readonly errorRateFactor?: number;
  /**
   * The treatment's p99 latency at this many times the control's is a regression. More than 1.
   * @default 1.5
   */
  readonly latencyFactor?: number;
  /**
   * The chance, in percent, that the rollout rolls back a flag whose treatment is no worse than its control, over
   * all its judged phases and tests together (each spends an equal share; the statistics of the traffic rollout's
   * sequential judge, valid at every look).
   * @default 1
   */
  readonly falseRollbackRatePercent?: number;
  /**
   * Requests the treatment must serve in a judged phase for it to pass; fewer at its end is INCONCLUSIVE.
   * @default 100
   */
  readonly minRequestsPerPhase?: number;
  /**
   * What an INCONCLUSIVE phase (too few treatment requests) does: ROLLBACK or PROCEED (PAUSE is not supported
   * here: give the phase `pause` instead).
   * @default InconclusiveAction.ROLLBACK
   */
  readonly onInconclusive?: InconclusiveAction;
  /**
   * How late the application's metrics may arrive in CloudWatch: a judgement reads whole minutes that ended at least
   * this long ago. Whole minutes.
   * @default Duration.minutes(2)
   */
  readonly metricDelay?: Duration;
  /**
   * How long the application's instances take to read a newly deployed document (the AppConfig Lambda extension
   * polls every 45 seconds by default); data of this time after a deployment is not counted. Whole minutes.
   * @default Duration.minutes(1)
   */
  readonly propagationDelay?: Duration;
  /**
   * How long a paused phase waits for promote before it is aborted (and the flag rolled back).
   * @default Duration.days(7)
   */
  readonly pauseTimeout?: Duration;
  /**
   * Topic that receives a notification for every flag rollout event.
   * @default - a new topic encrypted with a new KMS key
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * Event bus the rollout's events go to.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Retention of the state machine's and the handler's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

const DEFAULTS = {
  errorRateFactor: 2,
  latencyFactor: 1.5,
  falseRollbackRatePercent: 1,
  minRequestsPerPhase: 100,
  latencyMinRequests: 1000,
  metricDelay: Duration.minutes(2),
  propagationDelay: Duration.minutes(1),
  pauseTimeout: Duration.days(7),
};
/** Tests of a judged phase the false-rollback budget is split across: errors, and p99, treatment against control. */
const TESTS_PER_PHASE = 2;
const PERCENT = 100;

/**
 * A guarded rollout of one feature flag (LaunchDarkly's "guarded rollouts", on AWS AppConfig): a Step Functions
 * state machine moves the flag through its phases (by percentage of users or by segment), deploying each phase's
 * flags document to AppConfig with an immediate strategy, and judges each phase with the application's own metrics
 * split by flag and variant (`Requests`, `Errors`, `Latency`, dimensions Service / Flag / Variant, emitted with
 * VariantMetrics from cdk-zero-downtime-runtime): the treatment's users against the control's, with the sequential
 * statistics of the traffic rollout's judge. A regression rolls the flag back to its definition before the rollout;
 * phases may pause for an operator; every step is an EventBridge event and an SNS notification.
 *
 * Start it with `aws stepfunctions start-execution --state-machine-arn <stateMachine>` (or a release plan).
 */
export class GuardedFlagRollout extends Construct {
  /** The state machine that runs the rollout. */
  public readonly stateMachine: sfn.StateMachine;
  /** The handler that reads and writes the flags and judges the phases. */
  public readonly handler: lambda.IFunction;
  /** Topic that receives a notification for every flag rollout event. */
  public readonly notificationTopic: sns.ITopic;
  /** The immediate AppConfig deployment strategy each phase is deployed with. */
  public readonly deploymentStrategy: appconfig.DeploymentStrategy;
  /** The flag rolled out. */
  public readonly flagKey: string;
  /** The phases, one line each, for a person. */
  public readonly planDescription: string[];
  /** The phases' durations added up: the shortest the rollout takes (pauses and deployments not counted). */
  public readonly plannedDuration: Duration;
  /**
   * The longest the rollout can wait for operators: each phase with `pause` for pauseTimeout. A ReleasePlan counts it
   * in its gate check.
   * @internal
   */
  public readonly _pauseAllowance: Duration;
  /** Value of the `Service` dimension of the variant metrics and `detail.service` of the rollout's events. */
  public readonly serviceName: string;
  /**
   * Event bus the rollout's events go to.
   * @default - the account's default event bus
   */
  public readonly eventBus?: events.IEventBus;
  /**
   * The table of the flag rollouts' locks (the flags' own, one item per flag): one rollout of a flag at a time,
   * a second execution is refused naming the one that holds the lock. It also holds `zdt abort`'s request.
   */
  public readonly lockTable: dynamodb.ITable;
  /** The key of this flag's item in `lockTable`: `flag/<application id>/<configuration profile id>/<flag key>`. */
  public readonly lockKey: string;
  /** The handler that takes (and renews) the flag's lock: the traffic rollout's lock (lambda/rollout/lock.ts). */
  public readonly lockFunction: lambda.IFunction;
  /**
   * The execution guard: when an execution ends while it still holds the flag's lock (StopExecution, the state
   * machine's timeout, a failure its own Catch could not handle), an EventBridge rule on Step Functions' "Execution
   * Status Change" runs it; it deploys the flag's definition from before the rollout (the rollback's own action),
   * releases the lock and sends "Flag Rollout Rollback Triggered" / "Flag Rollout Rolled Back" (trigger
   * `execution-ended`). A failed try sends "Flag Rollout Guard Failed" and a GuardFailures datapoint, and is retried
   * until the lock would have expired.
   */
  public readonly guardFunction: lambda.IFunction;
  /**
   * In ALARM when the execution guard gave up restoring the flag after an execution ended holding its lock: the flag
   * may still serve the treatment to a share of users. Give it an action (page someone).
   */
  public readonly guardGaveUpAlarm: cloudwatch.IAlarm;

  constructor(scope: Construct, id: string, props: GuardedFlagRolloutProps) {
    super(scope, id);
    const treatment = props.treatment ?? BooleanVariant.ON;
    const plan = props.plan ?? FlagRolloutPlan.percentage();
    const onInconclusive = props.onInconclusive ?? InconclusiveAction.ROLLBACK;
    const errorRateFactor = props.errorRateFactor ?? DEFAULTS.errorRateFactor;
    const latencyFactor = props.latencyFactor ?? DEFAULTS.latencyFactor;
    const falseRollbackRatePercent = props.falseRollbackRatePercent ?? DEFAULTS.falseRollbackRatePercent;
    const minRequests = props.minRequestsPerPhase ?? DEFAULTS.minRequestsPerPhase;
    const metricDelay = props.metricDelay ?? DEFAULTS.metricDelay;
    const propagation = props.propagationDelay ?? DEFAULTS.propagationDelay;
    new PropChecks(this)
      .number('errorRateFactor', errorRateFactor, 1.01, 100, { integer: false })
      .number('latencyFactor', latencyFactor, 1.01, 100, { integer: false })
      .number('falseRollbackRatePercent', falseRollbackRatePercent, 0.001, 50, { integer: false })
      .number('minRequestsPerPhase', minRequests, 1, 1_000_000_000)
      .pattern('metricsNamespace', props.metricsNamespace, /^[^:][^:]{0,254}$/, '1-255 characters, no colon')
      .pattern('serviceName', props.serviceName, /^.{1,255}$/, '1-255 characters')
      .that(metricDelay.toSeconds() % 60 === 0, `metricDelay must be whole minutes, got ${metricDelay.toHumanString()}`)
      .that(propagation.toSeconds() % 60 === 0, `propagationDelay must be whole minutes, got ${propagation.toHumanString()}`)
      .that(onInconclusive !== InconclusiveAction.PAUSE, 'onInconclusive must be ROLLBACK or PROCEED (give a phase `pause: true` for a manual gate)');
    checkFlag(this, props.flags, props.flagKey, treatment);

    const phases: FlagPhase[] = plan._render(this);
    const judgeLagSeconds = metricDelay.toSeconds() + propagation.toSeconds();
    const pauseTimeout = props.pauseTimeout ?? DEFAULTS.pauseTimeout;
    this.flagKey = props.flagKey;
    this.serviceName = props.serviceName;
    this.eventBus = props.eventBus;
    this.lockTable = props.flags._registerGuardedRollout(this, props.flagKey);
    this.lockKey = `flag/${props.flags.applicationId}/${props.flags.configurationProfileId}/${props.flagKey}`;
    const lockConfig = this.lockConfig(props);
    this.lockFunction = this.createLock(props, lockConfig);
    this.planDescription = plan.describe();
    this.plannedDuration = Duration.seconds(phases.reduce((total, p) => total + p.durationSeconds, 0));
    this._pauseAllowance = Duration.seconds(phases.filter((p) => p.pause).length * pauseTimeout.toSeconds());
    const judged = phases.filter((p) => p.judge).length;

    this.deploymentStrategy = new appconfig.DeploymentStrategy(this, 'ImmediateDeployment', {
      rolloutStrategy: appconfig.RolloutStrategy.linear({ growthFactor: 100, deploymentDuration: Duration.minutes(0), finalBakeTime: Duration.minutes(0) }),
      description: `cdk-zero-downtime guarded rollout of ${props.flagKey}: each phase reaches every instance at once (the phases are the rollout)`,
    });
    const analysis: VariantAnalysisConfig = {
      namespace: props.metricsNamespace ?? DEFAULT_VARIANT_NAMESPACE,
      service: props.serviceName,
      errorRateFactor,
      latencyFactor,
      alphaPerTest: falseRollbackRatePercent / PERCENT / (judged * TESTS_PER_PHASE),
      minRequests,
      latencyMinRequests: DEFAULTS.latencyMinRequests,
      metricDelaySeconds: metricDelay.toSeconds(),
      propagationSeconds: propagation.toSeconds(),
    };
    const config: FlagRolloutConfig = {
      applicationId: props.flags.applicationId,
      environmentId: props.flags.environmentId,
      configurationProfileId: props.flags.configurationProfileId,
      configurationProfileName: FLAGS_PROFILE_NAME,
      deploymentStrategyId: this.deploymentStrategy.deploymentStrategyId,
      flagKey: props.flagKey,
      treatment,
      analysis,
    };
    const handler = new HandlerFunction(this, 'Handler', {
      handler: 'flag-rollout',
      description: `Deploys and judges the phases of the guarded rollout of flag ${props.flagKey} (cdk-zero-downtime)`,
      config,
      timeout: Duration.minutes(1),
      logRetention: props.logRetention,
    });
    this.grantAppConfig(handler, props.flags);
    handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    this.handler = handler;

    this.notificationTopic = props.notificationTopic ?? new sns.Topic(this, 'Notifications', {
      displayName: `cdk-zero-downtime rollout of flag ${props.flagKey}`.slice(0, 100),
      masterKey: new kms.Key(this, 'NotificationsKey', { enableKeyRotation: true, description: `Encrypts the notifications of the guarded rollout of ${props.flagKey}` }),
      enforceSSL: true,
    });

    this.stateMachine = standardStateMachine(this, {
      definition: buildFlagRolloutDefinition(this, {
        service: props.serviceName,
        flagKey: props.flagKey,
        phases,
        handler,
        topic: this.notificationTopic,
        eventBus: props.eventBus,
        lock: { table: this.lockTable, key: this.lockKey, fn: this.lockFunction },
        judgeLagSeconds,
        proceedOnInconclusive: onInconclusive === InconclusiveAction.PROCEED,
        pauseTimeout,
      }),
      comment: `cdk-zero-downtime: guarded rollout of flag ${props.flagKey} of ${props.serviceName}`,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.notificationTopic.grantPublish(this.stateMachine);
    const guardConfig: FlagGuardConfig = { flagRollout: config, lock: lockConfig, service: props.serviceName, eventBusName: props.eventBus?.eventBusName };
    const guard = addExecutionGuard(this, {
      handler: 'flag-guard',
      description: `cdk-zero-downtime: restores flag ${props.flagKey} when its guarded rollout's execution ends without cleaning up`,
      config: guardConfig,
      stateMachine: this.stateMachine,
      // The lock's longest lease: after it, the lock is free anyway and another rollout may own the flag.
      keepTrying: Duration.seconds(Math.max(...phases.map((p) => phaseLeaseSeconds(p, judgeLagSeconds, pauseTimeout)))),
      rolloutName: `a guarded rollout execution of flag ${props.flagKey}`,
      risk: `flag ${props.flagKey} may still serve ${treatment} to a share of users: check the deployed flags document`,
      eventBus: props.eventBus,
      logRetention: props.logRetention,
    });
    this.grantAppConfig(guard.fn, props.flags);
    this.lockTable.grant(guard.fn, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    this.guardFunction = guard.fn;
    this.guardGaveUpAlarm = guard.gaveUpAlarm;
    // Not a traffic rollout: `zdt rehearse` / `zdt status` pick traffic rollouts among an app's state machines by this.
    (this.stateMachine.node.defaultChild as CfnResource).addMetadata(STATE_MACHINE_KIND_METADATA_KEY, FLAG_ROLLOUT_KIND);
    acknowledge(this.stateMachine, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'SNS publishes to the encrypted notification topic with kms:GenerateDataKey (and its WithoutPlaintext variant), on the topic\'s key only');
    acknowledge(this.stateMachine, iam5FunctionVersions(handler), 'Step Functions invokes the handler function and its versions');
    acknowledge(this.stateMachine, iam5FunctionVersions(this.lockFunction), 'Step Functions invokes the lock function and its versions');
  }

  /** Lets `grantee` start the rollout (states:StartExecution). */
  public grantStartRollout(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /**
   * Lets `grantee` watch, promote and abort the rollout (`zdt status / promote / abort`): read its executions and
   * their history, answer a pause's task token, and set the abort flag on the flag's lock item.
   */
  public grantOperate(grantee: iam.IGrantable): iam.Grant {
    this.stateMachine.grantRead(grantee);
    grantTaskTokenResponse(grantee);
    return this.lockTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
  }

  /**
   * Failed attempts of the execution guard to restore the flag after an execution ended holding its lock (each is
   * retried; each also sends a "Flag Rollout Guard Failed" event). Above 0: the flag may serve the treatment with
   * nobody judging it.
   */
  public metricGuardFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: GUARD_FAILURES_METRIC,
      dimensionsMap: { [MetricDimension.SERVICE]: this.serviceName, [MetricDimension.FLAG]: this.flagKey },
      statistic: 'Sum',
      ...props,
    });
  }

  /** The flag's lock: lambda/rollout/lock.ts with this flag's item of the lock table as its "service". */
  private lockConfig(props: GuardedFlagRolloutProps): LockConfig {
    return {
      tableName: this.lockTable.tableName,
      service: this.lockKey,
      // The lock's result carries a recorded live color for traffic rollouts; a flag rollout does not read it.
      initialLiveColor: 'blue',
      subject: `Flag ${props.flagKey} (AppConfig application ${props.flags.applicationId}, configuration profile ${props.flags.configurationProfileId})`,
    };
  }

  private createLock(props: GuardedFlagRolloutProps, config: LockConfig): lambda.IFunction {
    const fn = new HandlerFunction(this, 'Lock', {
      handler: 'lock',
      description: `cdk-zero-downtime: the one-rollout-at-a-time lock of flag ${props.flagKey}`,
      config,
      logRetention: props.logRetention,
    });
    this.lockTable.grant(fn, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    return fn;
  }

  /**
   * The handler's AppConfig permissions, on this application, environment, profile and strategy only (Service
   * Authorization Reference, "Actions defined by AWS AppConfig").
   */
  private grantAppConfig(fn: lambda.Function, flags: FeatureFlags): void {
    const stack = Stack.of(this);
    const app = `application/${flags.applicationId}`;
    const arn = (resourceName: string) => stack.formatArn({ service: 'appconfig', resource: resourceName.split('/')[0], resourceName: resourceName.split('/').slice(1).join('/') });
    // Every AppConfig action also names the application as a required resource (Service Authorization Reference).
    const application = arn(app);
    const environment = arn(`${app}/environment/${flags.environmentId}`);
    const profile = arn(`${app}/configurationprofile/${flags.configurationProfileId}`);
    // Deployment numbers and hosted versions are AppConfig's, known only at run time: any of this environment / profile.
    const deployments = `${environment}/deployment/*`;
    const versions = `${profile}/hostedconfigurationversion/*`;
    acknowledge(fn.role!, iam5Resource(this, deployments), 'AppConfig numbers the deployments of this environment; the handler reads the ones it started');
    acknowledge(fn.role!, iam5Resource(this, versions), 'AppConfig numbers the hosted versions of this profile; the handler reads and writes them');
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['appconfig:ListDeployments', 'appconfig:GetDeployment'],
      resources: [application, environment, deployments],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['appconfig:GetHostedConfigurationVersion', 'appconfig:CreateHostedConfigurationVersion'],
      resources: [application, profile, versions],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['appconfig:StartDeployment'],
      resources: [application, environment, profile, arn(`deploymentstrategy/${this.deploymentStrategy.deploymentStrategyId}`)],
    }));
  }
}

/** The flag must be in the document, enabled, and the treatment one of its values that is not its default. */
function checkFlag(scope: Construct, flags: FeatureFlags, flagKey: string, treatment: string): void {
  const all = flags.document?.flags ?? {};
  const flag: FlagDefinition | undefined = Object.prototype.hasOwnProperty.call(all, flagKey) ? all[flagKey] : undefined;
  if (!flag) throw propError(scope, `flagKey "${flagKey}" is not a flag of ${flags.node.path} (flags: ${Object.keys(all).join(', ') || 'none'})`);
  if (!flag.enabled) throw propError(scope, `flagKey "${flagKey}" is disabled in ${flags.node.path}: a disabled flag serves its default to everyone whatever the rollout sets; enable it`);
  const variants = (flag as MultivariateFlag).variants;
  if (variants !== undefined) {
    if (!Object.prototype.hasOwnProperty.call(variants, treatment)) throw propError(scope, `treatment "${treatment}" is not a variant of flag "${flagKey}" (variants: ${Object.keys(variants).join(', ')})`);
    if (flag.default === treatment) throw propError(scope, `treatment "${treatment}" is the default of flag "${flagKey}": nothing to roll out`);
  } else {
    if (treatment !== BooleanVariant.ON) throw propError(scope, `treatment must be "on" for the boolean flag "${flagKey}", got "${treatment}"`);
    if (flag.default === true) throw propError(scope, `flag "${flagKey}" is on by default: nothing to roll out`);
  }
}
