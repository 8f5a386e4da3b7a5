/**
 * Errors shaped like the ones the AWS SDK v3 throws: the service's modeled exception class where
 * the SDK exports one (so `instanceof RuleNotFoundException` and `err.name` work exactly as against
 * AWS), otherwise the service's base exception with the AWS error code as `name`
 * (e.g. ELB's `ValidationError`, which the SDK does not model). Every error carries
 * `$metadata.httpStatusCode` and `$fault`, which is what retry logic looks at.
 */
import * as appconfig from '@aws-sdk/client-appconfig';
import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import * as eventbridge from '@aws-sdk/client-eventbridge';
import * as rds from '@aws-sdk/client-rds';
import * as sfn from '@aws-sdk/client-sfn';

/** The services the fakes stand in for. */
export type ServiceId = 'elbv2' | 'cloudwatch' | 'dynamodb' | 'events' | 'sns' | 'states' | 'rds' | 'codebuild' | 'appconfig';

/** HTTP status of a successful AWS response. */
export const HTTP_OK = 200;
/** HTTP status of a client error (validation, not found, conflicts, throttling). */
export const HTTP_BAD_REQUEST = 400;
/** HTTP status CloudWatch uses for ResourceNotFound. */
export const HTTP_NOT_FOUND = 404;
/** HTTP status of AWS internal failures. */
export const HTTP_INTERNAL_ERROR = 500;
/** HTTP status of ServiceUnavailable. */
export const HTTP_SERVICE_UNAVAILABLE = 503;

type ExceptionClass = new (options: Record<string, unknown>) => Error;

/** The SDK module and base exception class of each service with an installed client. */
const SDK_MODULES: Partial<Record<ServiceId, { module: Record<string, unknown>; base: ExceptionClass }>> = {
  elbv2: { module: elbv2 as unknown as Record<string, unknown>, base: elbv2.ElasticLoadBalancingV2ServiceException as unknown as ExceptionClass },
  cloudwatch: { module: cloudwatch as unknown as Record<string, unknown>, base: cloudwatch.CloudWatchServiceException as unknown as ExceptionClass },
  dynamodb: { module: dynamodb as unknown as Record<string, unknown>, base: dynamodb.DynamoDBServiceException as unknown as ExceptionClass },
  events: { module: eventbridge as unknown as Record<string, unknown>, base: eventbridge.EventBridgeServiceException as unknown as ExceptionClass },
  states: { module: sfn as unknown as Record<string, unknown>, base: sfn.SFNServiceException as unknown as ExceptionClass },
  rds: { module: rds as unknown as Record<string, unknown>, base: rds.RDSServiceException as unknown as ExceptionClass },
  appconfig: { module: appconfig as unknown as Record<string, unknown>, base: appconfig.AppConfigServiceException as unknown as ExceptionClass },
};

/** Error names AWS answers with a 5xx status (server faults). */
const SERVER_FAULTS: Record<string, number> = {
  InternalFailure: HTTP_INTERNAL_ERROR,
  InternalError: HTTP_INTERNAL_ERROR,
  InternalServerError: HTTP_INTERNAL_ERROR,
  InternalServiceFault: HTTP_INTERNAL_ERROR,
  InternalServiceError: HTTP_INTERNAL_ERROR,
  InternalException: HTTP_INTERNAL_ERROR,
  ServiceUnavailable: HTTP_SERVICE_UNAVAILABLE,
  ServiceUnavailableException: HTTP_SERVICE_UNAVAILABLE,
};

/** The HTTP status AWS answers an error of this name with. */
export function httpStatusFor(name: string): number {
  return SERVER_FAULTS[name] ?? HTTP_BAD_REQUEST;
}

/** `$metadata` of an SDK v3 response or error. */
export interface ResponseMetadata {
  readonly httpStatusCode: number;
  readonly requestId: string;
  readonly attempts: number;
  readonly totalRetryDelay: number;
}

let requestCounter = 0;

/** A deterministic request id (UUID-shaped), like the x-amzn-RequestId header. */
export function nextRequestId(): string {
  requestCounter += 1;
  const hex = requestCounter.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/**
 * What the SDK attaches to every answer of AWS with `httpStatusCode`: `$metadata` (one attempt, no retry delay:
 * the fakes' stub replaces the SDK's retries; a fresh request id unless given) and, for errors, `$fault`
 * ('server' for 5xx, else 'client').
 */
export function responseMetadata(httpStatusCode: number = HTTP_OK, requestId: string = nextRequestId()): { $metadata: ResponseMetadata; $fault: 'client' | 'server' } {
  return {
    $metadata: { httpStatusCode, requestId, attempts: 1, totalRetryDelay: 0 },
    $fault: httpStatusCode >= HTTP_INTERNAL_ERROR ? 'server' : 'client',
  };
}

/** Base class of errors of services whose SDK client is not installed here (SNS, CodeBuild). */
export class FakeServiceException extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: ResponseMetadata;
  constructor(name: string, message: string, httpStatusCode: number, requestId: string) {
    super(message);
    this.name = name;
    const shape = responseMetadata(httpStatusCode, requestId);
    this.$fault = shape.$fault;
    this.$metadata = shape.$metadata;
  }
}

/**
 * An AWS-shaped error of `service` named `name`. `extra` adds modeled fields (for example
 * DynamoDB's `Item` on ConditionalCheckFailedException).
 */
export function awsError(service: ServiceId, name: string, message: string, options: {
  readonly httpStatusCode?: number;
  readonly extra?: Record<string, unknown>;
} = {}): Error {
  const httpStatusCode = options.httpStatusCode ?? httpStatusFor(name);
  const { $metadata, $fault } = responseMetadata(httpStatusCode);
  const sdk = SDK_MODULES[service];
  let error: Error;
  if (!sdk) {
    error = new FakeServiceException(name, message, httpStatusCode, $metadata.requestId);
  } else {
    const modeled = sdk.module[name];
    if (typeof modeled === 'function' && modeled !== sdk.base && (modeled as { prototype: unknown }).prototype instanceof sdk.base) {
      error = new (modeled as ExceptionClass)({ message, Message: message, $metadata, ...options.extra });
    } else {
      error = new sdk.base({ name, $fault, message, $metadata });
    }
  }
  if (options.extra) Object.assign(error, options.extra);
  return error;
}

/** An error for a command that the fake does not implement (never a silent success). */
export function notImplemented(service: ServiceId, fake: string, command: string): Error {
  return awsError(service, 'FakeNotImplemented',
    `${fake} (the rehearsal's fake of ${service}) does not implement ${command}; only the commands the library's handlers use are simulated`);
}
