/**
 * What a rollout costs to run on AWS, estimated from the rehearsal's counts.
 *
 * Prices (us-east-1, on-demand, as AWS lists them on the Step Functions and Lambda pricing pages; checked against
 * the published figures known here, not fetched — there is no internet on this machine):
 * - Step Functions Standard workflows: $0.025 per 1,000 state transitions (the first 4,000 a month are free; the
 *   estimate ignores the free tier).
 * - Lambda requests: $0.20 per 1M requests.
 * - Lambda duration: $0.0000166667 per GB-second on x86_64, $0.0000133334 per GB-second on arm64 (the library's
 *   handlers run on arm64).
 * Not counted: CloudWatch GetMetricData ($0.01 per 1,000 metrics requested), DescribeAlarms (free), DynamoDB
 * on-demand requests, EventBridge and SNS deliveries — each well under a cent per rollout.
 *
 * Lambda duration is not measured in the rehearsal (handlers run in-process against fakes): each invocation is
 * billed `billedMsPerInvocation` (default 200 ms: an SDK call or two to an AWS API in the same region, plus the
 * first-invocation cold start amortized over a rollout).
 */

export const STEP_FUNCTIONS_STANDARD_USD_PER_TRANSITION = 0.025 / 1000;
export const LAMBDA_USD_PER_REQUEST = 0.2 / 1_000_000;
export const LAMBDA_USD_PER_GB_SECOND_X86 = 0.0000166667;
export const LAMBDA_USD_PER_GB_SECOND_ARM = 0.0000133334;
/** Billed duration assumed per Lambda invocation, ms. */
export const DEFAULT_BILLED_MS_PER_INVOCATION = 200;
/**
 * Memory of the library's handler functions (HandlerFunction's default, lib/private/handler-function.ts), MB: what
 * a rollout's invocations are billed at when the caller gives no memory. Not Lambda's own default (128 MB).
 */
export const HANDLER_FUNCTION_MEMORY_MB = 256;
const MB_PER_GB = 1024;
const MS_PER_SECOND = 1000;

export interface CostInput {
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  /** @default HANDLER_FUNCTION_MEMORY_MB */
  readonly lambdaMemoryMb?: number;
  /** @default 'arm64' */
  readonly architecture?: 'arm64' | 'x86_64';
  /** @default 200 */
  readonly billedMsPerInvocation?: number;
}

export interface CostEstimate {
  readonly stepFunctionsUsd: number;
  readonly lambdaRequestsUsd: number;
  readonly lambdaDurationUsd: number;
  readonly totalUsd: number;
}

/** Step Functions Standard transitions + Lambda requests and GB-seconds, in USD. */
export function estimateCost(input: CostInput): CostEstimate {
  const memoryGb = (input.lambdaMemoryMb ?? HANDLER_FUNCTION_MEMORY_MB) / MB_PER_GB;
  const seconds = (input.billedMsPerInvocation ?? DEFAULT_BILLED_MS_PER_INVOCATION) / MS_PER_SECOND;
  const perGbSecond = (input.architecture ?? 'arm64') === 'arm64' ? LAMBDA_USD_PER_GB_SECOND_ARM : LAMBDA_USD_PER_GB_SECOND_X86;
  const stepFunctionsUsd = input.stateTransitions * STEP_FUNCTIONS_STANDARD_USD_PER_TRANSITION;
  const lambdaRequestsUsd = input.lambdaInvocations * LAMBDA_USD_PER_REQUEST;
  const lambdaDurationUsd = input.lambdaInvocations * memoryGb * seconds * perGbSecond;
  return { stepFunctionsUsd, lambdaRequestsUsd, lambdaDurationUsd, totalUsd: stepFunctionsUsd + lambdaRequestsUsd + lambdaDurationUsd };
}
