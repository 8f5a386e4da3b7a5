import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import type { FlagPhase } from '../../lambda/flag-rollout/flag-rollout-contract';
import { propError } from '../private/validation';

/** One phase of a percentage rollout. */
export interface PercentagePhase {
  /** Share of the users that get the treatment in this phase, 0-100 (at most two decimals). */
  readonly percent: number;
  /**
   * How long the phase is judged before the next one starts (treatment against control). Whole minutes.
   * A phase at 0% or 100% has no users on one side: it is held this long without judgement.
   * @default - none: the next phase starts as soon as this one is deployed
   */
  readonly duration?: Duration;
  /**
   * Time between two judgements of the phase; whole minutes, at most the phase's duration.
   * @default - the duration / 24, between 1 minute and 1 hour
   */
  readonly judgeInterval?: Duration;
  /**
   * Name shown in events and the plan.
   * @default - `<percent>%`
   */
  readonly name?: string;
  /**
   * Wait for an operator once the phase has passed: promote (SendTaskSuccess with the token of the
   * 'Flag Rollout Paused' event) continues, abort (SendTaskFailure) rolls the flag back.
   * @default false
   */
  readonly pause?: boolean;
}

/** One phase of a segment rollout. */
export interface SegmentPhase {
  /** Segment (value of the segment header) that joins the treatment in this phase; earlier phases' segments stay in. */
  readonly segment: string;
  /**
   * How long the phase is judged. Whole minutes.
   * @default Duration.minutes(15)
   */
  readonly duration?: Duration;
  /**
   * Wait for an operator once the phase has passed.
   * @default false
   */
  readonly pause?: boolean;
}

/** Options of `FlagRolloutPlan.segments()`. */
export interface SegmentRolloutOptions {
  /**
   * The segments, in order.
   * @default - internal, beta, premium, 15 minutes each (then everyone)
   */
  readonly phases?: SegmentPhase[];
  /**
   * Judge the final phase (everyone) for this long before the rollout completes (nothing is left to compare with:
   * it is held, not judged).
   * @default - none
   */
  readonly finalHold?: Duration;
}

const MAX_PHASES = 20;
const MIN_INTERVAL_SECONDS = 60;
const MAX_DEFAULT_INTERVAL_SECONDS = 3600;
const INTERVALS_PER_PHASE = 24;
const DEFAULT_SEGMENT_DURATION = Duration.minutes(15);
/** Step Functions Wait states: at most one year (Step Functions Developer Guide, "Wait"); a phase is far below. */
const MAX_PHASE_SECONDS = 365 * 24 * 3600;

/**
 * The phases a GuardedFlagRollout moves a flag through, by percentage of users or by segment. Each phase deploys
 * the flag's document with the treatment for that share of users and judges it against the control for the phase's
 * duration; a regression rolls the flag back.
 */
export class FlagRolloutPlan {
  /**
   * By percentage of users (a stable hash of the user key, so raising a phase only adds users). Defaults: 0%
   * (preparation: the document with the rollout's rule, nobody in it), 5% for 2 days (canary), 15% for 3 days
   * (early adopters), 50% for 1 week, then 100%.
   */
  public static percentage(phases?: PercentagePhase[]): FlagRolloutPlan {
    const list = phases ?? [
      { percent: 0, name: 'preparation' },
      { percent: 5, duration: Duration.days(2), name: 'canary' },
      { percent: 15, duration: Duration.days(3), name: 'early adopters' },
      { percent: 50, duration: Duration.days(7), name: 'half' },
      { percent: 100, name: 'everyone' },
    ];
    return new FlagRolloutPlan('percentage', list.map((p) => ({
      name: p.name ?? `${p.percent}%`, percent: p.percent, duration: p.duration, interval: p.judgeInterval, pause: p.pause ?? false,
    })));
  }

  /**
   * By segment (the value of the rollout's segment header): each phase adds one segment to the treatment for
   * its duration, then everyone gets it. Defaults: internal, beta, premium, 15 minutes each, then everyone.
   * The control of a segment phase is the users outside the segments so far: a comparison across populations,
   * which a segment's own error rate (e.g. internal users' test traffic) can bias.
   */
  public static segments(options: SegmentRolloutOptions = {}): FlagRolloutPlan {
    const list: SegmentPhase[] = options.phases ?? ['internal', 'beta', 'premium'].map((segment) => ({ segment }));
    const phases: PlannedPhase[] = [];
    const so: string[] = [];
    for (const p of list) {
      so.push(p.segment);
      phases.push({ name: p.segment, segments: [...so], duration: p.duration ?? DEFAULT_SEGMENT_DURATION, pause: p.pause ?? false });
    }
    phases.push({ name: 'everyone', percent: 100, duration: options.finalHold, pause: false });
    return new FlagRolloutPlan('segments', phases);
  }

  /** `percentage` or `segments`. */
  public readonly kind: string;
  private readonly phases: PlannedPhase[];

  private constructor(kind: string, phases: PlannedPhase[]) {
    this.kind = kind;
    this.phases = phases;
  }

  /** Number of phases. */
  public get phaseCount(): number {
    return this.phases.length;
  }

  /**
   * The phases as the state machine carries them. A problem is thrown as the prop error of `scope` (its construct
   * path, then `plan`, the phase, the value given and what is allowed); without a scope (describe()), as
   * FlagRolloutPlan's.
   * @internal
   */
  public _render(scope?: IConstruct): FlagPhase[] {
    const fail = (message: string): never => {
      throw scope ? propError(scope, `plan ${message}`) : new Error(`FlagRolloutPlan.${this.kind}(): ${message}`);
    };
    if (this.phases.length === 0) fail('must have at least one phase, got none');
    if (this.phases.length > MAX_PHASES) fail(`may have at most ${MAX_PHASES} phases, got ${this.phases.length}`);
    let previous = -1;
    const rendered = this.phases.map((p, i): FlagPhase => {
      const where = `phase ${i + 1} (${p.name})`;
      const seconds = p.duration === undefined ? 0 : secondsOf(p.duration, `${where} duration`, fail);
      if (seconds > MAX_PHASE_SECONDS) fail(`${where} duration must be at most 365 days, got ${p.duration!.toHumanString()}`);
      if (p.percent !== undefined) {
        if (!Token.isUnresolved(p.percent) && (!(p.percent >= 0 && p.percent <= 100) || Math.round(p.percent * 100) !== p.percent * 100)) {
          fail(`${where} percent must be 0-100 with at most two decimals, got ${p.percent}`);
        }
        if (p.percent < previous) fail(`${where} percent must not go down (${previous}% before it), got ${p.percent}`);
        previous = p.percent;
      } else {
        for (const s of p.segments ?? []) if (!/^[A-Za-z0-9._*?-]{1,128}$/.test(s)) fail(`${where} segment must be 1-128 letters, digits, '.', '_', '-', '*' or '?', got ${JSON.stringify(s)}`);
        if (previous >= 0) fail(`${where} segments ${JSON.stringify(p.segments)} come after a percentage phase (${previous}%): segment phases must come before percentage phases`);
      }
      const judged = seconds > 0 && (p.segments !== undefined || (p.percent! > 0 && p.percent! < 100));
      let interval = p.interval === undefined
        ? Math.min(MAX_DEFAULT_INTERVAL_SECONDS, Math.max(MIN_INTERVAL_SECONDS, Math.floor(seconds / INTERVALS_PER_PHASE / 60) * 60))
        : secondsOf(p.interval, `${where} judgeInterval`, fail);
      if (interval < MIN_INTERVAL_SECONDS) fail(`${where} judgeInterval must be at least 1 minute, got ${p.interval!.toHumanString()}`);
      if (judged && interval > seconds) fail(`${where} judgeInterval must be at most the phase's duration (${seconds / 60} min), got ${interval / 60} min`);
      interval = Math.min(interval, Math.max(seconds, MIN_INTERVAL_SECONDS));
      return {
        number: i + 1,
        name: p.name,
        ...(p.percent !== undefined ? { percent: p.percent } : { segments: p.segments! }),
        durationSeconds: seconds,
        intervalSeconds: interval,
        judge: judged,
        pause: p.pause,
      };
    });
    if (rendered[rendered.length - 1].percent !== 100) fail(`must end with a phase at 100% (everyone gets the treatment), got ${JSON.stringify(rendered[rendered.length - 1].percent ?? rendered[rendered.length - 1].segments)}`);
    if (!rendered.some((p) => p.judge)) {
      fail(`has no judged phase, got ${rendered.map((p) => `${p.name} (${p.segments !== undefined ? p.segments.join('+') : `${p.percent}%`}, ${p.durationSeconds / 60} min)`).join(', ')}: `
        + 'at least one phase must have a duration and be between 0% and 100% or by segment, or nothing would guard the rollout');
    }
    return rendered;
  }

  /** The plan for a person, one line per phase. */
  public describe(): string[] {
    return this._render().map((p) => {
      const who = p.segments !== undefined ? `segments ${p.segments.join(', ')}` : `${p.percent}% of users`;
      const how = p.judge ? `judged for ${human(p.durationSeconds)}, every ${human(p.intervalSeconds)}` : p.durationSeconds > 0 ? `held ${human(p.durationSeconds)}, not judged` : 'not judged';
      return `phase ${p.number} (${p.name}): treatment for ${who}, ${how}${p.pause ? ', then waits for promote' : ''}`;
    });
  }
}

interface PlannedPhase {
  readonly name: string;
  readonly percent?: number;
  readonly segments?: string[];
  readonly duration?: Duration;
  readonly interval?: Duration;
  readonly pause: boolean;
}

function secondsOf(d: Duration, what: string, fail: (m: string) => never): number {
  const seconds = d.toSeconds();
  if (seconds % 60 !== 0) fail(`${what} must be whole minutes, got ${d.toHumanString()}`);
  return seconds;
}

function human(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} day${seconds === 86400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${seconds / 60} min`;
}
