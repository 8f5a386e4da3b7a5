import { ErrorName, ErrorNameType } from './contracts';

/**
 * An error whose `name` is one of a contract's error names (`N`), so that Step Functions can retry or catch it by
 * name: the base of the handlers' named errors.
 */
export class NamedError<N extends string> extends Error {
  constructor(name: N, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * An error whose `name` is one of the contract's ErrorName values, so that Step Functions can
 * retry or catch it by name. `details` travel in the message as JSON-free text.
 */
export class ZdtError extends NamedError<ErrorNameType> {}

const RETRYABLE_AWS_ERRORS = new Set([
  'Throttling', 'ThrottlingException', 'ThrottledException', 'TooManyRequestsException',
  'RequestLimitExceeded', 'ProvisionedThroughputExceededException', 'RequestThrottled',
  'ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure', 'InternalError',
  'InternalServerError', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException',
  'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED',
]);

/** True for faults worth retrying: throttling, AWS 5xx, timeouts and network errors. */
export function isRetryableAwsError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (RETRYABLE_AWS_ERRORS.has(e.name) || (e.code !== undefined && RETRYABLE_AWS_ERRORS.has(e.code))) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/**
 * Runs one AWS call. A retryable fault becomes a ZdtRetryableError naming the operation, so the
 * state machine's Retry takes over; anything else is rethrown with the operation in the message.
 */
export async function awsCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ZdtError) throw err;
    const e = err as Error;
    if (isRetryableAwsError(err)) {
      throw new ZdtError(ErrorName.RETRYABLE, `${operation} failed with a retryable fault (${e.name}): ${e.message}`);
    }
    const wrapped = new Error(`${operation} failed (${e.name}): ${e.message}`);
    wrapped.name = e.name;
    throw wrapped;
  }
}
