/**
 * Errors Step Functions reports for Lambda's own transient faults (not the function's): worth retrying for any
 * LambdaInvoke task, whose function's errors are then handled by name. The first four are Step Functions' own
 * recommendation (and CDK's retryOnServiceExceptions); throttling is added.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
