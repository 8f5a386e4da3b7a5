/** The functional-test gate's verdict on the build and reports the state machine hands it. */
import { handler } from '../../lambda/gates/test-report-gate-handler';
import { TestReport, TestReportGateConfig, TestRun } from '../../lambda/gates/gate-contract';
import { TrafficHookEvent } from '../../lambda/shared/contracts';
import { setConfig } from '../lambda/support/env';

const GROUP = 'arn:aws:codebuild:us-east-1:111111111111:report-group/everjust-e2e';
const EVENT: TrafficHookEvent = {
  hook: 'preTraffic', service: 'web', execution: 'arn:aws:states:us-east-1:111111111111:execution:m:e',
  targetColor: 'green', stableColor: 'blue', testRoute: { header: 'x-zdt-color', value: 'green' },
};
const BUILD = { Arn: 'arn:aws:codebuild:us-east-1:111111111111:build/e2e:b1', Id: 'e2e:b1', BuildStatus: 'SUCCEEDED', ReportArns: [`${GROUP.replace('report-group/', 'report/')}:r1`] };

function report(counts: Record<string, number>, group = GROUP): TestReport {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { Arn: `${group.replace('report-group/', 'report/')}:r1`, ReportGroupArn: group, Type: 'TEST', Status: 'SUCCEEDED', TestSummary: { Total: total, StatusCounts: counts } };
}

const verdict = (testRun: TestRun, overrides: Partial<TestReportGateConfig> = {}) => {
  setConfig({ name: 'Functional tests', reportGroupArn: GROUP, minPassRatePercent: 95, minTestCases: 1, ...overrides } satisfies TestReportGateConfig);
  return handler({ ...EVENT, testRun });
};

describe('functional-test gate verdict', () => {
  test('passes at a pass rate of at least 95%, skipped cases not counted', async () => {
    const result = await verdict({ build: BUILD, reports: { Reports: [report({ SUCCEEDED: 95, FAILED: 5, SKIPPED: 7 })] } });
    expect(result).toEqual({ status: 'Succeeded', reason: 'Functional tests passed: 95% of 100 test cases passed in build e2e:b1 (95 passed, 5 failed, 7 skipped; limit: 95%)' });
  });

  test('fails below the pass rate, saying how many passed and failed, in which build, and the limit', async () => {
    const result = await verdict({ build: BUILD, reports: { Reports: [report({ SUCCEEDED: 94, FAILED: 5, ERROR: 1 })] } });
    expect(result).toEqual({ status: 'Failed', reason: 'Functional tests failed: 94% of 100 test cases passed in build e2e:b1 (94 passed, 6 failed) (limit: at least 95%)' });
  });

  test('the pass rate is configurable', async () => {
    expect((await verdict({ build: BUILD, reports: { Reports: [report({ SUCCEEDED: 80, FAILED: 20 })] } }, { minPassRatePercent: 80 })).status).toBe('Succeeded');
  });

  test('counts only the reports of its report group', async () => {
    const other = report({ FAILED: 50 }, 'arn:aws:codebuild:us-east-1:111111111111:report-group/unit');
    const result = await verdict({ build: BUILD, reports: { Reports: [report({ SUCCEEDED: 20 }), other] } });
    expect(result.status).toBe('Succeeded');
  });

  test('a failed build whose reports were not read fails, saying how to let the pass rate decide', async () => {
    const result = await verdict({ Error: 'States.TaskFailed', Cause: JSON.stringify({ Build: { ...BUILD, BuildStatus: 'FAILED' } }) });
    expect(result.reason).toBe('Functional tests failed: build e2e:b1 ended FAILED (States.TaskFailed) before its reports were read: let the build succeed when test cases fail, so that the pass rate decides');
  });

  test('times out: a build that timed out fails the gate, its suite did not finish', async () => {
    const result = await verdict({ build: { ...BUILD, BuildStatus: 'TIMED_OUT' }, reports: { Reports: [report({ SUCCEEDED: 10 })] } });
    expect(result).toEqual({ status: 'Failed', reason: 'Functional tests failed: build e2e:b1 ended TIMED_OUT: its suite did not run to the end' });
    const sfnTimeout = await verdict({ Error: 'States.Timeout', Cause: '' });
    expect(sfnTimeout.reason).toMatch(/^Functional tests failed: the test build did not complete \(States\.Timeout: no cause\)/);
  });

  test('fails when the build wrote no report to the group, or too few test cases ran', async () => {
    expect((await verdict({ build: { ...BUILD, ReportArns: undefined } })).reason).toMatch(/build e2e:b1 wrote no report to report group everjust-e2e/);
    expect((await verdict({ build: BUILD, reports: { Reports: [report({ SUCCEEDED: 3 })] } }, { minTestCases: 10 })).reason)
      .toBe('Functional tests failed: build e2e:b1 ran 3 test cases (3 passed, 0 failed) (limit: at least 10)');
  });

  test('fails when no test case ran, even with minTestCases 0 (no pass rate)', async () => {
    const result = await verdict({ build: BUILD, reports: { Reports: [report({ SKIPPED: 4 })] } }, { minTestCases: 0 });
    expect(result.status).toBe('Failed');
    expect(result.reason).toMatch(/ran 0 test cases/);
  });

  test('fails when the reports could not be read', async () => {
    const result = await verdict({ build: BUILD, reportsError: { Error: 'CodeBuild.AccessDeniedException', Cause: 'not authorized' } });
    expect(result.reason).toBe('Functional tests failed: reading the reports of build e2e:b1 failed (CodeBuild.AccessDeniedException): not authorized');
  });
});
