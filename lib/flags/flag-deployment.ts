import { Duration, Token } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';

/** Options shared by every flag deployment. */
export interface FlagDeploymentBakeOptions {
  /**
   * How long AppConfig keeps watching the rollback alarms after the new flags reach 100% of the targets; an alarm
   * in that time rolls the flags back. Whole minutes, up to 24 hours.
   * @default Duration.minutes(10) (the bake of AppConfig's predefined strategies)
   */
  readonly finalBake?: Duration;
}

/** Options of `FlagDeployment.linear()`. */
export interface LinearFlagDeploymentOptions extends FlagDeploymentBakeOptions {
  /** Share of the targets (application instances polling AppConfig) that get the new flags at each step, 1-100. */
  readonly stepPercent: number;
  /** Time between steps; whole minutes. The whole deployment (steps x interval) may last up to 24 hours. */
  readonly stepInterval: Duration;
}

/** Options of `FlagDeployment.exponential()`. */
export interface ExponentialFlagDeploymentOptions extends FlagDeploymentBakeOptions {
  /**
   * Share of the targets in the first step, 1-100; each further step doubles it (AppConfig's `G * 2^N`).
   * @default 10
   */
  readonly initialPercent?: number;
  /**
   * Time for the whole deployment; whole minutes, up to 24 hours.
   * @default Duration.minutes(20)
   */
  readonly duration?: Duration;
}

/** What a flag deployment renders into once bound to a FeatureFlags construct. */
export interface FlagDeploymentConfig {
  /** The factory that made the deployment (allAtOnce, linear, exponential). */
  readonly kind: string;
  /** AppConfig's rollout strategy (growth factor, type, duration, final bake). */
  readonly rolloutStrategy: appconfig.RolloutStrategy;
}

/** Whole minutes up to this: AppConfig's limit of DeploymentDurationInMinutes and FinalBakeTimeInMinutes (24 hours). */
const MAX_MINUTES = 1440;
/** The bake of AppConfig's predefined strategies (AppConfig.AllAtOnce, AppConfig.Canary10Percent20Minutes). */
const DEFAULT_FINAL_BAKE = Duration.minutes(10);
/** AppConfig's recommended production strategy, AppConfig.Canary10Percent20Minutes: 10% growth, 20 minutes. */
const DEFAULT_EXPONENTIAL_PERCENT = 10;
const DEFAULT_EXPONENTIAL_DURATION = Duration.minutes(20);
const PERCENT_ALL = 100;

/**
 * How AppConfig hands a new version of the flags to the application's instances: all at once, in linear steps,
 * or in doubling steps, then a final bake. During the deployment and the bake AppConfig watches the FeatureFlags'
 * rollback alarms and rolls the flags back to the previous version if one fires.
 *
 * Like RolloutStrategy: a value object made by static factories and bound by the construct that uses it, which
 * validates it with the construct's path in every message.
 */
export class FlagDeployment {
  /** Every target at once, then the final bake (the alarms are watched only during the bake). */
  public static allAtOnce(options: FlagDeploymentBakeOptions = {}): FlagDeployment {
    return new FlagDeployment('allAtOnce', appconfig.GrowthType.LINEAR, PERCENT_ALL, Duration.minutes(0), options.finalBake, []);
  }

  /** `stepPercent` more of the targets every `stepInterval` (e.g. 20% every 6 minutes: 30 minutes), then the final bake. */
  public static linear(options: LinearFlagDeploymentOptions): FlagDeployment {
    const problems: string[] = [];
    checkPercent('stepPercent', options.stepPercent, problems);
    checkMinutes('stepInterval', options.stepInterval, 1, problems);
    let duration = Duration.minutes(0);
    if (problems.length === 0 && !Token.isUnresolved(options.stepPercent) && !isUnresolved(options.stepInterval)) {
      const steps = Math.ceil(PERCENT_ALL / options.stepPercent);
      const minutes = steps * options.stepInterval.toMinutes();
      if (minutes > MAX_MINUTES) {
        problems.push(`${steps} steps of ${options.stepInterval.toHumanString()} last ${minutes} minutes, expected at most ${MAX_MINUTES} (24 hours)`);
      } else {
        duration = Duration.minutes(minutes);
      }
    }
    return new FlagDeployment('linear', appconfig.GrowthType.LINEAR, options.stepPercent, duration, options.finalBake, problems);
  }

  /** A first step of `initialPercent` of the targets, doubling at each step over `duration`, then the final bake. */
  public static exponential(options: ExponentialFlagDeploymentOptions = {}): FlagDeployment {
    const problems: string[] = [];
    const percent = options.initialPercent ?? DEFAULT_EXPONENTIAL_PERCENT;
    const duration = options.duration ?? DEFAULT_EXPONENTIAL_DURATION;
    checkPercent('initialPercent', percent, problems);
    checkMinutes('duration', duration, 0, problems);
    return new FlagDeployment('exponential', appconfig.GrowthType.EXPONENTIAL, percent, duration, options.finalBake, problems);
  }

  private constructor(
    /** Name of the factory that made this deployment, for messages. */
    public readonly kind: string,
    private readonly growthType: appconfig.GrowthType,
    private readonly growthFactor: number,
    private readonly duration: Duration,
    private readonly finalBake: Duration | undefined,
    private readonly factoryProblems: readonly string[],
  ) {}

  /**
   * Validates the deployment and renders AppConfig's rollout strategy. Throws an error that names the factory, the
   * option, the value given and what is allowed, prefixed with `path` (the construct path).
   */
  public bind(path: string): FlagDeploymentConfig {
    const problems = [...this.factoryProblems];
    const finalBake = this.finalBake ?? DEFAULT_FINAL_BAKE;
    checkMinutes('finalBake', finalBake, 0, problems);
    if (problems.length > 0) {
      throw new Error(`${path}: invalid deployment FlagDeployment.${this.kind}(): ${problems.join('; ')}`);
    }
    const props: appconfig.RolloutStrategyProps = {
      growthFactor: this.growthFactor,
      deploymentDuration: this.duration,
      finalBakeTime: finalBake,
    };
    return {
      kind: this.kind,
      rolloutStrategy: this.growthType === appconfig.GrowthType.EXPONENTIAL
        ? appconfig.RolloutStrategy.exponential(props)
        : appconfig.RolloutStrategy.linear(props),
    };
  }
}

function isUnresolved(d: Duration): boolean {
  return Token.isUnresolved(d.toSeconds({ integral: false }));
}

function checkPercent(option: string, value: number, problems: string[]): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < 1 || value > PERCENT_ALL) problems.push(`${option} must be an integer from 1 to 100, got ${value}`);
}

function checkMinutes(option: string, value: Duration, minMinutes: number, problems: string[]): void {
  if (isUnresolved(value)) return;
  const minutes = value.toSeconds({ integral: false }) / 60;
  if (!Number.isInteger(minutes) || minutes < minMinutes || minutes > MAX_MINUTES) {
    problems.push(`${option} must be whole minutes from ${minMinutes} to ${MAX_MINUTES} (24 hours), got ${value.toHumanString()}`);
  }
}
