import { MetricDatum, PutMetricDataInput } from '@aws-sdk/client-cloudwatch';
import { GUARD_FAILURES_METRIC } from '../../../lambda/shared/contracts';
import { FakeAws } from './aws';

/** The GuardFailures datapoints the handlers under test published (PutMetricData calls the fakes answered). */
export function guardFailureData(fakes: FakeAws): MetricDatum[] {
  return fakes.aws.calls
    .filter((c) => c.service === 'cloudwatch' && c.command === 'PutMetricData')
    .flatMap((c) => (c.input as PutMetricDataInput).MetricData ?? [])
    .filter((d) => d.MetricName === GUARD_FAILURES_METRIC);
}

/**
 * What a guard's retry queue delivers: Lambda's invocation record of a failed asynchronous invocation of `event`
 * (its requestPayload), received `receiveCount` times.
 */
export function redrivenRecord(messageId: string, receiveCount: number, event: unknown): { Records: unknown[] } {
  return {
    Records: [{
      messageId,
      attributes: { ApproximateReceiveCount: String(receiveCount) },
      body: JSON.stringify({ version: '1.0', requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 }, requestPayload: event }),
    }],
  };
}
