/**
 * What every rehearsal driver opens and closes around a run (Simulation for traffic rollouts, rehearseFlagRollout
 * for flag rollouts): the virtual clock as the handlers' clock, the AWS fakes behind the SDK clients, the handlers'
 * log level; the library's handlers bound from a template; and an execution run in that world (the state machines'
 * native integrations answered by those fakes, task tokens open on the fake Step Functions API, the retry jitter
 * seeded). One place, so both drivers run the handlers in the same world, the same way.
 */
import { Clock, setClock } from '../lambda/shared/clock';
import { dynamoDbIntegrations, prefixErrors } from './dynamodb-integration';
import { AwsFakes, AwsFakesOptions, PutEventsParams } from './fakes';
import { bindHandlers } from './handlers';
import { mulberry32 } from './random';
import { IntegrationHandler, LambdaFunctionHandler, RunResult, runStateMachine, RunStateMachineOptions } from './runner';
import type { CfnTemplate, TemplateResolverOptions } from './template';

export interface LocalAws {
  readonly aws: AwsFakes;
  /** Puts back the clock, the SDK clients and the log level (in the reverse order they were set). */
  readonly close: () => void;
}

/** Sets `clock` as the handlers' clock, installs AWS fakes on it and sets ZDT_LOG_LEVEL (default silent). */
export function openLocalAws(clock: Clock, options: { readonly logLevel?: string; readonly aws?: Omit<AwsFakesOptions, 'clock'> } = {}): LocalAws {
  const restoreClock = setClock(clock);
  const aws = new AwsFakes({ ...options.aws, clock }).install();
  const previousLevel = process.env.ZDT_LOG_LEVEL;
  process.env.ZDT_LOG_LEVEL = options.logLevel ?? 'silent';
  return {
    aws,
    close: () => {
      if (previousLevel === undefined) delete process.env.ZDT_LOG_LEVEL;
      else process.env.ZDT_LOG_LEVEL = previousLevel;
      aws.restore();
      restoreClock();
    },
  };
}

/**
 * The native integrations of the library's state machines, answered by the fakes: DynamoDB, EventBridge PutEvents
 * (the accepted events reach listeners through aws.events.onDeliver), SNS Publish, CloudWatch PutMetricData, CodeBuild
 * StartBuild.sync and BatchGetReports. Each error comes prefixed with its service, as Step Functions names them.
 */
export function nativeIntegrations(aws: AwsFakes): Record<string, IntegrationHandler> {
  return {
    ...dynamoDbIntegrations(),
    'events:putEvents': (params) => prefixErrors('EventBridge', () => aws.events.putEvents(params as PutEventsParams)),
    'sns:publish': (params) => prefixErrors('SNS', () => aws.sns.publish(params as never)),
    'aws-sdk:cloudwatch:putMetricData': (params) => prefixErrors('CloudWatch', () => aws.invoke('cloudwatch', 'PutMetricData', params)),
    // StartBuild's errors come prefixed with the service, as every integration's; the build's end is States.TaskFailed.
    'codebuild:startBuild.sync': async (params) => {
      const { Build } = await prefixErrors('CodeBuild', () => aws.codebuild.startBuild(params));
      return aws.codebuild.syncResult(Build.Id);
    },
    'aws-sdk:codebuild:batchGetReports': (params) => prefixErrors('CodeBuild', () => aws.codebuild.batchGetReports(params)),
  };
}

/**
 * The library's handlers of `template`, bound in-process at the handlers' log level (ZDT_LOG_LEVEL as openLocalAws
 * set it; silent without).
 */
export function bindLibraryHandlers(template: CfnTemplate, resolverOptions: TemplateResolverOptions): Map<string, LambdaFunctionHandler> {
  return bindHandlers(template, {}, { ...resolverOptions, environment: { ZDT_LOG_LEVEL: process.env.ZDT_LOG_LEVEL ?? 'silent' } });
}

export interface LocalRunOptions extends Omit<RunStateMachineOptions, 'integrations' | 'stepFunctions' | 'random'> {
  /**
   * Seed of the retry jitter (JitterStrategy FULL), so that every rehearsal of a scenario and seed is identical.
   * @default 1
   */
  readonly seed?: number;
}

/**
 * One execution in the local world: runStateMachine with the native integrations of `aws` (nativeIntegrations), task
 * tokens open on its Step Functions API (a handler, a rule's target or the CLI may answer them) and the retry
 * jitter drawn from a PRNG seeded with `seed`.
 */
export function runInLocalAws(aws: AwsFakes, options: LocalRunOptions): Promise<RunResult> {
  const { seed, ...run } = options;
  return runStateMachine({ ...run, integrations: nativeIntegrations(aws), stepFunctions: aws.stepfunctions, random: mulberry32(seed ?? 1) });
}
