/**
 * What each rollout event says to a person: what happened, to which service, at which step, why, and what happens
 * next, rendered by EventBridge input transformers from the event's detail (lib/private/rollout-definition.ts
 * puts service, execution, targetColor, stableColor, and per event step / weights / trigger / rollbackError).
 */
import * as events from 'aws-cdk-lib/aws-events';
import { FLAG_VALIDATION_FAILED_TRIGGER, FlagRolloutEvent } from '../../lambda/flag-rollout/flag-rollout-contract';
import { EVENT_SOURCE, RolloutEvent } from '../../lambda/shared/contracts';
import { RolloutEventKind } from '../monitoring/rollout-event-kind';

/** A message in three parts: a title, what happened (and why), and what happens next. */
export interface NotificationMessage {
  readonly title: string;
  readonly body: string;
  readonly next: string;
  /** How bad: info, warning or critical (a pager's severity, a status page's component status). */
  readonly severity: 'info' | 'warning' | 'critical';
}

const f = (path: string) => events.EventField.fromPath(path);
const service = () => f('$.detail.service');
const target = () => f('$.detail.targetColor');
const stable = () => f('$.detail.stableColor');
const execution = () => f('$.detail.execution');

/**
 * The message of an event kind, with the event's fields as input-transformer placeholders: a traffic rollout's, or
 * with `flagKey` a guarded flag rollout's.
 */
export function messageOf(kind: RolloutEventKind, flagKey?: string): NotificationMessage {
  if (flagKey !== undefined) return flagMessageOf(kind);
  switch (kind) {
    case RolloutEventKind.STARTED:
      return {
        title: `Rollout of ${service()} started`,
        body: `${service()} is releasing the ${target()} color; ${stable()} keeps production traffic until the first step. Execution: ${execution()}`,
        next: `Validation gates run against ${target()} before any traffic moves, then traffic shifts step by step; each step is reported.`,
        severity: 'info',
      };
    case RolloutEventKind.STEP_COMPLETED:
      return {
        title: `${service()}: step ${f('$.detail.step.number')} done, ${target()} has ${f('$.detail.step.percent')}%`,
        body: `Step ${f('$.detail.step.number')} of the rollout of ${service()} completed (judged healthy, or merged into the next step when too small to judge at the observed traffic): ${target()} serves ${f('$.detail.step.percent')}% of production traffic (blue ${f('$.detail.weights.blue')}%, green ${f('$.detail.weights.green')}%). The judge: ${f('$.detail.reason')}`,
        next: 'The next step shifts more traffic after its own bake; the rollout completes at 100%.',
        severity: 'info',
      };
    case RolloutEventKind.PAUSED:
      return {
        title: `${service()}: rollout paused at step ${f('$.detail.step.number')}, waiting for an operator`,
        body: `${target()} serves ${f('$.detail.step.percent')}% of production traffic of ${service()} and the rollout waits at a manual gate.`,
        next: 'Run `zdt promote` to continue or `zdt abort` to roll back; without an answer the pause times out and rolls back.',
        severity: 'warning',
      };
    case RolloutEventKind.VALIDATION_FAILED:
      return {
        title: `${service()}: validation failed on ${target()}, rolling back`,
        body: `A validation gate of the rollout of ${service()} failed: ${f('$.detail.trigger.reason')}`,
        next: `Traffic goes back to ${stable()} (a gate before traffic fails before any traffic moved): the "Rolled Back" notice confirms it, "Rollback Failed" says it could not. Fix the release and start a new rollout.`,
        severity: 'warning',
      };
    case RolloutEventKind.ROLLBACK_TRIGGERED:
      return {
        // Put with "Rollout Rolled Back" once traffic is restored, or with "Rollout Rollback Failed" when it could not be.
        title: `${service()}: rollout of ${target()} rolls back (${f('$.detail.trigger.kind')})`,
        body: `The rollout of ${service()} rolls back because of ${f('$.detail.trigger.kind')}: ${f('$.detail.trigger.reason')}`,
        next: `Traffic goes back to ${stable()}: the "Rolled Back" notice confirms it, "Rollback Failed" says it could not. Look at the cause, fix the release and start a new rollout.`,
        severity: 'warning',
      };
    case RolloutEventKind.ROLLED_BACK:
      return {
        title: `${service()}: traffic restored to ${stable()}`,
        body: `All production traffic of ${service()} is on ${stable()} again (blue ${f('$.detail.weights.blue')}%, green ${f('$.detail.weights.green')}%, read back).`,
        next: 'The rollout has ended; the lock is released and a new rollout may start.',
        severity: 'info',
      };
    case RolloutEventKind.ROLLBACK_FAILED:
      return {
        title: `URGENT ${service()}: rollback to ${stable()} FAILED, traffic may still be split`,
        body: `The rollout of ${service()} had to roll back (${f('$.detail.trigger.kind')}: ${f('$.detail.trigger.reason')}) but restoring ${stable()} failed: ${f('$.detail.rollbackError.Cause')}`,
        next: `Act now: check the listener's production rule, then move traffic to ${stable()} by hand (zdt status, zdt rollback). The execution guard retries on its own.`,
        severity: 'critical',
      };
    case RolloutEventKind.COMPLETED:
      return {
        title: `${service()}: ${target()} is live`,
        body: `The rollout of ${service()} completed: ${target()} serves 100% of production traffic and is recorded as the live color.`,
        next: `${stable()} is idle: deploy the next release to it.`,
        severity: 'info',
      };
    case RolloutEventKind.PROMOTED_FULL:
      return {
        title: `${service()}: rollout of ${target()} promoted to full by an operator at step ${f('$.detail.step.number')}`,
        body: `An operator ran \`zdt promote --full\` on the rollout of ${service()} at step ${f('$.detail.step.number')} (${target()} had ${f('$.detail.step.percent')}%): the remaining steps are skipped.`,
        next: `${target()} gets 100% of production traffic next; that step still bakes and is judged, and a failed judgement rolls back to ${stable()}.`,
        severity: 'warning',
      };
    default:
      throw new Error(`Unknown rollout event kind ${kind}`);
  }
}

/**
 * The message of a guarded flag rollout's event (lib/private/flag-rollout-definition.ts puts service, flag,
 * execution, treatment, control, and per event phase / trigger / rollbackError).
 */
function flagMessageOf(kind: RolloutEventKind): NotificationMessage {
  const flag = () => f('$.detail.flag');
  const treatment = () => f('$.detail.treatment');
  const control = () => f('$.detail.control');
  const phase = () => `${f('$.detail.phase.number')} (${f('$.detail.phase.name')})`;
  switch (kind) {
    case RolloutEventKind.STARTED:
      return {
        title: `Rollout of flag ${flag()} of ${service()} started`,
        body: `${service()} starts serving ${treatment()} of flag ${flag()} phase by phase; the other users keep ${control()}. Execution: ${execution()}`,
        next: `Each phase deploys the flag to AppConfig and judges the users served ${treatment()} against those served ${control()}; each passed phase is reported.`,
        severity: 'info',
      };
    case RolloutEventKind.STEP_COMPLETED:
      return {
        title: `${service()}: flag ${flag()} phase ${phase()} passed`,
        body: `Phase ${phase()} of the rollout of flag ${flag()} of ${service()} passed: the users served ${treatment()} did no worse than those served ${control()}.`,
        next: 'The next phase serves the treatment to more users and is judged in turn; the rollout completes when everyone has it.',
        severity: 'info',
      };
    case RolloutEventKind.PAUSED:
      return {
        title: `${service()}: rollout of flag ${flag()} paused after phase ${phase()}, waiting for an operator`,
        body: `Phase ${phase()} of flag ${flag()} passed and the rollout waits at a manual gate.`,
        next: 'Run `zdt promote` to continue or `zdt abort` to put the flag back as it was; without an answer the pause times out and rolls back.',
        severity: 'warning',
      };
    case RolloutEventKind.VALIDATION_FAILED:
      return {
        title: `${service()}: AppConfig refused flag ${flag()}'s new definition, rolling back`,
        body: `AppConfig's validators refused the flags document of the rollout of flag ${flag()}: ${f('$.detail.trigger.reason')}`,
        next: 'The flag is put back as it was before the rollout (untouched when the first phase was refused): the "Rolled Back" notice confirms it. Fix the flags document and start a new rollout.',
        severity: 'warning',
      };
    case RolloutEventKind.ROLLBACK_TRIGGERED:
      return {
        title: `${service()}: rollout of flag ${flag()} rolls back (${f('$.detail.trigger.kind')})`,
        body: `The rollout of flag ${flag()} of ${service()} rolls back because of ${f('$.detail.trigger.kind')}: ${f('$.detail.trigger.reason')}`,
        next: `The flag's definition from before the rollout is deployed again: the "Rolled Back" notice confirms it, "Rollback Failed" says it could not.`,
        severity: 'warning',
      };
    case RolloutEventKind.ROLLED_BACK:
      return {
        title: `${service()}: flag ${flag()} restored`,
        body: `Flag ${flag()} of ${service()} has its definition from before the rollout again (deployed to AppConfig, deployment complete): users get ${control()} unless the flag's own rules say otherwise.`,
        next: 'The rollout has ended; the flag\'s lock is released and a new rollout may start.',
        severity: 'info',
      };
    case RolloutEventKind.ROLLBACK_FAILED:
      return {
        title: `URGENT ${service()}: rollback of flag ${flag()} FAILED, it may still serve ${treatment()}`,
        body: `The rollout of flag ${flag()} had to roll back (${f('$.detail.trigger.kind')}: ${f('$.detail.trigger.reason')}) but deploying its previous definition failed: ${f('$.detail.rollbackError.Cause')}`,
        next: 'Act now: deploy the flag\'s previous definition with AppConfig by hand (the hosted version the rollout started from is in the execution\'s input to "Read Flag").',
        severity: 'critical',
      };
    case RolloutEventKind.COMPLETED:
      return {
        title: `${service()}: flag ${flag()} serves ${treatment()} to everyone`,
        body: `The rollout of flag ${flag()} of ${service()} completed: every phase passed and every user gets ${treatment()}.`,
        next: `Once the old code path of ${control()} is no longer needed, remove it and the flag.`,
        severity: 'info',
      };
    default:
      throw new Error(`Unknown rollout event kind ${kind}`);
  }
}

/**
 * The two families of rollout events a notification plan reads: a traffic rollout's (lib/private/rollout-definition/*,
 * a failed gate is the trigger `hook-failed`) and a guarded flag rollout's (lib/private/flag-rollout-definition.ts, a
 * refused flags document is `validation-failed`). VALIDATION_FAILED is the family's rollback with that trigger.
 */
const FAMILIES = {
  traffic: {
    detailTypes: {
      STARTED: RolloutEvent.STARTED, STEP_COMPLETED: RolloutEvent.STEP_COMPLETED, PAUSED: RolloutEvent.PAUSED,
      ROLLBACK_TRIGGERED: RolloutEvent.ROLLBACK_TRIGGERED, ROLLED_BACK: RolloutEvent.ROLLED_BACK,
      ROLLBACK_FAILED: RolloutEvent.ROLLBACK_FAILED, COMPLETED: RolloutEvent.COMPLETED, PROMOTED_FULL: RolloutEvent.PROMOTED_FULL,
    },
    validationTrigger: 'hook-failed',
  },
  flag: {
    detailTypes: {
      STARTED: FlagRolloutEvent.STARTED, STEP_COMPLETED: FlagRolloutEvent.PHASE_COMPLETED, PAUSED: FlagRolloutEvent.PAUSED,
      ROLLBACK_TRIGGERED: FlagRolloutEvent.ROLLBACK_TRIGGERED, ROLLED_BACK: FlagRolloutEvent.ROLLED_BACK,
      ROLLBACK_FAILED: FlagRolloutEvent.ROLLBACK_FAILED, COMPLETED: FlagRolloutEvent.COMPLETED,
    },
    validationTrigger: FLAG_VALIDATION_FAILED_TRIGGER,
  },
} as const;

/**
 * The EventBridge pattern of an event kind for one service (and with `flagKey`, of that flag's guarded rollout).
 * `exceptValidationFailures`: ROLLBACK_TRIGGERED for a channel that also gets VALIDATION_FAILED, so that one failed
 * gate is one message to it (EventBridge "anything-but" content filter:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
 */
export function eventPatternOf(kind: RolloutEventKind, serviceName: string, exceptValidationFailures = false, flagKey?: string): events.EventPattern {
  const family = flagKey === undefined ? FAMILIES.traffic : FAMILIES.flag;
  const whose = flagKey === undefined ? { service: [serviceName] } : { service: [serviceName], flag: [flagKey] };
  const of = (detailType: string, detail: Record<string, unknown> = {}) => ({ source: [EVENT_SOURCE], detailType: [detailType], detail: { ...whose, ...detail } });
  switch (kind) {
    case RolloutEventKind.VALIDATION_FAILED: return of(family.detailTypes.ROLLBACK_TRIGGERED, { trigger: { kind: [family.validationTrigger] } });
    case RolloutEventKind.ROLLBACK_TRIGGERED:
      return exceptValidationFailures
        ? of(family.detailTypes.ROLLBACK_TRIGGERED, { trigger: { kind: [{ 'anything-but': [family.validationTrigger] }] } })
        : of(family.detailTypes.ROLLBACK_TRIGGERED);
    default: {
      const detailType = (family.detailTypes as Record<string, string>)[kind];
      if (detailType === undefined) throw new Error(`Unknown rollout event kind ${kind}`);
      return of(detailType);
    }
  }
}
