/**
 * Contract between the ValidationGate constructs (lib/gates) and the gate Lambdas (lambda/gates): their ZDT_CONFIG.
 * A gate is a traffic hook: it receives a TrafficHookEvent and returns a TrafficHookResult (lambda/shared/contracts.ts)
 * whose `reason` says which gate, which check, what it saw and what the limit was. Types and constants only.
 */
import type { TlsMode } from '../database/migration-contract';

/** One endpoint an HTTP gate calls. */
export interface HttpGateEndpoint {
  /** Path and query, starting with "/" (e.g. /api/projects?limit=1). */
  readonly path: string;
  /** HTTP method (GET, HEAD...): no request body is sent. */
  readonly method: string;
}

/** ZDT_CONFIG of the HTTP gate (lambda/gates/http-gate-handler.ts). */
export interface HttpGateConfig {
  /** Name of the gate in every reason ("HTTP check"). */
  readonly name: string;
  /** Scheme, host and port the paths are appended to (the load balancer listener). */
  readonly baseUrl: string;
  readonly endpoints: readonly HttpGateEndpoint[];
  /** A check passes with a status below this (400: any 1xx-3xx answer). */
  readonly maxStatusExclusive: number;
  /** ...and an answer within this many milliseconds. */
  readonly maxLatencyMs: number;
  /** An attempt without an answer after this many milliseconds has failed. */
  readonly requestTimeoutMs: number;
  /** Attempts per endpoint: an endpoint passes on its first good attempt, fails when all of them failed. */
  readonly attempts: number;
  /** Wait between two attempts of one endpoint. */
  readonly retryDelayMs: number;
}

/** ZDT_CONFIG of the performance-baseline gate (lambda/gates/performance-gate-handler.ts). */
export interface PerformanceGateConfig {
  /** Name of the gate in every reason ("Performance baseline"). */
  readonly name: string;
  readonly baseUrl: string;
  readonly endpoints: readonly HttpGateEndpoint[];
  /** Requests per endpoint and color, alternating between the colors. */
  readonly samples: number;
  /** The percentile compared (1-99), e.g. 90: p90 of the new color against p90 of the stable color. */
  readonly percentile: number;
  /** Fail when the new color's percentile exceeds the stable color's times this... */
  readonly maxLatencyFactor: number;
  /** ...and exceeds it by more than this many milliseconds (differences below it are noise). */
  readonly minDifferenceMs: number;
  readonly requestTimeoutMs: number;
  /** A color whose requests answer with a status at or above this has failed the comparison outright. */
  readonly maxStatusExclusive: number;
}

/** ZDT_CONFIG of the database gate (lambda/gates/database-gate-handler.ts). */
export interface DatabaseGateConfig {
  /** Name of the gate in every reason ("Database check"). */
  readonly name: string;
  /** Secrets Manager secret holding the RDS secret JSON { host, port, username, password, dbname }. */
  readonly secretArn: string;
  /** Connect and `SELECT 1` within this many milliseconds in all. */
  readonly timeoutMs: number;
  /** Attempts: the check passes on its first good attempt. */
  readonly attempts: number;
  readonly retryDelayMs: number;
  /** TLS of the connection, as the migration Lambda's (one public enum, DatabaseTls). */
  readonly tls: TlsMode;
}

/** ZDT_CONFIG of the functional-test gate's verdict Lambda (lambda/gates/test-report-gate-handler.ts). */
export interface TestReportGateConfig {
  /** Name of the gate in every reason ("Functional tests"). */
  readonly name: string;
  /** ARN of the CodeBuild report group the build writes its test reports to (only its reports count). */
  readonly reportGroupArn: string;
  /** Lowest pass rate, percent (passed / (all - skipped) test cases), that lets the rollout go on. */
  readonly minPassRatePercent: number;
  /** Fewer counted test cases than this: the gate fails (a suite that ran nothing proves nothing). */
  readonly minTestCases: number;
}

/**
 * Environment variables the functional-test build gets (CodeBuild StartBuild environmentVariablesOverride): where the
 * new color answers and how to reach it alone.
 */
export const TestBuildVariable = {
  /** Scheme, host and port of the load balancer listener (e.g. http://my-lb-123.us-east-1.elb.amazonaws.com). */
  BASE_URL: 'ZDT_BASE_URL',
  /** Header of the test route: send it on every request... */
  TEST_ROUTE_HEADER: 'ZDT_TEST_ROUTE_HEADER',
  /** ...with this value (the new color), so that only the new color answers. */
  TEST_ROUTE_VALUE: 'ZDT_TEST_ROUTE_VALUE',
  TARGET_COLOR: 'ZDT_TARGET_COLOR',
  STABLE_COLOR: 'ZDT_STABLE_COLOR',
  SERVICE: 'ZDT_SERVICE',
  /** ARN of the rollout execution. */
  EXECUTION: 'ZDT_EXECUTION',
} as const;

/**
 * What the state machine hands the verdict Lambda as `testRun` (lambda/gates/test-report-gate-handler.ts): the build
 * (codebuild:startBuild.sync's `Build`, PascalCase as Step Functions returns it) and the reports
 * (codebuild:batchGetReports' output), or the error of a build that failed (`Error`, `Cause`).
 */
export interface TestRun {
  readonly build?: { readonly Arn?: string; readonly Id?: string; readonly BuildStatus?: string; readonly ReportArns?: readonly string[] };
  readonly reports?: { readonly Reports?: readonly TestReport[]; readonly ReportsNotFound?: readonly string[] };
  readonly reportsError?: { readonly Error?: string; readonly Cause?: string };
  readonly Error?: string;
  readonly Cause?: string;
}

/** A CodeBuild report as BatchGetReports returns it (the fields the gate reads). */
export interface TestReport {
  readonly Arn?: string;
  readonly ReportGroupArn?: string;
  readonly Type?: string;
  readonly Status?: string;
  readonly TestSummary?: { readonly Total?: number; readonly StatusCounts?: Readonly<Record<string, number>>; readonly DurationInNanoSeconds?: number };
}
