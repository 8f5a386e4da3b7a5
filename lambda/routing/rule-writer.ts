import { Action, ModifyRuleCommand, Rule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { clock } from '../shared/clock';
import { ErrorName } from '../shared/contracts';
import { awsCall, ZdtError } from '../shared/errors';
import { log } from '../shared/log';
import { sameConditions } from './conditions';
import { elbv2 } from './elbv2';
import { findForwardAction, readStickiness, sameStickiness, sameTuples } from './forward-action';

/**
 * Compare-and-retry writes of one listener rule, for writers that share it: the router owns the weights of the live
 * rule, the live-route custom resource owns its target groups, conditions and stickiness. ModifyRule replaces the
 * whole action list and ALB has no conditional write (ModifyRule takes no version or ETag:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html), so a writer that builds
 * its actions from an old read undoes whatever another writer did since. Each write here therefore:
 *
 * 1. plans from the latest read: only the writer's own parts change, every other part is copied from that read;
 * 2. compares: reads the rule again just before ModifyRule; if anything changed since the plan was made, plans again;
 * 3. verifies the whole rule after writing: reads back until the write (or a later one) shows, reports any part that
 *    differs from what it wrote (another writer came after it: theirs is kept), and re-applies its own parts when a
 *    later write undid them.
 *
 * What remains is the few milliseconds between step 2's read and the write; a writer that lands there is undone
 * once, and its own verification (the same loop, in the other handler) sees it and re-applies.
 */

/**
 * Reads after a write before WEIGHT_VERIFICATION_FAILED. ALB applies a rule change within
 * a second or two; DescribeRules may briefly return the previous state meanwhile.
 */
export const VERIFY_READS = 4;
/** Wait before the second read-back; doubled before each further one (250, 500, 1000 ms: under 2 s in all). */
export const VERIFY_BACKOFF_MS = 250;
/** Growth of the read-back wait after each mismatch. */
const VERIFY_BACKOFF_FACTOR = 2;
/**
 * Plans (and so writes) per call before giving up with WEIGHT_VERIFICATION_FAILED: a rule that changes under every
 * attempt has a writer that fights this one, which retrying would not settle.
 */
export const MAX_WRITE_ATTEMPTS = 4;

/** What one write changes: ModifyRule leaves out what is absent. */
export interface RuleWrite {
  readonly actions?: Action[];
  readonly conditions?: RuleCondition[];
}

export interface RuleWriter {
  readonly ruleArn: string;
  /** How messages name the rule ("Live rule"). */
  readonly what: string;
  /** One read of the rule (absent: ROUTE_INVALID naming it). */
  read(): Promise<Rule>;
  /** What to write so the rule holds this writer's parts, from the rule as `rule` shows it; undefined: it already does. */
  plan(rule: Rule): RuleWrite | undefined;
  /** The desired and the actual state in words, for WEIGHT_VERIFICATION_FAILED. */
  mismatch(rule: Rule): string;
}

/** The parts of a rule that writes change and that reads compare. */
function content(rule: Rule): string {
  return JSON.stringify({ priority: rule.Priority, conditions: rule.Conditions ?? [], actions: rule.Actions ?? [] });
}

/**
 * The parts of `written` that the rule as read shows differently (forward target groups and weights, stickiness,
 * conditions), in words; empty when the write shows as written. Compared as ALB normalizes them, not as JSON.
 */
function differences(rule: Rule, written: RuleWrite): string[] {
  const out: string[] = [];
  if (written.actions) {
    const wrote = written.actions.find((a) => a.Type === 'forward');
    let shown: Action | undefined;
    try {
      shown = findForwardAction(rule, 'Rule');
    } catch {
      shown = undefined;
    }
    if (wrote && (!shown || !sameTuples(shown, wrote))) out.push('forward target groups and weights');
    if (wrote && (!shown || !sameStickiness(readStickiness(shown), readStickiness(wrote)))) out.push('stickiness');
    if ((rule.Actions ?? []).length !== written.actions.length) out.push('actions');
  }
  if (written.conditions && !sameConditions(rule.Conditions, written.conditions)) out.push('conditions');
  return out;
}

/**
 * Makes the rule hold the writer's parts, compare-and-retry (see above), and returns the rule as last read back.
 * `initial`: a read the caller just made, used for the first plan.
 */
export async function writeRule(writer: RuleWriter, initial?: Rule): Promise<Rule> {
  let seen = initial ?? await writer.read();
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const write = writer.plan(seen);
    if (!write) return seen;
    // Compare: the plan stands only if the rule is still what it was planned from.
    const now = await writer.read();
    if (content(now) !== content(seen)) {
      log('warn', 'the rule changed since it was read: planning the write again from the new state', { ruleArn: writer.ruleArn, attempt });
      seen = now;
      continue;
    }
    await awsCall(`ModifyRule(${writer.ruleArn})`, () => elbv2().send(new ModifyRuleCommand({
      RuleArn: writer.ruleArn,
      ...(write.actions ? { Actions: write.actions } : {}),
      ...(write.conditions ? { Conditions: write.conditions } : {}),
    })));
    seen = await readBack(writer, now, write);
    const others = differences(seen, write);
    if (others.length > 0) {
      log('warn', 'another writer changed the rule after this write: its changes are kept, this writer re-checks its own parts',
        { ruleArn: writer.ruleArn, differs: others, attempt });
    }
  }
  if (!writer.plan(seen)) return seen;
  throw new ZdtError(ErrorName.WEIGHT_VERIFICATION_FAILED, `${writer.what} ${writer.ruleArn} kept changing under ${MAX_WRITE_ATTEMPTS} compare-and-retry writes (another writer is changing it): ${writer.mismatch(seen)}`);
}

/**
 * Reads until the rule no longer shows its state from before the write (`before`): ALB's eventual consistency may
 * show the old state for a second or two. WEIGHT_VERIFICATION_FAILED after VERIFY_READS reads.
 */
function readBack(writer: RuleWriter, before: Rule, write: RuleWrite): Promise<Rule> {
  return readUntil(() => writer.read(), (rule) => content(rule) !== content(before) || differences(rule, write).length === 0,
    (rule, reads) => `${writer.what} ${writer.ruleArn} does not show the write after ${reads} read-backs: ${writer.mismatch(rule)}`,
    { ruleArn: writer.ruleArn });
}

/**
 * The read-back of every routing write: reads until `shows` holds for what AWS returns, VERIFY_READS reads at most,
 * waiting VERIFY_BACKOFF_MS before the second and twice as long before each further one (ALB shows a change within a
 * second or two); then WEIGHT_VERIFICATION_FAILED with `failure`'s words (desired vs actual). Returns the last read.
 */
export async function readUntil<T>(read: () => Promise<T>, shows: (value: T) => boolean, failure: (value: T, reads: number) => string,
  context: Record<string, unknown>): Promise<T> {
  let wait = VERIFY_BACKOFF_MS;
  for (let reads = 1; ; reads++) {
    const value = await read();
    if (shows(value)) {
      log('info', 'write read back', { ...context, reads });
      return value;
    }
    if (reads >= VERIFY_READS) throw new ZdtError(ErrorName.WEIGHT_VERIFICATION_FAILED, failure(value, reads));
    log('warn', 'read-back does not show the write yet; reading again', { ...context, waitMs: wait });
    await clock().sleep(wait);
    wait *= VERIFY_BACKOFF_FACTOR;
  }
}
