import { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  Color, ErrorName, otherColor, RouterCheckTargetsResult, RouterConfig, RouterDescribeResult, RouterShiftResult, SegmentRoute, Weights,
} from '../shared/contracts';
import { ZdtError } from '../shared/errors';
import { log } from '../shared/log';
import { listRules } from './elbv2';
import { actionsWithWeights, LIVE_RULE, readRawWeights } from './forward-action';
import {
  DesiredSegmentRoute, isDesiredSegmentRoute, reconcileSegmentRoute, SegmentRuleState, segmentRouteOf,
} from './segment-route';
import { readUntil, RuleWriter, VERIFY_BACKOFF_MS, VERIFY_READS, writeRule } from './rule-writer';
import { checkTargets } from './target-health';
import { publishTrafficWeights } from './weight-metrics';
import { formatWeights, FULL_WEIGHT, liveColorOf, sameWeights, toPercentages, weightsFor } from './weights';

export { VERIFY_BACKOFF_MS, VERIFY_READS };

/** What the listener should hold after a shift or rollback. */
interface DesiredRoute {
  readonly weights: Weights;
  readonly segmentRoute: DesiredSegmentRoute | null;
}

/** What the listener holds: the live rule, its weights in percent, and the segment rule. */
interface RouteState {
  readonly liveRule: Rule;
  readonly weights: Weights;
  readonly segment: SegmentRuleState;
}

function describeSegments(route: SegmentRoute | DesiredSegmentRoute | null): string {
  return route ? `segments [${route.segments.join(', ')}] on ${route.color}` : 'no segment route';
}

/**
 * The traffic router of a blue/green pair behind one ALB listener (after Argo Rollouts'
 * SetWeight / VerifyWeight / SetHeaderRoute / RemoveManagedRoutes). Production weights live in
 * the forward action of the live rule; a segment rule routes marked requests to one color.
 * Every write computes the desired state, reads the actual one, writes only the difference and
 * reads back until AWS shows the desired state.
 */
export class AlbRouter {
  constructor(private readonly config: RouterConfig) {}

  /** Live weights, the live color (null while split) and the segment route. */
  async describe(): Promise<RouterDescribeResult> {
    const state = await this.read();
    if (state.segment.problem) throw state.segment.problem;
    return { weights: state.weights, liveColor: liveColorOf(state.weights), segmentRoute: state.segment.route };
  }

  /** TARGETS_UNHEALTHY unless the color's target group has registered, healthy targets. */
  checkTargets(color: Color, minHealthyPercent?: number): Promise<RouterCheckTargetsResult> {
    return checkTargets(this.config.targetGroupArns[color], color, minHealthyPercent);
  }

  /** `percent` of production traffic to `targetColor`, the listed segments wholly to it (none: no segment route). */
  shift(targetColor: Color, percent: number, segments: readonly string[]): Promise<RouterShiftResult> {
    return this.apply({
      weights: weightsFor(targetColor, percent),
      segmentRoute: segments.length > 0 ? { color: targetColor, segments } : null,
    });
  }

  /** All traffic to `stableColor` and the segment route removed, weights first. */
  rollback(stableColor: Color): Promise<RouterShiftResult> {
    log('warn', 'rolling back', { stableColor, from: otherColor(stableColor) });
    return this.apply({ weights: weightsFor(stableColor, FULL_WEIGHT), segmentRoute: null });
  }

  private async apply(desired: DesiredRoute): Promise<RouterShiftResult> {
    const before = await this.read();
    // A shift that routes segments needs the segment priority to hold a valid segment route (or nothing): refuse
    // before any write. A rollback goes on: it restores the production weights whatever that rule holds.
    if (desired.segmentRoute && before.segment.problem) throw before.segment.problem;
    // Production weights first: a rollback restores traffic before it tidies the segment route.
    const weightsChanged = !sameWeights(before.weights, desired.weights);
    // Compare-and-retry: the weights are written on the rule as it is just before the write, and read back whole.
    const liveRule = weightsChanged ? await writeRule(this.weightWriter(desired.weights), before.liveRule) : before.liveRule;
    const segmentChanged = await reconcileSegmentRoute(this.config, liveRule, before.segment, desired.segmentRoute);
    if (!weightsChanged && !segmentChanged) {
      log('info', 'no changes to the listener', { weights: before.weights, segmentRoute: before.segment.route });
      // The read just made shows the desired route: publish it as verified.
      await publishTrafficWeights(this.config.metrics, before.weights);
      return { before: before.weights, after: before.weights, changed: false, segmentRoute: before.segment.route };
    }
    // The weights were read back by writeRule; a changed segment rule is read back with them.
    const after = segmentChanged ? await this.verify(desired) : { weights: this.weightsOf(liveRule), segment: before.segment };
    await publishTrafficWeights(this.config.metrics, after.weights);
    return { before: before.weights, after: after.weights, changed: true, segmentRoute: after.segment.route };
  }

  /**
   * The writer of the live rule's weights: they are the router's; the target groups' order, the stickiness, the
   * conditions and the other actions belong to the live-route custom resource (a deploy) and are copied from the
   * latest read, never from the read the shift started with.
   */
  private weightWriter(weights: Weights): RuleWriter {
    const ruleArn = this.config.liveRuleArn;
    return {
      ruleArn,
      what: LIVE_RULE,
      read: async () => (await this.read()).liveRule,
      plan: (rule) => (sameWeights(this.weightsOf(rule), weights) ? undefined
        : { actions: actionsWithWeights(rule, weights, this.config.targetGroupArns, LIVE_RULE).actions }),
      mismatch: (rule) => `desired ${formatWeights(weights)} (the weights are the router's; the rest of the rule is the deploy's), actual ${formatWeights(this.weightsOf(rule))}`,
    };
  }

  private weightsOf(liveRule: Rule): Weights {
    return toPercentages(readRawWeights(liveRule, this.config.targetGroupArns, LIVE_RULE), this.config.liveRuleArn);
  }

  /** Reads back until the listener shows `desired` (weights and segment route), or WEIGHT_VERIFICATION_FAILED. */
  private verify(desired: DesiredRoute): Promise<RouteState> {
    return readUntil(() => this.read(),
      (state) => sameWeights(state.weights, desired.weights) && isDesiredSegmentRoute(state.segment.route, desired.segmentRoute),
      (state, reads) => `Listener rule ${this.config.liveRuleArn} on ${this.config.listenerArn} does not show the desired route after ${reads} read-backs: desired ${formatWeights(desired.weights)} with ${describeSegments(desired.segmentRoute)}, actual ${formatWeights(state.weights)} with ${describeSegments(state.segment.route)}`,
      { listenerArn: this.config.listenerArn, desired });
  }

  /** One listing of the listener's rules: the live rule (by ARN) and the rule at the segment priority. */
  private async read(): Promise<RouteState> {
    const ruleArn = this.config.liveRuleArn;
    const rules = await listRules(this.config.listenerArn);
    const liveRule = rules.find((r) => r.RuleArn === ruleArn);
    if (!liveRule) {
      throw new ZdtError(ErrorName.ROUTE_INVALID, `${LIVE_RULE} ${ruleArn} does not exist on listener ${this.config.listenerArn}: expected the rule of the live-route custom resource`);
    }
    return { liveRule, weights: this.weightsOf(liveRule), segment: segmentRouteOf(this.config, rules) };
  }
}
