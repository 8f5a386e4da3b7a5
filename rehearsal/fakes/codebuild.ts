/**
 * CodeBuild for the functional-test gate: builds of a project, their test reports, and the Step Functions
 * `codebuild:startBuild.sync` integration the gate's state machine uses. Shapes are Step Functions' (PascalCase
 * Parameters and results: its optimized and AWS SDK integrations present CodeBuild's fields that way); no handler calls
 * CodeBuild through an SDK client. Calls go through AwsFakes' gate: logged in `aws.calls` (service 'codebuild') and
 * subject to `aws.faults`, like every other fake.
 *
 * What a build does here: the project's buildspec is the scenario's test suite (`runSuite`). Each case is one request
 * to a path, sent to ZDT_BASE_URL with the header ZDT_TEST_ROUTE_HEADER: ZDT_TEST_ROUTE_VALUE from the build's
 * environment (what the state machine overrides), through the rehearsal's HTTP transport, so the fake load balancer
 * routes it to the new color and the scenario's answers apply; a case passes with a status below 400 within its
 * timeout. The build then takes the suite's duration on the virtual clock and ends with the scenario's status.
 */
import type { Clock } from '../../lambda/shared/clock';
import type { HttpTransport } from '../../lambda/gates/http-probe';
import type { TestReport } from '../../lambda/gates/gate-contract';
import { TestBuildVariable } from '../../lambda/gates/gate-contract';
import { awsError } from './aws-errors';
import type { CallGate } from './recorders';

const MS_PER_SECOND = 1000;
const NS_PER_MS = 1_000_000;
const PASSING_STATUS_BELOW = 400;
const CASE_TIMEOUT_MS = 5_000;
/** The suite when the scenario names none: the example app's core paths, five cases each. */
export const DEFAULT_TEST_SUITE: readonly string[] = ['/health', '/', '/api/users/me', '/api/projects'].flatMap((p) => [p, p, p, p, p]);
/** How long the simulated suite runs when the scenario does not say. */
export const DEFAULT_TEST_SUITE_SECONDS = 240;
/**
 * A build's terminal statuses (AWS CodeBuild API Reference, "Build": buildStatus is FAILED, FAULT, IN_PROGRESS,
 * STOPPED, SUCCEEDED or TIMED_OUT; every one but IN_PROGRESS ends the build).
 */
const BUILD_STATUSES = ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'] as const;

/** The user's test suite in a scenario (scenario `functionalTests`). */
export interface SimulatedTestSuite {
  /** One path per test case. @default DEFAULT_TEST_SUITE (20 cases) */
  readonly cases?: readonly string[];
  /** @default 240 */
  readonly durationSeconds?: number;
  /** How the build ends (SUCCEEDED, FAILED, TIMED_OUT, FAULT, STOPPED). @default 'SUCCEEDED' */
  readonly buildStatus?: string;
}

/** What every build runs: the suite, through the rehearsal's transport, reporting to the gate's report group. */
export interface CodeBuildSuiteRun {
  readonly transport: HttpTransport;
  /** The report group the functional-test gate reads, or undefined when the rollout has none (no report is written). */
  readonly reportGroupArn?: string;
  readonly suite?: SimulatedTestSuite;
}

export interface FakeCodeBuildOptions {
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
}

interface EnvironmentVariable { readonly Name: string; readonly Value: string }

/** A build as BatchGetBuilds / StartBuild show it (the fields the library reads or the rehearsal shows). */
export interface FakeBuild {
  readonly Arn: string;
  readonly Id: string;
  readonly ProjectName: string;
  BuildStatus: string;
  BuildComplete: boolean;
  ReportArns: string[];
}

export class FakeCodeBuild {
  private readonly builds = new Map<string, { build: FakeBuild; done: Promise<void> }>();
  private readonly reports = new Map<string, TestReport>();
  private run?: CodeBuildSuiteRun;
  private counter = 0;

  constructor(private readonly options: FakeCodeBuildOptions, private readonly gate?: CallGate) {}

  /** What the builds of every project run from now on. */
  runSuite(run: CodeBuildSuiteRun): void {
    const status = run.suite?.buildStatus;
    if (status !== undefined && !(BUILD_STATUSES as readonly string[]).includes(status)) {
      throw new Error(`functionalTests.buildStatus must be one of ${BUILD_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
    }
    this.run = run;
  }

  /**
   * StartBuild (AWS CodeBuild API Reference, "StartBuild": returns the build, buildStatus IN_PROGRESS, and runs it;
   * ResourceNotFoundException for a project it does not know: here, any project before `runSuite`).
   */
  startBuild(params: unknown): Promise<{ Build: FakeBuild }> {
    return this.gated('StartBuild', params, () => this.start(params));
  }

  /**
   * BatchGetBuilds (API Reference, "BatchGetBuilds": the builds found, and the ids not found in buildsNotFound).
   */
  batchGetBuilds(params: unknown): Promise<{ Builds: FakeBuild[]; BuildsNotFound: string[] }> {
    return this.gated('BatchGetBuilds', params, () => this.getBuilds(params));
  }

  /** BatchGetReports (API Reference, "BatchGetReports": the reports found, and the ARNs not found in reportsNotFound). */
  batchGetReports(params: unknown): Promise<{ Reports: TestReport[]; ReportsNotFound: string[] }> {
    return this.gated('BatchGetReports', params, () => this.getReports(params));
  }

  /**
   * The end of Step Functions' `codebuild:startBuild.sync` after its StartBuild (Step Functions Developer Guide,
   * "Run a Job (.sync)": the task waits for the build to complete; "Integrating CodeBuild": its result is the build,
   * `{ Build }`). A build that ends other than SUCCEEDED fails the task with States.TaskFailed (Developer Guide,
   * "Error handling": a Task state failed). Its Cause is not documented: the fake puts the build as JSON `{ Build }`,
   * which the functional-test gate does not read (a failed build fails the gate whatever it says).
   */
  async syncResult(buildId: string): Promise<{ Build: FakeBuild }> {
    const entry = this.builds.get(buildId);
    if (!entry) throw awsError('codebuild', 'ResourceNotFoundException', `Build ${buildId} cannot be found`);
    await entry.done;
    const build = { ...entry.build, ReportArns: [...entry.build.ReportArns] };
    if (build.BuildStatus !== 'SUCCEEDED') throw Object.assign(new Error(JSON.stringify({ Build: build })), { name: 'States.TaskFailed' });
    return { Build: build };
  }

  /** The call without the gate (AwsFakes.invoke, which gates it itself). */
  ungated(command: string, params: unknown): Promise<unknown> | unknown {
    switch (command) {
      case 'StartBuild': return this.start(params);
      case 'BatchGetBuilds': return this.getBuilds(params);
      default: return this.getReports(params);
    }
  }

  private gated<T>(command: string, params: unknown, run: () => T): Promise<T> {
    return this.gate ? this.gate(command, params, run) : Promise.resolve().then(run);
  }

  private start(parameters: unknown): { Build: FakeBuild } {
    const p = parameters as { ProjectName?: string; EnvironmentVariablesOverride?: EnvironmentVariable[] };
    const project = p.ProjectName;
    if (!project) throw awsError('codebuild', 'InvalidInputException', 'ProjectName is required');
    const run = this.run;
    if (!run) throw awsError('codebuild', 'ResourceNotFoundException', `Project cannot be found: ${project}`);
    const n = ++this.counter;
    const id = `${project}:rehearsal-${n}`;
    const build: FakeBuild = {
      Arn: `arn:aws:codebuild:${this.options.region}:${this.options.accountId}:build/${id}`, Id: id, ProjectName: project,
      BuildStatus: 'IN_PROGRESS', BuildComplete: false, ReportArns: [],
    };
    const env = Object.fromEntries((p.EnvironmentVariablesOverride ?? []).map((v) => [v.Name, v.Value]));
    // A build whose suite cannot run (the transport threw) ends as CodeBuild's FAULT: "the build failed through no
    // fault of the user" ("Build": buildStatus).
    const done = this.runBuild(build, n, env, run, run.suite?.buildStatus ?? 'SUCCEEDED').catch(() => {
      build.BuildStatus = 'FAULT';
      build.BuildComplete = true;
    });
    this.builds.set(id, { build, done });
    return { Build: { ...build } };
  }

  /** Runs the suite, waits out its duration, writes the report, then completes the build. */
  private async runBuild(build: FakeBuild, n: number, env: Record<string, string>, run: CodeBuildSuiteRun, status: string): Promise<void> {
    const { clock } = this.options;
    const started = clock.now();
    const suite = run.suite ?? {};
    const cases = suite.cases ?? DEFAULT_TEST_SUITE;
    const counts = { SUCCEEDED: 0, FAILED: 0 };
    for (const path of cases) {
      const answer = await run.transport.send({
        url: `${String(env[TestBuildVariable.BASE_URL]).replace(/\/+$/, '')}${path}`,
        method: 'GET',
        headers: { [env[TestBuildVariable.TEST_ROUTE_HEADER]]: env[TestBuildVariable.TEST_ROUTE_VALUE] },
        timeoutMs: CASE_TIMEOUT_MS,
      });
      if (answer.status !== undefined && answer.status < PASSING_STATUS_BELOW) counts.SUCCEEDED++;
      else counts.FAILED++;
    }
    const remaining = (suite.durationSeconds ?? DEFAULT_TEST_SUITE_SECONDS) * MS_PER_SECOND - (clock.now() - started);
    if (remaining > 0) await clock.sleep(remaining);
    if (run.reportGroupArn) {
      // A test report's summary counts its cases by status (API Reference, "TestReportSummary": total,
      // statusCounts, durationInNanoSeconds); its status is SUCCEEDED or FAILED ("Report": status).
      const groupName = run.reportGroupArn.split(':report-group/')[1] ?? 'reports';
      const arn = `arn:aws:codebuild:${this.options.region}:${this.options.accountId}:report/${groupName}:rehearsal-${n}`;
      this.reports.set(arn, {
        Arn: arn, ReportGroupArn: run.reportGroupArn, Type: 'TEST', Status: counts.FAILED > 0 ? 'FAILED' : 'SUCCEEDED',
        TestSummary: { Total: cases.length, StatusCounts: counts, DurationInNanoSeconds: (clock.now() - started) * NS_PER_MS },
      });
      build.ReportArns.push(arn);
    }
    build.BuildStatus = status;
    build.BuildComplete = true;
  }

  private getBuilds(parameters: unknown): { Builds: FakeBuild[]; BuildsNotFound: string[] } {
    const ids = (parameters as { Ids?: string[] }).Ids ?? [];
    return {
      Builds: ids.filter((id) => this.builds.has(id)).map((id) => ({ ...this.builds.get(id)!.build, ReportArns: [...this.builds.get(id)!.build.ReportArns] })),
      BuildsNotFound: ids.filter((id) => !this.builds.has(id)),
    };
  }

  private getReports(parameters: unknown): { Reports: TestReport[]; ReportsNotFound: string[] } {
    const arns = (parameters as { ReportArns?: string[] }).ReportArns ?? [];
    return {
      Reports: arns.filter((a) => this.reports.has(a)).map((a) => this.reports.get(a)!),
      ReportsNotFound: arns.filter((a) => !this.reports.has(a)),
    };
  }
}
