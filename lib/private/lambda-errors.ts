/**
 * Errors Step Functions reports for Lambda's own transient faults (not the function's): worth retrying for any
 * LambdaInvoke task, whose function's errors are then handled by name.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException',
];
