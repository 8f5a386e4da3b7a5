/**
 * What a rehearsal runs on: a CDK App (or Stage), a Stack (its whole app is synthesized: the color stacks matter),
 * synthesized stack templates, or one bare template. And the rollout state machine to run when there are several.
 */
import { Duration, Stack, Stage } from 'aws-cdk-lib';
import { FLAG_ROLLOUT_KIND, STATE_MACHINE_KIND_METADATA_KEY } from '../lambda/flag-rollout/flag-rollout-contract';
import { RELEASE_PLAN_KIND } from '../lambda/release/release-plan-contract';
import { RolloutPlan } from '../lambda/shared/contracts';
import { planRollout } from '../lib/rollout/rollout-plan';
import type { RolloutStrategy } from '../lib/rollout/rollout-strategy';
import type { AslDefinition } from './asl';
import type { StackTemplate } from './deployer';
import type { CfnTemplate } from './template';

export type RehearsalTarget = Stage | Stack | readonly StackTemplate[] | CfnTemplate;

const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';
const CDK_PATH_METADATA = 'aws:cdk:path';
const PLAN_STATE = 'Plan';
const PAUSE_STATE = 'Wait For Promote';

/** The synthesized stacks of a target. */
export function stacksOf(target: RehearsalTarget): StackTemplate[] {
  if (Stack.isStack(target)) return stacksOf(Stage.of(target) ?? (target.node.root as Stage));
  if (Stage.isStage(target)) {
    return target.synth().stacks.map((s) => ({ stackName: s.stackName, template: s.template as CfnTemplate }));
  }
  if (Array.isArray(target)) return [...target] as StackTemplate[];
  const template = target as CfnTemplate;
  if (!template.Resources) throw new Error('rehearse: expected an App, a Stack, stack templates or a CloudFormation template with Resources');
  return [{ stackName: 'RehearsalStack', template }];
}

/** A state machine of the stacks that the library marked with its kind (STATE_MACHINE_KIND_METADATA_KEY). */
export interface KindedStateMachine {
  readonly stackName: string;
  readonly template: CfnTemplate;
  readonly logicalId: string;
  /** The resource's Metadata (the kind's own entries: a release plan's document...). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** The state machines of `kind`: FLAG_ROLLOUT_KIND (GuardedFlagRollout), RELEASE_PLAN_KIND (ReleasePlan). */
export function stateMachinesOfKind(stacks: readonly StackTemplate[], kind: string): KindedStateMachine[] {
  return stacks.flatMap(({ stackName, template }) => Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === STATE_MACHINE_TYPE && r.Metadata?.[STATE_MACHINE_KIND_METADATA_KEY] === kind)
    .map(([logicalId, r]) => ({ stackName, template, logicalId, metadata: r.Metadata ?? {} })));
}

/**
 * The states a rollout enters when it decides to roll back: the Pass states that record `$.trigger` and go to
 * `rollbackState` (the traffic rollout's "Rollback", the flag rollout's "Roll Back Flag"), read from the definition
 * rather than copied by name. Entering one is the rollout's detection.
 */
export function rollbackTriggerStatesOf(definition: AslDefinition, rollbackState: string): ReadonlySet<string> {
  return new Set(Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Pass' && (state as { ResultPath?: string }).ResultPath === '$.trigger' && state.Next === rollbackState)
    .map(([name]) => name));
}

/** A rollout state machine of the stacks. */
export interface RolloutCandidate {
  readonly stackName: string;
  readonly logicalId: string;
  /** Construct path (aws:cdk:path metadata) when the template has it. */
  readonly path?: string;
}

export function rolloutCandidates(stacks: readonly StackTemplate[]): RolloutCandidate[] {
  return stacks.flatMap((s) => Object.entries(s.template.Resources ?? {})
    // A guarded flag rollout's state machine is not a traffic rollout (rehearseFlagRollout runs it), nor is a release plan's.
    .filter(([, r]) => r.Type === STATE_MACHINE_TYPE && ![FLAG_ROLLOUT_KIND, RELEASE_PLAN_KIND].includes(r.Metadata?.[STATE_MACHINE_KIND_METADATA_KEY] as string))
    .map(([logicalId, r]) => ({ stackName: s.stackName, logicalId, path: r.Metadata?.[CDK_PATH_METADATA] as string | undefined })));
}

/**
 * The rollout to run: `selector` is a logical id, "<stack>/<logicalId>", or a construct path (or a prefix of it,
 * such as "EverJust/Router/Rollout"). Without a selector, the app must hold exactly one state machine.
 */
export function selectRollout(stacks: readonly StackTemplate[], selector?: string, selectorName = 'options.rollout'): RolloutCandidate {
  const all = rolloutCandidates(stacks);
  const describe = () => all.map((c) => c.path ?? `${c.stackName}/${c.logicalId}`).join(', ') || 'none';
  if (selector === undefined) {
    if (all.length !== 1) throw new Error(`rehearse: expected exactly one rollout state machine, found ${all.length} (${describe()}); pick one with ${selectorName}`);
    return all[0];
  }
  const matches = all.filter((c) => c.logicalId === selector || `${c.stackName}/${c.logicalId}` === selector
    || c.path === selector || (c.path !== undefined && c.path.startsWith(`${selector}/`)));
  if (matches.length !== 1) {
    throw new Error(`rehearse: expected ${selectorName} "${selector}" to name one state machine (logical id, <stack>/<logicalId> or construct path), found ${matches.length}; candidates: ${describe()}`);
  }
  return matches[0];
}

/** The plan the state machine carries in its Plan state (rendered from the strategy at synth time). */
export function planOf(definition: AslDefinition): RolloutPlan {
  const state = definition.States[PLAN_STATE] as { Parameters?: { plan?: RolloutPlan } } | undefined;
  const plan = state?.Parameters?.plan;
  if (!plan) throw new Error(`rehearse: expected the rollout state machine to start with a "${PLAN_STATE}" state carrying the plan; is this a ProgressiveRollout?`);
  return plan;
}

/**
 * Replaces the plan with the one `strategy` renders, as a redeploy of the rollout with that strategy would: the
 * steps, the lock TTL and the execution timeout are recomputed the way ProgressiveRollout computes them. The
 * judge interval, inconclusive policy and circuit breaker stay as synthesized.
 */
export function withStrategy(definition: AslDefinition, strategy: RolloutStrategy): AslDefinition {
  const copy = JSON.parse(JSON.stringify(definition)) as AslDefinition;
  const plan = planOf(copy);
  const bound = strategy.bind({ path: 'rehearsal strategy override', judgeInterval: Duration.seconds(plan.judgeIntervalSeconds) });
  const pauseTimeoutSeconds = (copy.States[PAUSE_STATE] as { TimeoutSeconds?: number } | undefined)?.TimeoutSeconds;
  if (pauseTimeoutSeconds === undefined) throw new Error(`rehearse: expected the rollout state machine's "${PAUSE_STATE}" state to carry TimeoutSeconds (the pause timeout)`);
  const next = planRollout(bound, { ...plan, pauseTimeoutSeconds });
  (copy.States[PLAN_STATE] as unknown as { Parameters: { plan: RolloutPlan } }).Parameters.plan = next;
  (copy as { TimeoutSeconds?: number }).TimeoutSeconds = next.lockTtlSeconds;
  return copy;
}

/** "canary 1% → 5% → 25% → 50% → 100%, 5 min bakes, judged every 1 min" */
export function describePlan(plan: RolloutPlan): string {
  const kind = plan.strategy;
  const steps = plan.steps.map((s) => `${s.segments.length > 0 ? `${s.segments.join('+')}${s.percent > 0 ? `+${s.percent}%` : ''}` : `${s.percent}%`}${s.pause ? ' (pause)' : ''}`);
  const bakes = [...new Set(plan.steps.map((s) => s.bakeSeconds))].map((b) => formatSeconds(b)).join('/');
  return `${kind} ${steps.join(' → ')}, ${bakes} bake${plan.steps.length > 1 ? 's' : ''}, judged every ${formatSeconds(plan.judgeIntervalSeconds)}`;
}

function formatSeconds(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}
