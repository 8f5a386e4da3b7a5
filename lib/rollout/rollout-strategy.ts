import { Duration, Token } from 'aws-cdk-lib';
import { AlbLimits, PlannedStep } from '../../lambda/shared/contracts';

/** One step of a rollout. */
export interface RolloutStep {
  /**
   * Share of production traffic the new color gets in this step, 0-100.
   * @default 0 (only the step's segments reach the new color)
   */
  readonly percent?: number;
  /**
   * User segments (values of the segment header, e.g. `internal`, `beta`) whose requests all go to the new color
   * during this step, in addition to `percent`. Segments are cumulative: list every segment that should be on.
   * @default - none
   */
  readonly segments?: string[];
  /**
   * How long the step bakes: the judge must find the new color healthy for this long before the next step.
   * @default - the strategy's `bake`
   */
  readonly bake?: Duration;
  /**
   * Wait for an operator after the bake: `promote` continues, `abort` rolls back.
   * @default false
   */
  readonly pause?: boolean;
}

/** Options shared by every strategy factory. */
export interface StrategyBakeOptions {
  /**
   * How long each step bakes before the next one.
   * @default Duration.minutes(5)
   */
  readonly bake?: Duration;
}

/** Options of `RolloutStrategy.linear()`. */
export interface LinearOptions extends StrategyBakeOptions {
  /**
   * Equal increments of the new color's share: 20 gives 20, 40, 60, 80, 100.
   * @default - the uneven seed 10, 25, 50, 75, 100
   */
  readonly stepPercent?: number;
}

/** Options of `RolloutStrategy.canary()`. */
export interface CanaryOptions extends StrategyBakeOptions {
  /**
   * Share of traffic the canary gets first.
   * @default 1
   */
  readonly percent?: number;
  /**
   * Further shares after the canary, before 100.
   * @default - 5, 25, 50 when `percent` is not given either; none (straight to 100) when `percent` is given
   */
  readonly then?: number[];
}

/** Options of `RolloutStrategy.segmentFirst()`. */
export interface SegmentFirstOptions extends StrategyBakeOptions {
  /**
   * Segments, in order, each added to the ones before it (values of the segment header).
   * @default ['internal', 'beta', 'premium'] (at most 3: ALB takes 3 values per condition)
   */
  readonly segments?: string[];
  /**
   * Shares of all traffic after every segment is on, ending with 100.
   * @default [100]
   */
  readonly then?: number[];
}

/** What a strategy renders into once bound to a rollout. */
export interface RolloutStrategyConfig {
  /** The factory that made the strategy (canary, linear, allAtOnce, segmentFirst, steps). */
  readonly kind: string;
  readonly steps: PlannedStep[];
  /** Sum of every step's bake, seconds. */
  readonly totalBakeSeconds: number;
}

/** Context a strategy is bound in. */
export interface RolloutStrategyBindOptions {
  /** Path of the construct the strategy belongs to, for error messages. */
  readonly path: string;
  /** How often the judge runs; every bake must be at least this long. */
  readonly judgeInterval: Duration;
}

const DEFAULT_BAKE = Duration.minutes(5);
const SEED_LINEAR = [10, 25, 50, 75, 100];
const SEED_CANARY = [1, 5, 25, 50, 100];
const SEED_SEGMENTS = ['internal', 'beta', 'premium'];
/**
 * Segments share one http-header condition (ALB ANDs separate conditions), and ALB takes at most 3 values per
 * condition (and 5 per rule, counting the production rule's own conditions, which the segment rule copies).
 */
export const MAX_SEGMENTS = AlbLimits.MAX_VALUES_PER_CONDITION;
/** ALB http-header condition values: up to 128 characters, no whitespace in our segment names. */
const SEGMENT_PATTERN = new RegExp(`^[A-Za-z0-9._*?-]{1,${AlbLimits.MAX_CONDITION_VALUE_LENGTH}}$`);

/**
 * How traffic moves from the stable color to the new one: a list of steps, each with a share of traffic
 * (and optionally user segments), a bake time judged healthy before the next step, and an optional manual pause.
 *
 * Like `TrafficRouting` of aws-codedeploy: a value object made by static factories and bound by the construct
 * that uses it, which validates it with the construct's path in every message.
 */
export class RolloutStrategy {
  /** Everything at once, then one bake at 100%. */
  public static allAtOnce(options: StrategyBakeOptions = {}): RolloutStrategy {
    return new RolloutStrategy('allAtOnce', [{ percent: 100 }], options.bake);
  }

  /** Linear steps: the seed 10, 25, 50, 75, 100, or equal increments of `stepPercent`. */
  public static linear(options: LinearOptions = {}): RolloutStrategy {
    let percents = SEED_LINEAR;
    if (options.stepPercent !== undefined) {
      const p = options.stepPercent;
      if (!Number.isInteger(p) || p < 1 || p > 99) {
        return RolloutStrategy.invalid('linear', `stepPercent must be an integer from 1 to 99, got ${p}`);
      }
      percents = [];
      for (let v = p; v < 100; v += p) percents.push(v);
      percents.push(100);
    }
    return new RolloutStrategy('linear', percents.map((percent) => ({ percent })), options.bake);
  }

  /** A small canary first, then larger shares: the seed 1, 5, 25, 50, 100. */
  public static canary(options: CanaryOptions = {}): RolloutStrategy {
    const percents = options.percent === undefined && options.then === undefined
      ? SEED_CANARY
      : [options.percent ?? SEED_CANARY[0], ...(options.then ?? (options.percent === undefined ? SEED_CANARY.slice(1, -1) : [])), 100];
    return new RolloutStrategy('canary', percents.map((percent) => ({ percent })), options.bake);
  }

  /** Segment by segment (internal, then beta, then premium), then everyone. */
  public static segmentFirst(options: SegmentFirstOptions = {}): RolloutStrategy {
    const segments = options.segments ?? SEED_SEGMENTS;
    if (segments.length === 0) return RolloutStrategy.invalid('segmentFirst', 'segments must list at least one segment, got []');
    if (segments.length > MAX_SEGMENTS) {
      return RolloutStrategy.invalid('segmentFirst', `segments may hold at most ${MAX_SEGMENTS} segments (an ALB condition takes at most ${MAX_SEGMENTS} values), got ${segments.length}`);
    }
    const steps: RolloutStep[] = segments.map((_, i) => ({ percent: 0, segments: segments.slice(0, i + 1) }));
    for (const percent of options.then ?? [100]) steps.push({ percent, segments: percent >= 100 ? [] : [...segments] });
    return new RolloutStrategy('segmentFirst', steps, options.bake);
  }

  /** Your own steps. The last one must send 100% to the new color. */
  public static steps(steps: RolloutStep[], options: StrategyBakeOptions = {}): RolloutStrategy {
    return new RolloutStrategy('steps', steps, options.bake);
  }

  private static invalid(kind: string, problem: string): RolloutStrategy {
    return new RolloutStrategy(kind, [], undefined, problem);
  }

  private constructor(
    /** Name of the factory that made this strategy, for messages. */
    public readonly kind: string,
    private readonly rawSteps: readonly RolloutStep[],
    private readonly bake: Duration | undefined,
    private readonly factoryProblem?: string,
  ) {}

  /**
   * Validates the strategy and renders its steps. Throws an error that names the strategy, the step and field,
   * the value given and what is allowed, prefixed with the construct path. Called by ProgressiveRollout; the
   * rendered steps are the handlers' contract (TypeScript only).
   * @jsii ignore
   */
  public bind(options: RolloutStrategyBindOptions): RolloutStrategyConfig {
    const problems = this.validate(options.judgeInterval);
    if (problems.length > 0) {
      throw new Error(`${options.path}: invalid strategy RolloutStrategy.${this.kind}(): ${problems.join('; ')}`);
    }
    const interval = options.judgeInterval.toSeconds();
    const steps = this.rawSteps.map((step, i): PlannedStep => {
      const bakeSeconds = (step.bake ?? this.bake ?? DEFAULT_BAKE).toSeconds();
      return {
        number: i + 1,
        percent: step.percent ?? 0,
        segments: step.segments ?? [],
        bakeSeconds,
        bakeIntervals: Math.max(1, Math.ceil(bakeSeconds / interval)),
        pause: step.pause ?? false,
      };
    });
    return { kind: this.kind, steps, totalBakeSeconds: steps.reduce((sum, s) => sum + s.bakeSeconds, 0) };
  }

  private validate(judgeInterval: Duration): string[] {
    if (this.factoryProblem) return [this.factoryProblem];
    const problems: string[] = [];
    if (this.rawSteps.length === 0) return ['steps must not be empty: give at least one step, the last at 100 percent'];
    const interval = judgeInterval.toSeconds();
    const checkBake = (where: string, bake: Duration | undefined) => {
      if (bake === undefined || Token.isUnresolved(bake.toSeconds({ integral: false }))) return;
      const seconds = bake.toSeconds({ integral: false });
      if (seconds < interval) {
        problems.push(`${where} is ${bake.toHumanString()}, shorter than the judge interval (${judgeInterval.toHumanString()}): a step must bake for at least one judgement`);
      }
    };
    if (this.rawSteps.some((step) => step.bake === undefined)) {
      checkBake(this.bake ? 'bake' : `bake (default ${DEFAULT_BAKE.toHumanString()})`, this.bake ?? DEFAULT_BAKE);
    }
    let previousPercent = -1;
    let previousSegments: string[] = [];
    this.rawSteps.forEach((step, i) => {
      const where = `steps[${i}]`;
      const percent = step.percent ?? 0;
      const segments = step.segments ?? [];
      if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
        problems.push(`${where}.percent must be an integer from 0 to 100, got ${step.percent}`);
      } else if (percent < previousPercent || (percent === previousPercent && !extends_(segments, previousSegments))) {
        problems.push(`${where}.percent must increase from step to step (or stay equal while segments are added), got ${percent} after ${previousPercent}`);
      }
      if (segments.length > MAX_SEGMENTS) {
        problems.push(`${where}.segments may hold at most ${MAX_SEGMENTS} segments (an ALB condition takes at most ${MAX_SEGMENTS} values), got ${segments.length}`);
      }
      for (const s of segments) {
        if (!SEGMENT_PATTERN.test(s)) problems.push(`${where}.segments has "${s}": a segment is 1-128 characters of letters, digits, . _ - * ?`);
      }
      if (new Set(segments).size !== segments.length) problems.push(`${where}.segments lists a segment twice: ${JSON.stringify(segments)}`);
      if (percent === 0 && segments.length === 0) {
        problems.push(`${where} sends no traffic to the new color: give percent > 0 or at least one segment`);
      }
      checkBake(`${where}.bake`, step.bake);
      previousPercent = percent;
      previousSegments = segments;
    });
    const last = this.rawSteps[this.rawSteps.length - 1];
    if ((last.percent ?? 0) !== 100) {
      problems.push(`the last step must send 100 percent to the new color, got ${last.percent ?? 0}`);
    } else if ((last.segments ?? []).length > 0) {
      problems.push('the last step (100 percent) must not list segments: everyone is on the new color');
    }
    if (last.pause) {
      problems.push('the last step must not pause: pause on a step before 100 percent');
    }
    return problems;
  }
}

/** True when `next` holds every segment of `previous` and at least one more. */
function extends_(next: readonly string[], previous: readonly string[]): boolean {
  return next.length > previous.length && previous.every((s) => next.includes(s));
}
