/**
 * What each rollout event says to a person: what happened, to which service, at which step, why, and what happens
 * next, rendered by EventBridge input transformers from the event's detail (lib/private/rollout-definition.ts
 * puts service, execution, targetColor, stableColor, and per event step / weights / trigger / rollbackError).
 */
import * as events from 'aws-cdk-lib/aws-events';
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

/** The message of an event kind, with the event's fields as input-transformer placeholders. */
export function messageOf(kind: RolloutEventKind): NotificationMessage {
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
        body: `Step ${f('$.detail.step.number')} of the rollout of ${service()} baked healthy: ${target()} serves ${f('$.detail.step.percent')}% of production traffic (blue ${f('$.detail.weights.blue')}%, green ${f('$.detail.weights.green')}%).`,
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
    default:
      throw new Error(`Unknown rollout event kind ${kind}`);
  }
}

/** The rollback trigger of a failed validation gate or traffic hook (lib/private/rollout-definition.ts). */
const HOOK_FAILED = 'hook-failed';

/**
 * The EventBridge pattern of an event kind for one service. `exceptValidationFailures`: ROLLBACK_TRIGGERED for a
 * channel that also gets VALIDATION_FAILED, so that one failed gate is one message to it (EventBridge
 * "anything-but" content filter: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
 */
export function eventPatternOf(kind: RolloutEventKind, serviceName: string, exceptValidationFailures = false): events.EventPattern {
  const of = (detailType: string, detail: Record<string, unknown> = {}) => ({ source: [EVENT_SOURCE], detailType: [detailType], detail: { service: [serviceName], ...detail } });
  switch (kind) {
    case RolloutEventKind.STARTED: return of(RolloutEvent.STARTED);
    case RolloutEventKind.STEP_COMPLETED: return of(RolloutEvent.STEP_COMPLETED);
    case RolloutEventKind.PAUSED: return of(RolloutEvent.PAUSED);
    case RolloutEventKind.VALIDATION_FAILED: return of(RolloutEvent.ROLLBACK_TRIGGERED, { trigger: { kind: [HOOK_FAILED] } });
    case RolloutEventKind.ROLLBACK_TRIGGERED:
      return exceptValidationFailures
        ? of(RolloutEvent.ROLLBACK_TRIGGERED, { trigger: { kind: [{ 'anything-but': [HOOK_FAILED] }] } })
        : of(RolloutEvent.ROLLBACK_TRIGGERED);
    case RolloutEventKind.ROLLED_BACK: return of(RolloutEvent.ROLLED_BACK);
    case RolloutEventKind.ROLLBACK_FAILED: return of(RolloutEvent.ROLLBACK_FAILED);
    case RolloutEventKind.COMPLETED: return of(RolloutEvent.COMPLETED);
    default: throw new Error(`Unknown rollout event kind ${kind}`);
  }
}
