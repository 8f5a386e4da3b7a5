import { DatabaseGate, DatabaseGateProps } from './database-gate';
import { FunctionalTestGate, FunctionalTestGateProps } from './functional-test-gate';
import { HttpGate, HttpGateProps } from './http-gate';
import { PerformanceGate, PerformanceGateProps } from './performance-gate';

/**
 * Ready-made validation gates for ProgressiveRollout `preTrafficGates` / `postTrafficGates`, each configured in a line:
 *
 *   preTrafficGates: [
 *     ValidationGate.http({ endpoints: ['/health', '/api/users/me', '/api/projects'], maxLatency: Duration.millis(500) }),
 *     ValidationGate.database({ secret }),
 *   ]
 *
 * A gate that fails rolls the rollout back; the rollback's cause says which gate, which check, what it saw and the
 * limit (e.g. "HTTP check failed: 1 of 3 endpoints failed: GET /api/projects on green: status 503 (limit: below 400)").
 */
export class ValidationGate {
  /** Calls each endpoint on the new color through the test route: status below 400 within `maxLatency`. */
  public static http(props: HttpGateProps): HttpGate {
    return new HttpGate(props);
  }

  /** Connects to the database with its secret and runs `SELECT 1` within `timeout` (1 second by default). */
  public static database(props: DatabaseGateProps): DatabaseGate {
    return new DatabaseGate(props);
  }

  /**
   * Compares the new color's latency with the stable color's on the same endpoints, both reached through the test
   * route: fails when the new color is slower by more than `maxLatencyFactor` and `minDifference`.
   */
  public static performanceBaseline(props: PerformanceGateProps): PerformanceGate {
    return new PerformanceGate(props);
  }

  /**
   * Runs your test suite (a CodeBuild project) against the new color and passes at a pass rate of at least
   * `minPassRate` (95% by default) of its report group's test cases.
   */
  public static functionalTests(props: FunctionalTestGateProps): FunctionalTestGate {
    return new FunctionalTestGate(props);
  }

  private constructor() {}
}
