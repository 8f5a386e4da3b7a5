/**
 * The CodeBuild fake (rehearsal/fakes/codebuild.ts): a build runs the suite through the transport on the clock,
 * writes one test report, is logged and can be faulted like every fake.
 */
import type { HttpTransport, ProbeRequest } from '../../lambda/gates/http-probe';
import { AwsFakes } from '../../rehearsal/fakes';
import { ManualClock } from './manual-clock';

const REPORT_GROUP = 'arn:aws:codebuild:us-east-1:123456789012:report-group/e2e';
const ENV = [
  { Name: 'ZDT_BASE_URL', Value: 'http://lb.example/' }, { Name: 'ZDT_TEST_ROUTE_HEADER', Value: 'x-zdt-color' }, { Name: 'ZDT_TEST_ROUTE_VALUE', Value: 'green' },
];

function world(statusOf: (path: string) => number | undefined = () => 200) {
  const clock = new ManualClock();
  const aws = new AwsFakes({ clock });
  const sent: ProbeRequest[] = [];
  const transport: HttpTransport = {
    async send(request) {
      sent.push(request);
      await clock.sleep(100);
      const status = statusOf(new URL(request.url).pathname);
      return status === undefined ? { latencyMs: 100, error: 'timeout' } : { status, latencyMs: 100 };
    },
  };
  return { clock, aws, sent, transport };
}

describe('FakeCodeBuild', () => {
  test('a build sends each case to the new color through the test route, takes the suite\'s time and reports its cases', async () => {
    const w = world((path) => (path === '/broken' ? 503 : 200));
    w.aws.codebuild.runSuite({ transport: w.transport, reportGroupArn: REPORT_GROUP, suite: { cases: ['/health', '/broken', '/health'], durationSeconds: 60 } });
    const started = w.clock.now();

    const { Build } = await w.aws.codebuild.startBuild({ ProjectName: 'e2e', EnvironmentVariablesOverride: ENV });
    expect(Build).toMatchObject({ Id: 'e2e:rehearsal-1', BuildStatus: 'IN_PROGRESS', BuildComplete: false });
    const done = await w.aws.codebuild.syncResult(Build.Id);

    expect(w.sent.map((r) => [r.url, r.headers])).toEqual([
      ['http://lb.example/health', { 'x-zdt-color': 'green' }], ['http://lb.example/broken', { 'x-zdt-color': 'green' }], ['http://lb.example/health', { 'x-zdt-color': 'green' }],
    ]);
    expect(w.clock.now() - started).toBe(60_000);
    expect(done.Build).toMatchObject({ BuildStatus: 'SUCCEEDED', BuildComplete: true, ReportArns: [expect.stringMatching(/:report\/e2e:rehearsal-1$/)] });
    const reports = await w.aws.codebuild.batchGetReports({ ReportArns: [...done.Build.ReportArns, 'arn:aws:codebuild:us-east-1:123456789012:report/e2e:gone'] });
    expect(reports.Reports[0]).toMatchObject({ ReportGroupArn: REPORT_GROUP, Status: 'FAILED', TestSummary: { Total: 3, StatusCounts: { SUCCEEDED: 2, FAILED: 1 } } });
    expect(reports.ReportsNotFound).toEqual(['arn:aws:codebuild:us-east-1:123456789012:report/e2e:gone']);
    expect((await w.aws.codebuild.batchGetBuilds({ Ids: [Build.Id, 'e2e:nope'] }))).toMatchObject({ Builds: [{ BuildStatus: 'SUCCEEDED' }], BuildsNotFound: ['e2e:nope'] });
    expect(w.aws.calls.filter((c) => c.service === 'codebuild').map((c) => c.command)).toEqual(['StartBuild', 'BatchGetReports', 'BatchGetBuilds']);
  });

  test('a build that does not succeed fails the .sync task with States.TaskFailed, the build in its cause', async () => {
    const w = world();
    w.aws.codebuild.runSuite({ transport: w.transport, suite: { cases: ['/'], buildStatus: 'TIMED_OUT' } });
    const { Build } = await w.aws.codebuild.startBuild({ ProjectName: 'e2e', EnvironmentVariablesOverride: ENV });
    await expect(w.aws.codebuild.syncResult(Build.Id)).rejects.toMatchObject({ name: 'States.TaskFailed', message: expect.stringContaining('"BuildStatus":"TIMED_OUT"') });
  });

  test('StartBuild can be faulted and logs the fault; a project before runSuite is not found', async () => {
    const w = world();
    await expect(w.aws.codebuild.startBuild({ ProjectName: 'e2e' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    w.aws.codebuild.runSuite({ transport: w.transport });
    w.aws.faults.add({ service: 'codebuild', command: 'StartBuild', error: 'AccountLimitExceededException' });
    await expect(w.aws.codebuild.startBuild({ ProjectName: 'e2e', EnvironmentVariablesOverride: ENV })).rejects.toMatchObject({ name: 'AccountLimitExceededException' });
    expect(w.aws.calls.filter((c) => c.service === 'codebuild').map((c) => [c.command, c.error, c.injected])).toEqual([
      ['StartBuild', 'ResourceNotFoundException', undefined], ['StartBuild', 'AccountLimitExceededException', true],
    ]);
    expect(() => w.aws.codebuild.runSuite({ transport: w.transport, suite: { buildStatus: 'DONE' } })).toThrow(/buildStatus must be one of SUCCEEDED, FAILED, FAULT, STOPPED, TIMED_OUT, got "DONE"/);
  });
});
