import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * How long an execution guard (execution-guard.ts) keeps trying to restore what a rollout changed (traffic, a flag)
 * after an execution ended holding the lock, and what happens when it gives up. Lambda retries an asynchronous
 * invocation only twice, within minutes
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): far too short while traffic
 * may be split. So:
 *
 * 1. the EventBridge rule invokes the guard; Lambda retries it twice, then sends the invocation record to the retry
 *    queue (an on-failure destination: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
 * 2. the guard consumes the retry queue (batch size 1, partial batch responses): a failed try makes the message
 *    visible again after the visibility timeout, so the guard tries again every RETRY_EVERY, for as long as the lock
 *    lives (maxReceiveCount), then the message moves to the dead-letter queue
 *    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html);
 * 3. the dead-letter queue has an alarm: a message there means the guard gave up and traffic may still be split.
 *
 * Every failed try also sends a "Rollout Guard Failed" event and a GuardFailures datapoint at once (guard.ts).
 */

/**
 * Wait between two tries from the retry queue: its visibility timeout, six times the guard's timeout as Lambda
 * asks of an SQS event source (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */
const VISIBILITY_PER_FUNCTION_TIMEOUT = 6;
/** SQS's most receives before the dead-letter queue, and longest retention. */
const MAX_RECEIVE_COUNT = 1000;
const MAX_RETENTION = Duration.days(14);
/** Lambda's longest maximum event age for asynchronous invocations. */
const MAX_EVENT_AGE = Duration.hours(6);

export interface GuardRetries {
  readonly retryQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** In ALARM once the guard gave up on an execution: traffic may still be split. */
  readonly deadLetterAlarm: cloudwatch.Alarm;
}

/** Adds the retry queue, the dead-letter queue and its alarm to `guard`, trying for `keepTrying` (the lock's TTL). */
export function addGuardRetries(scope: Construct, guard: lambda.Function, keepTrying: Duration, rolloutName: string, risk: string): GuardRetries {
  const retryEvery = Duration.seconds(guard.timeout!.toSeconds() * VISIBILITY_PER_FUNCTION_TIMEOUT);
  const retention = Duration.seconds(Math.min(MAX_RETENTION.toSeconds(), keepTrying.toSeconds() + MAX_EVENT_AGE.toSeconds()));
  const deadLetterQueue = new sqs.Queue(scope, 'GuardDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: MAX_RETENTION,
    // Marks it as a dead-letter queue (Control Tower CT.SQS.PR.1 "applies only to Amazon SQS queues that are not
    // configured as a dead-letter queue with a RedriveAllowPolicy property"). allowAll is SQS's default; naming the
    // retry queue instead would be a circular reference (its RedrivePolicy names this queue).
    redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
  });
  const retryQueue = new sqs.Queue(scope, 'GuardRetryQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: retryEvery,
    retentionPeriod: retention,
    deadLetterQueue: {
      queue: deadLetterQueue,
      maxReceiveCount: Math.max(1, Math.min(MAX_RECEIVE_COUNT, Math.ceil(keepTrying.toSeconds() / retryEvery.toSeconds()))),
    },
  });
  guard.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: MAX_EVENT_AGE, onFailure: new destinations.SqsDestination(retryQueue) });
  guard.addEventSource(new sources.SqsEventSource(retryQueue, { batchSize: 1, reportBatchItemFailures: true }));
  const deadLetterAlarm = new cloudwatch.Alarm(scope, 'GuardGaveUpAlarm', {
    alarmDescription: `cdk-zero-downtime: the execution guard gave up after ${rolloutName} ended holding the lock; ${risk} and the guard's dead-letter queue`,
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return { retryQueue, deadLetterQueue, deadLetterAlarm };
}
