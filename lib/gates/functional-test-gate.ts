import { Duration } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { Construct } from 'constructs';
import { TestReportGateConfig } from '../../lambda/gates/gate-contract';
import { gateBaseUrl } from '../private/gate-network';
import { HandlerFunction } from '../private/handler-function';
import { PropChecks, propError } from '../private/validation';
import { IValidationGate, ValidationGateBinding, ValidationGateContext } from './validation-gate-binding';

/** Options of ValidationGate.functionalTests. */
export interface FunctionalTestGateProps {
  /**
   * The CodeBuild project that runs your test suite. It gets ZDT_BASE_URL, ZDT_TEST_ROUTE_HEADER and
   * ZDT_TEST_ROUTE_VALUE (send that header with that value on every request to reach the new color only), and
   * ZDT_TARGET_COLOR, ZDT_STABLE_COLOR, ZDT_SERVICE, ZDT_EXECUTION. Its buildspec writes JUnit (or another format
   * CodeBuild reads) into `reportGroup`; to let the pass rate decide, do not fail the build on failing test cases.
   * For an internal load balancer, run the project in the VPC and let it reach the listener.
   */
  readonly project: codebuild.IProject;
  /** The report group the buildspec's `reports` section writes to: only its test cases count. */
  readonly reportGroup: codebuild.IReportGroup;
  /**
   * Lowest share of passed test cases (skipped ones not counted), percent.
   * @default 95
   */
  readonly minPassRate?: number;
  /**
   * Fewest test cases that must have run, at least 1 (a pass rate of no test case means nothing).
   * @default 1
   */
  readonly minTestCases?: number;
  /**
   * Longest run of the build, 5 minutes to 8 hours (CodeBuild's limit); counted in the rollout's lock lifetime.
   * @default Duration.minutes(30)
   */
  readonly timeout?: Duration;
  /**
   * Scheme, host and port the suite calls (needed for an HTTPS listener).
   * @default - http:// the load balancer's DNS name, on the listener's port
   */
  readonly baseUrl?: string;
  /**
   * Name of the gate in the rollback's cause.
   * @default 'Functional tests'
   */
  readonly name?: string;
}

const DEFAULTS = { minPassRate: 95, minTestCases: 1, timeout: Duration.minutes(30), name: 'Functional tests' };

/**
 * The functional-test gate (ValidationGate.functionalTests): the rollout starts your CodeBuild project with the new
 * color's address and test route (a native codebuild:startBuild.sync task: the suite may run for hours, beyond a
 * Lambda function's 15 minutes), reads the build's test reports (codebuild:batchGetReports), and a small Lambda
 * function passes the gate when at least `minPassRate` percent of the report group's test cases passed.
 *
 * Why CodeBuild: it runs any test suite in any language from your buildspec, in your VPC when needed, is billed by the
 * minute, and its report groups count test cases from JUnit, Cucumber, TestNG, NUnit or Visual Studio reports without
 * code of ours; Step Functions waits for the build natively.
 */
export class FunctionalTestGate implements IValidationGate {
  public readonly name: string;

  constructor(private readonly props: FunctionalTestGateProps) {
    this.name = props.name ?? DEFAULTS.name;
  }

  public bind(scope: Construct, context: ValidationGateContext): ValidationGateBinding {
    const props = this.props;
    if (!context.routing.testRouteHeader) {
      throw propError(scope, `${this.name} needs the routing's test route (BlueGreenRouting testRoute is off): without it the suite would test the production color`);
    }
    new PropChecks(scope)
      .number('minPassRate', props.minPassRate, 0, 100, { integer: false })
      .number('minTestCases', props.minTestCases, 1, 1_000_000)
      .duration('timeout', props.timeout, Duration.minutes(5), Duration.hours(8));
    const config: TestReportGateConfig = {
      name: this.name,
      reportGroupArn: props.reportGroup.reportGroupArn,
      minPassRatePercent: props.minPassRate ?? DEFAULTS.minPassRate,
      minTestCases: props.minTestCases ?? DEFAULTS.minTestCases,
    };
    const fn = new HandlerFunction(scope, 'Verdict', {
      handler: 'test-report-gate',
      description: `cdk-zero-downtime: ${this.name} of ${context.serviceName} (pass rate of the test reports)`,
      config,
      timeout: Duration.seconds(30),
      logRetention: context.logRetention,
    });
    return {
      hook: fn,
      testBuild: { project: props.project, reportGroup: props.reportGroup, baseUrl: gateBaseUrl(scope, props.baseUrl, context.routing), timeout: props.timeout ?? DEFAULTS.timeout },
    };
  }
}
