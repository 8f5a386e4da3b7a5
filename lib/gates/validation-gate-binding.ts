import { Duration } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { IBlueGreenRouting } from '../routing/blue-green-routing';

/** When a gate runs: before any production traffic moves, or once the new color has its full share. */
export enum GatePhase {
  /** Before any production traffic moves (after the Started event). */
  PRE_TRAFFIC = 'preTraffic',
  /** Once the last step has given the new color its share, before its live color is recorded. */
  POST_TRAFFIC = 'postTraffic',
}

/** What a gate needs to know about the rollout it guards. */
export interface ValidationGateContext {
  /** The routing of the rollout: the load balancer, the listener and the test route. */
  readonly routing: IBlueGreenRouting;
  /** The rollout's service name. */
  readonly serviceName: string;
  /** When the gate runs. */
  readonly phase: GatePhase;
  /** The longest the rollout lets one hook run (ProgressiveRollout `hookTimeout`): the gate must fit in it. */
  readonly hookTimeout: Duration;
  /** Retention of the gate function's logs. */
  readonly logRetention: logs.RetentionDays;
}

/**
 * A CodeBuild build the rollout runs before a gate's hook (codebuild:startBuild.sync, so it may run longer than a
 * Lambda function), with the new color's address in its environment; the hook then judges its test reports.
 */
export interface GateTestBuild {
  /** The project that runs the test suite. */
  readonly project: codebuild.IProject;
  /** The report group whose reports the hook reads (the build's reports are read with codebuild:BatchGetReports). */
  readonly reportGroup: codebuild.IReportGroup;
  /** Scheme, host and port the suite sends its requests to (ZDT_BASE_URL). */
  readonly baseUrl: string;
  /** Longest run of the build; counted in the lock's lifetime. */
  readonly timeout: Duration;
}

/** A gate bound to a rollout: the traffic hook the rollout runs. */
export interface ValidationGateBinding {
  /**
   * The Lambda function the rollout invokes with a TrafficHookEvent; it returns a TrafficHookResult. After a
   * `testBuild`, the event also carries `testRun` (the build and its reports, or the build's error).
   */
  readonly hook: lambda.IFunction;
  /**
   * A build to run before the hook.
   * @default - none: the hook alone
   */
  readonly testBuild?: GateTestBuild;
}

/**
 * A ready-made validation gate: bound once to one rollout, it creates the traffic hook that checks the new color.
 * Make gates with the factories of ValidationGate.
 */
export interface IValidationGate {
  /** Name of the gate in the rollback's cause ("HTTP check"). */
  readonly name: string;
  /** Creates the gate's resources in `scope`. Called once, by ProgressiveRollout. */
  bind(scope: Construct, context: ValidationGateContext): ValidationGateBinding;
}
