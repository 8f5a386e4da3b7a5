import { AnalysisConfig } from '../../../lambda/shared/contracts';

/** The judge's metric analysis as the tests configure it: 5-minute window, 50 requests, 1% / 2x, 500 ms / 1.5x. */
export const ANALYSIS: AnalysisConfig = {
  loadBalancer: 'app/web/0123456789abcdef',
  targetGroups: { blue: 'targetgroup/web-blue/1111', green: 'targetgroup/web-green/2222' },
  windowSeconds: 300,
  minRequests: 50,
  maxErrorRatePercent: 1,
  errorRateBaselineFactor: 2,
  maxLatencyP99Ms: 500,
  latencyBaselineFactor: 1.5,
};
