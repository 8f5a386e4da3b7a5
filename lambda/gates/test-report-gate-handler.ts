/**
 * The functional-test gate's verdict (ValidationGate.functionalTests): the state machine ran the user's CodeBuild
 * project against the new color (codebuild:startBuild.sync) and read the build's test reports
 * (codebuild:batchGetReports); this handler adds up the test cases of the gate's report group and passes when at least
 * `minPassRatePercent` of them passed (skipped ones not counted), and at least `minTestCases` ran.
 *
 * A build that failed (the .sync task's error: a non-zero exit, a timeout, a stop or a fault) fails the gate: the
 * state machine catches it straight into this hook without reading reports (lib/private/rollout-definition.ts), so
 * the reason says how to let the pass rate decide: a buildspec whose test command does not fail the build.
 */
import { readConfig } from '../shared/config';
import { TrafficHookEvent, TrafficHookResult } from '../shared/contracts';
import { failed, succeeded } from './hook-event';
import { TestReport, TestReportGateConfig, TestRun } from './gate-contract';

/** Build statuses whose reports are complete (FAILED: the test command exited non-zero). */
const COMPLETE_BUILD_STATUSES = new Set(['SUCCEEDED', 'FAILED']);

/** The build a failed .sync task carries in its Cause (the build description as JSON), when it does. */
function buildOfFailure(run: TestRun): TestRun['build'] | undefined {
  if (!run.Cause) return undefined;
  try {
    const parsed = JSON.parse(run.Cause) as { Build?: TestRun['build'] } & TestRun['build'];
    return parsed?.Build ?? (parsed && (parsed.Arn || parsed.Id) ? parsed : undefined);
  } catch {
    return undefined;
  }
}

/** The report group's name, from its ARN (arn:...:report-group/<name>). */
function groupName(reportGroupArn: string): string {
  return reportGroupArn.split(':report-group/')[1] ?? reportGroupArn;
}

export interface TestTotals {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly other: number;
  readonly reports: number;
}

/** Test cases of the group's reports by outcome: SUCCEEDED, FAILED/ERROR, SKIPPED, and the rest (UNKNOWN...) as not passed. */
export function totalsOf(reports: readonly TestReport[], reportGroupArn: string): TestTotals {
  const name = groupName(reportGroupArn);
  const ours = reports.filter((r) => r.ReportGroupArn === reportGroupArn || (r.Arn ?? '').includes(`:report/${name}:`));
  let passed = 0;
  let failedCount = 0;
  let skipped = 0;
  let other = 0;
  for (const r of ours) {
    const counts = r.TestSummary?.StatusCounts ?? {};
    for (const [status, n] of Object.entries(counts)) {
      if (status === 'SUCCEEDED') passed += n;
      else if (status === 'FAILED' || status === 'ERROR') failedCount += n;
      else if (status === 'SKIPPED') skipped += n;
      else other += n;
    }
  }
  return { passed, failed: failedCount, skipped, other, reports: ours.length };
}

export async function handler(event: TrafficHookEvent & { readonly testRun?: TestRun }): Promise<TrafficHookResult> {
  const config = readConfig<TestReportGateConfig>();
  const run = event?.testRun ?? {};
  const failedBuild = run.Error ? buildOfFailure(run) : undefined;
  const build = run.build ?? failedBuild;
  if (!build) {
    return failed(config.name, `the test build did not complete (${run.Error ?? 'no build'}: ${(run.Cause || 'no cause').slice(0, 500)}); a run whose suite did not finish proves nothing`);
  }
  const id = build.Id ?? build.Arn ?? 'unknown build';
  if (build.BuildStatus && !COMPLETE_BUILD_STATUSES.has(build.BuildStatus)) {
    return failed(config.name, `build ${id} ended ${build.BuildStatus}: its suite did not run to the end`);
  }
  if (failedBuild) {
    return failed(config.name, `build ${id} ended ${build.BuildStatus ?? 'failed'} (${run.Error}) before its reports were read: let the build succeed when test cases fail, so that the pass rate decides`);
  }
  if (run.reportsError) return failed(config.name, `reading the reports of build ${id} failed (${run.reportsError.Error}): ${run.reportsError.Cause ?? ''}`);
  const totals = totalsOf(run.reports?.Reports ?? [], config.reportGroupArn);
  const counted = totals.passed + totals.failed + totals.other;
  const detail = `${totals.passed} passed, ${totals.failed} failed${totals.other ? `, ${totals.other} other` : ''}${totals.skipped ? `, ${totals.skipped} skipped` : ''}`;
  if (totals.reports === 0) {
    return failed(config.name, `build ${id} wrote no report to report group ${groupName(config.reportGroupArn)} (its buildspec's "reports" section must name it)`);
  }
  // No test case at all is never a pass, whatever minTestCases says: 0 of 0 is no pass rate (NaN would compare false).
  if (counted < Math.max(1, config.minTestCases)) {
    return failed(config.name, `build ${id} ran ${counted} test case${counted === 1 ? '' : 's'} (${detail}) (limit: at least ${config.minTestCases})`);
  }
  const rate = Math.floor((totals.passed * 10000) / counted) / 100;
  if (rate < config.minPassRatePercent) {
    return failed(config.name, `${rate}% of ${counted} test cases passed in build ${id} (${detail}) (limit: at least ${config.minPassRatePercent}%)`);
  }
  return succeeded(config.name, `${rate}% of ${counted} test cases passed in build ${id} (${detail}; limit: ${config.minPassRatePercent}%)`);
}
