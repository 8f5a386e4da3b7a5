/**
 * The functional-test gate's CodeBuild in a rehearsal: `codebuild:startBuild.sync` runs the scenario's test suite
 * against the simulated service and `aws-sdk:codebuild:batchGetReports` returns its report.
 *
 * What the simulated build does:
 * - Each test case is one request to a path, sent to ZDT_BASE_URL with the header ZDT_TEST_ROUTE_HEADER:
 *   ZDT_TEST_ROUTE_VALUE from the build's environment (what the state machine overrides), through the rehearsal's HTTP
 *   transport (rehearsal/simulation-probes.ts), so the fake load balancer routes it to the new color and the scenario's
 *   answers apply. A case passes with a status below 400 within its timeout.
 * - The build takes the suite's duration on the virtual clock, then ends with the scenario's status (SUCCEEDED by
 *   default; the buildspec of a gate lets the pass rate decide). A build that does not succeed fails the .sync task
 *   with States.TaskFailed ("Run a Job (.sync)": the task fails when the job does, Step Functions developer guide);
 *   its Cause here is the build as JSON, an assumption of the rehearsal that the gate does not rely on (without
 *   reports read, a failed build fails the gate whatever its Cause).
 * - Its one report goes to the report group the functional-test gate reads (its verdict function's configuration);
 *   the report's test summary counts SUCCEEDED and FAILED cases, as CodeBuild's TestReportSummary does
 *   ("TestReportSummary", AWS CodeBuild API reference).
 */
import type { Clock } from '../lambda/shared/clock';
import type { HttpTransport } from '../lambda/gates/http-probe';
import type { TestReport } from '../lambda/gates/gate-contract';
import { TestBuildVariable } from '../lambda/gates/gate-contract';

const MS_PER_SECOND = 1000;
const NS_PER_MS = 1_000_000;
const PASSING_STATUS_BELOW = 400;
const CASE_TIMEOUT_MS = 5_000;
/** The suite when the scenario names none: the example app's core paths, five cases each. */
export const DEFAULT_TEST_SUITE: readonly string[] = ['/health', '/', '/api/users/me', '/api/projects'].flatMap((p) => [p, p, p, p, p]);
/** How long the simulated suite runs when the scenario does not say. */
export const DEFAULT_TEST_SUITE_SECONDS = 240;

/** The user's test suite in a scenario (scenario `functionalTests`). */
export interface SimulatedTestSuite {
  /** One path per test case. @default DEFAULT_TEST_SUITE (20 cases) */
  readonly cases?: readonly string[];
  /** @default 240 */
  readonly durationSeconds?: number;
  /** How the build ends (SUCCEEDED, FAILED, TIMED_OUT, FAULT, STOPPED). @default 'SUCCEEDED' */
  readonly buildStatus?: string;
}

export interface SimulatedCodeBuildOptions {
  readonly clock: Clock;
  readonly transport: HttpTransport;
  readonly region: string;
  readonly accountId: string;
  /** The report group the functional-test gate reads, or undefined when the rollout has none. */
  readonly reportGroupArn?: string;
  readonly suite?: SimulatedTestSuite;
}

interface EnvironmentVariable { readonly Name: string; readonly Value: string }

export class SimulatedCodeBuild {
  private readonly reports = new Map<string, TestReport>();
  private builds = 0;

  constructor(private readonly options: SimulatedCodeBuildOptions) {}

  /** codebuild:startBuild.sync: runs the suite, waits for the build, returns { Build }. */
  async startBuildSync(parameters: unknown): Promise<unknown> {
    const p = parameters as { ProjectName?: string; EnvironmentVariablesOverride?: EnvironmentVariable[] };
    const project = String(p.ProjectName ?? 'project');
    const env = Object.fromEntries((p.EnvironmentVariablesOverride ?? []).map((v) => [v.Name, v.Value]));
    const started = this.options.clock.now();
    const suite = this.options.suite ?? {};
    const cases = suite.cases ?? DEFAULT_TEST_SUITE;
    const counts = { SUCCEEDED: 0, FAILED: 0 };
    for (const path of cases) {
      const answer = await this.options.transport.send({
        url: `${String(env[TestBuildVariable.BASE_URL]).replace(/\/+$/, '')}${path}`,
        method: 'GET',
        headers: { [env[TestBuildVariable.TEST_ROUTE_HEADER]]: env[TestBuildVariable.TEST_ROUTE_VALUE] },
        timeoutMs: CASE_TIMEOUT_MS,
      });
      if (answer.status !== undefined && answer.status < PASSING_STATUS_BELOW) counts.SUCCEEDED++;
      else counts.FAILED++;
    }
    const remaining = (suite.durationSeconds ?? DEFAULT_TEST_SUITE_SECONDS) * MS_PER_SECOND - (this.options.clock.now() - started);
    if (remaining > 0) await this.options.clock.sleep(remaining);
    const id = `${project}:rehearsal-${++this.builds}`;
    const reportArns: string[] = [];
    if (this.options.reportGroupArn) {
      const groupName = this.options.reportGroupArn.split(':report-group/')[1] ?? 'reports';
      const arn = `arn:aws:codebuild:${this.options.region}:${this.options.accountId}:report/${groupName}:rehearsal-${this.builds}`;
      this.reports.set(arn, {
        Arn: arn, ReportGroupArn: this.options.reportGroupArn, Type: 'TEST', Status: counts.FAILED > 0 ? 'FAILED' : 'SUCCEEDED',
        TestSummary: { Total: cases.length, StatusCounts: counts, DurationInNanoSeconds: (this.options.clock.now() - started) * NS_PER_MS },
      });
      reportArns.push(arn);
    }
    const build = {
      Arn: `arn:aws:codebuild:${this.options.region}:${this.options.accountId}:build/${id}`, Id: id,
      BuildStatus: suite.buildStatus ?? 'SUCCEEDED', BuildComplete: true, ProjectName: project, ReportArns: reportArns,
    };
    if (build.BuildStatus !== 'SUCCEEDED') throw Object.assign(new Error(JSON.stringify({ Build: build })), { name: 'States.TaskFailed' });
    return { Build: build };
  }

  /** aws-sdk:codebuild:batchGetReports. */
  async batchGetReports(parameters: unknown): Promise<unknown> {
    const arns = (parameters as { ReportArns?: string[] }).ReportArns ?? [];
    return {
      Reports: arns.filter((a) => this.reports.has(a)).map((a) => this.reports.get(a)),
      ReportsNotFound: arns.filter((a) => !this.reports.has(a)),
    };
  }
}
