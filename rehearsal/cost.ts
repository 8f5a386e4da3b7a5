/**
 * What a rollout costs to run on AWS, estimated from the rehearsal's counts.
 *
 * Prices (us-east-1, on-demand, as AWS lists them on the Step Functions and Lambda pricing pages; checked against
 * the published figures known here, not fetched — there is no internet on this machine):
 * - Step Functions Standard workflows: $0.025 per 1,000 state transitions (the first 4,000 a month are free; the
 *   estimate ignores the free tier).
 * - Lambda requests: $0.20 per 1M requests.
 * - Lambda duration: $0.0000166667 per GB-second on x86_64, $0.0000133334 per GB-second on arm64.
 * Not counted: CloudWatch GetMetricData ($0.01 per 1,000 metrics requested), DescribeAlarms (free), DynamoDB
 * on-demand requests, EventBridge and SNS deliveries — each well under a cent per rollout.
 *
 * Each function is billed at its own memory and architecture, as its template declares them (handlerFunctionsOf:
 * Lambda's defaults, 128 MB and x86_64, where the template sets none), for the invocations the rehearsal counted.
 *
 * Lambda duration is an assumption, not a measurement (handlers run in-process against fakes, so their real time
 * says nothing about AWS): each invocation is billed `billedMsPerInvocation` (DEFAULT_BILLED_MS_PER_INVOCATION,
 * 200 ms: an SDK call or two to an AWS API in the same region, plus the first-invocation cold start amortized over
 * a rollout).
 */
import type { LambdaArchitecture, LambdaFunctionSize } from './handlers';

export const STEP_FUNCTIONS_STANDARD_USD_PER_TRANSITION = 0.025 / 1000;
export const LAMBDA_USD_PER_REQUEST = 0.2 / 1_000_000;
export const LAMBDA_USD_PER_GB_SECOND_X86 = 0.0000166667;
export const LAMBDA_USD_PER_GB_SECOND_ARM = 0.0000133334;
/** Billed duration assumed per Lambda invocation, ms (not measured: see above). */
export const DEFAULT_BILLED_MS_PER_INVOCATION = 200;
const MB_PER_GB = 1024;
const MS_PER_SECOND = 1000;

/** The invocations of one Lambda function and what each is billed by. */
export interface LambdaUsage {
  /** Names the function (in error messages). */
  readonly functionName: string;
  readonly invocations: number;
  /** MemorySize, MB. */
  readonly memoryMb: number;
  readonly architecture: LambdaArchitecture;
}

export interface CostInput {
  readonly stateTransitions: number;
  /** One entry per invoked function (entries for the same function add up). */
  readonly lambdas: readonly LambdaUsage[];
  /** Assumed billed duration of every invocation, ms. @default DEFAULT_BILLED_MS_PER_INVOCATION */
  readonly billedMsPerInvocation?: number;
}

export interface CostEstimate {
  readonly stepFunctionsUsd: number;
  readonly lambdaRequestsUsd: number;
  readonly lambdaDurationUsd: number;
  readonly totalUsd: number;
}

/** Step Functions Standard transitions + Lambda requests and GB-seconds, each function at its own memory and architecture, in USD. */
export function estimateCost(input: CostInput): CostEstimate {
  const seconds = (input.billedMsPerInvocation ?? DEFAULT_BILLED_MS_PER_INVOCATION) / MS_PER_SECOND;
  const stepFunctionsUsd = input.stateTransitions * STEP_FUNCTIONS_STANDARD_USD_PER_TRANSITION;
  let lambdaRequestsUsd = 0;
  let lambdaDurationUsd = 0;
  for (const usage of input.lambdas) {
    const perGbSecond = usage.architecture === 'arm64' ? LAMBDA_USD_PER_GB_SECOND_ARM : LAMBDA_USD_PER_GB_SECOND_X86;
    lambdaRequestsUsd += usage.invocations * LAMBDA_USD_PER_REQUEST;
    lambdaDurationUsd += usage.invocations * (usage.memoryMb / MB_PER_GB) * seconds * perGbSecond;
  }
  return { stepFunctionsUsd, lambdaRequestsUsd, lambdaDurationUsd, totalUsd: stepFunctionsUsd + lambdaRequestsUsd + lambdaDurationUsd };
}

/**
 * The usage of the functions of one template (handlerFunctionsOf) from invocation counts by function name (the
 * runner's taskInvocations.byFunction, or rule invocations counted by name). A name that is none of the functions
 * is an error naming `where` (the stack), since it could not be priced.
 */
export function lambdaUsageOf(functions: readonly LambdaFunctionSize[], invocationsByName: Readonly<Record<string, number>>, where: string): LambdaUsage[] {
  return Object.entries(invocationsByName).map(([functionName, invocations]) => {
    const fn = functions.find((f) => f.functionName === functionName);
    if (!fn) {
      throw new Error(`estimateCost: expected Lambda function "${functionName}" (invoked ${invocations} times) to be a Lambda function of ${where}, found none of that name (functions: ${functions.map((f) => f.functionName).join(', ') || 'none'})`);
    }
    return { functionName, invocations, memoryMb: fn.memorySize, architecture: fn.architecture };
  });
}
