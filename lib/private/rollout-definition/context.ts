import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BaselineDegradedAction } from '../../rollout/baseline-policy';
import type { GateTestBuild } from '../../gates/validation-gate-binding';
import { RolloutPlan, StateTable } from '../../../lambda/shared/contracts';

export interface RolloutDefinitionProps {
  readonly plan: RolloutPlan;
  readonly routerFunction: lambda.IFunction;
  readonly judgeFunction: lambda.IFunction;
  readonly lockFunction: lambda.IFunction;
  readonly stateTable: dynamodb.ITable;
  readonly topic: sns.ITopic;
  readonly eventBus?: events.IEventBus;
  readonly pauseTimeout: Duration;
  readonly minHealthyTargetsPercent: number;
  /** Run in order before any traffic moves, after the Started event. */
  readonly preTrafficHooks: readonly lambda.IFunction[];
  /** Run in order once the last step has given the new color its share, before the live color is recorded. */
  readonly postTrafficHooks: readonly lambda.IFunction[];
  /** Longest run of one hook. */
  readonly hookTimeout: Duration;
  /** BlueGreenRouting's test-route header, handed to the hooks. */
  readonly testRouteHeader?: string;
  /** What a BASELINE_DEGRADED verdict (the stable color degraded for longer than the hold) does. */
  readonly onBaselineDegraded: BaselineDegradedAction;
  /** Builds to run before some hooks (a functional-test gate's suite), by hook function. */
  readonly hookBuilds?: ReadonlyMap<lambda.IFunction, GateTestBuild>;
  /**
   * The bake stores its task token on the state item (an AWS SDK UpdateItem task) and waits on it: a high-resolution
   * alarm of the new color can answer it with HIGH_RESOLUTION_ALARM (release-alarm-handler.ts); its timeout, one judge
   * interval, means "judge now".
   * @default false: a plain Wait
   */
  readonly eventDrivenBake?: boolean;
  /**
   * The judge sets how long the bake waits for the next judgement ($.bake.waitSeconds: the judge interval on the
   * release signal, a minute on ALB minutes), instead of the plan's fixed judge interval.
   * @default false
   */
  readonly judgeSetsWait?: boolean;
}

/** What every part of the definition shares: where its states live, the props, and the few values several parts use. */
export interface DefinitionContext {
  /** The scope of every state. */
  readonly scope: Construct;
  readonly props: RolloutDefinitionProps;
  readonly plan: RolloutPlan;
  /** The key of the service's item in the state table (lock, live color, abort flag). */
  readonly stateKey: Record<string, tasks.DynamoAttributeValue>;
  /** The detail every rollout event carries: service, execution, input and the two colors. */
  readonly colorsDetail: Record<string, unknown>;
}

export function definitionContext(scope: Construct, props: RolloutDefinitionProps): DefinitionContext {
  const { plan } = props;
  return {
    scope,
    props,
    plan,
    stateKey: { [StateTable.PARTITION_KEY]: tasks.DynamoAttributeValue.fromString(plan.service) },
    colorsDetail: {
      'service': plan.service,
      'execution.$': '$.execution',
      'input.$': '$.input',
      'targetColor.$': '$.colors.target',
      'stableColor.$': '$.colors.stable',
    },
  };
}

/** How a task retries: interval, attempts and backoff (the errors are given per task). */
export interface RetryTiming {
  readonly interval: Duration;
  readonly maxAttempts: number;
  readonly backoffRate: number;
}

/**
 * Retries of a routing write: throttling and read-back mismatches settle within seconds; 5 attempts with
 * backoff 2 from 2 s wait up to ~60 s in all.
 */
export const SHIFT_RETRY: RetryTiming = { interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2 };
/** The rollback tries longer than a forward step: it is the last thing between users and a bad release (~2 min). */
export const ROLLBACK_RETRY: RetryTiming = { interval: Duration.seconds(1), maxAttempts: 7, backoffRate: 2 };
/** Reads (describe, target health, alarms) retry a little; the judge's own errors feed the circuit breaker. */
export const READ_RETRY: RetryTiming = { interval: Duration.seconds(1), maxAttempts: 3, backoffRate: 2 };
/** Events and notifications retry, then the rollout goes on: a lost notification must not block a rollback. */
export const NOTIFY_RETRY: RetryTiming = { interval: Duration.seconds(1), maxAttempts: 3, backoffRate: 2 };
export const LAMBDA_TIMEOUT = Duration.minutes(2);
/** Inconclusive judgements counted as healthy under onInconclusive PROCEED (set by Plan, counted in the bake). */
export const INCONCLUSIVE_COUNT = '$.inconclusive.count';
/** Steps whose bake ended on an inconclusive judgement counted as healthy (PROCEED). */
export const UNJUDGED_STEPS = '$.inconclusive.steps';
