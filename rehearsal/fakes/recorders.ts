/**
 * Recorders of the two fire-and-forget services a rollout talks to: EventBridge (PutEvents) and
 * SNS (Publish). They validate like the services do, answer with AWS-shaped responses and keep
 * what was sent with its virtual time. Their methods take the parameters of the SDK call or of the
 * Step Functions optimized integration (which lets Detail / Message be a JSON object).
 */
import type { Clock } from '../../lambda/shared/clock';
import { awsError } from './aws-errors';
import { deepClone } from './clone';

/** EventBridge: entries per PutEvents call. */
export const MAX_PUT_EVENTS_ENTRIES = 10;
/** EventBridge: largest PutEvents entry, bytes. */
export const MAX_EVENT_ENTRY_BYTES = 256 * 1024;
/** SNS: largest message, bytes. */
export const MAX_SNS_MESSAGE_BYTES = 256 * 1024;
/** SNS: longest subject, characters. */
export const MAX_SNS_SUBJECT_LENGTH = 100;

/**
 * Wraps every recorder call (AwsFakes uses it to log the call and inject faults): it gets the
 * operation name and input, and runs the call with `run`.
 */
export type CallGate = <T>(command: string, input: unknown, run: () => T) => Promise<T>;

export interface PutEventsEntryInput {
  readonly Source?: string;
  readonly DetailType?: string;
  /** A JSON object as a string (SDK) or as an object (Step Functions integration). */
  readonly Detail?: string | Record<string, unknown>;
  readonly EventBusName?: string;
  readonly Resources?: readonly string[];
  readonly Time?: Date | string;
  readonly TraceHeader?: string;
}

export interface PutEventsParams {
  readonly Entries?: readonly PutEventsEntryInput[];
  readonly EndpointId?: string;
}

export interface PutEventsResultEntry {
  readonly EventId?: string;
  readonly ErrorCode?: string;
  readonly ErrorMessage?: string;
}

export interface PutEventsResult {
  readonly Entries: PutEventsResultEntry[];
  readonly FailedEntryCount: number;
}

/** An event EventBridge accepted. */
export interface RecordedEvent {
  /** Epoch ms (virtual clock). */
  readonly time: number;
  readonly eventId: string;
  readonly source: string;
  readonly detailType: string;
  /** Detail, parsed. */
  readonly detail: Record<string, unknown>;
  readonly eventBusName: string;
  readonly resources: readonly string[];
}

export interface PublishParams {
  readonly TopicArn?: string;
  readonly TargetArn?: string;
  readonly PhoneNumber?: string;
  /** A string (SDK) or a JSON value (Step Functions integration, serialized like Step Functions does). */
  readonly Message?: unknown;
  readonly Subject?: string;
  readonly MessageStructure?: string;
  readonly MessageAttributes?: Record<string, unknown>;
  readonly MessageGroupId?: string;
  readonly MessageDeduplicationId?: string;
}

export interface PublishResult {
  readonly MessageId: string;
  readonly SequenceNumber?: string;
}

/** A message SNS accepted. */
export interface RecordedMessage {
  /** Epoch ms (virtual clock). */
  readonly time: number;
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageAttributes?: Record<string, unknown>;
}

/**
 * Told of every PutEvents that reached EventBridge, whichever way it came (SDK client, Step Functions
 * integration, `putEvents`, `deliver`), right when it is accepted: its parameters, EventBridge's answer and the
 * events that call recorded (the accepted entries, validated and with Detail parsed, in entry order).
 */
export type EventDeliveryListener = (params: PutEventsParams, result: PutEventsResult, accepted: readonly RecordedEvent[]) => void;

function uuid(prefix: string, n: number): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** EventBridge recorder: `putEvents` as the API answers it, `events` as what was delivered. */
export class EventBridgeRecorder {
  private readonly recorded: RecordedEvent[] = [];
  private readonly listeners = new Set<EventDeliveryListener>();
  private counter = 0;

  constructor(private readonly clock: Clock, private readonly gate?: CallGate) {}

  /** PutEvents: every valid entry is recorded; invalid entries fail one by one (FailedEntryCount), as EventBridge does. */
  putEvents(params: PutEventsParams): Promise<PutEventsResult> {
    return this.gate ? this.gate('PutEvents', params, () => this.deliver(params)) : Promise.resolve().then(() => this.deliver(params));
  }

  /** PutEvents without going through the gate (not logged, never faulted). */
  deliver(params: PutEventsParams): PutEventsResult {
    const entries = params.Entries ?? [];
    if (entries.length === 0 || entries.length > MAX_PUT_EVENTS_ENTRIES) {
      throw awsError('events', 'ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_PUT_EVENTS_ENTRIES} (got ${entries.length})`);
    }
    const accepted: RecordedEvent[] = [];
    const results = entries.map((entry): PutEventsResultEntry => {
      const missing = (['Source', 'DetailType', 'Detail'] as const).filter((k) => entry[k] === undefined || entry[k] === '');
      if (missing.length > 0) {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter(s) ${missing.join(', ')} could not be found for the entry` };
      }
      let detail: unknown = entry.Detail;
      if (typeof detail === 'string') {
        try { detail = JSON.parse(detail); } catch { return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }; }
      }
      if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed: it must be a JSON object.' };
      }
      if (Buffer.byteLength(JSON.stringify({ ...entry, Detail: detail }), 'utf8') > MAX_EVENT_ENTRY_BYTES) {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: `The entry exceeds the maximum size of ${MAX_EVENT_ENTRY_BYTES} bytes.` };
      }
      this.counter += 1;
      const eventId = uuid('e0000000', this.counter);
      const event: RecordedEvent = {
        time: this.clock.now(),
        eventId,
        source: entry.Source!,
        detailType: entry.DetailType!,
        detail: deepClone(detail as Record<string, unknown>),
        eventBusName: entry.EventBusName ?? 'default',
        resources: [...(entry.Resources ?? [])],
      };
      this.recorded.push(event);
      accepted.push(event);
      return { EventId: eventId };
    });
    const result = { Entries: results, FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length };
    for (const listener of [...this.listeners]) listener(params, deepClone(result), deepClone(accepted));
    return result;
  }

  /**
   * Subscribes `listener` to every PutEvents EventBridge accepts (see EventDeliveryListener); it runs before the
   * caller gets the answer. Returns the function that unsubscribes it.
   */
  onDeliver(listener: EventDeliveryListener): () => void {
    const subscribed: EventDeliveryListener = (params, result, accepted) => listener(params, result, accepted);
    this.listeners.add(subscribed);
    return () => { this.listeners.delete(subscribed); };
  }

  /** Every event accepted, oldest first (optionally only of one detail-type). */
  events(detailType?: string): RecordedEvent[] {
    return this.recorded.filter((e) => detailType === undefined || e.detailType === detailType).map((e) => deepClone(e));
  }

  clear(): void {
    this.recorded.length = 0;
  }
}

/** SNS recorder: `publish` as the API answers it, `messages` as what was delivered. */
export class SnsRecorder {
  private readonly recorded: RecordedMessage[] = [];
  private counter = 0;

  constructor(private readonly clock: Clock, private readonly gate?: CallGate) {}

  publish(params: PublishParams): Promise<PublishResult> {
    return this.gate ? this.gate('Publish', params, () => this.deliver(params)) : Promise.resolve().then(() => this.deliver(params));
  }

  /** Records a message without going through the gate (alarm actions: CloudWatch, not the caller, publishes them). */
  deliver(params: PublishParams): PublishResult {
    const topicArn = params.TopicArn ?? params.TargetArn;
    if (topicArn === undefined && params.PhoneNumber === undefined) {
      throw this.invalid('Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
    }
    if (topicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(topicArn)) {
      throw this.invalid(`Invalid parameter: TopicArn Reason: '${topicArn}' is not a valid SNS topic ARN`);
    }
    if (params.Message === undefined || params.Message === '') throw this.invalid('Invalid parameter: Message Reason: Empty message');
    const message = typeof params.Message === 'string' ? params.Message : JSON.stringify(params.Message);
    if (Buffer.byteLength(message, 'utf8') > MAX_SNS_MESSAGE_BYTES) {
      throw this.invalid(`Invalid parameter: Message too long: the limit is ${MAX_SNS_MESSAGE_BYTES} bytes`);
    }
    if (params.Subject !== undefined) {
      // SNS subjects: printable ASCII without line breaks, at most 100 characters.
      if (params.Subject.length === 0 || params.Subject.length > MAX_SNS_SUBJECT_LENGTH || !/^[\x20-\x7E]*$/.test(params.Subject)) {
        throw this.invalid(`Invalid parameter: Subject Reason: it must be 1-${MAX_SNS_SUBJECT_LENGTH} printable ASCII characters without line breaks`);
      }
    }
    if (params.MessageStructure === 'json') {
      let parsed: unknown;
      try { parsed = JSON.parse(message); } catch { parsed = undefined; }
      if (!parsed || typeof parsed !== 'object' || typeof (parsed as Record<string, unknown>).default !== 'string') {
        throw this.invalid('Invalid parameter: Message Structure - JSON message body must contain a "default" key with a string value');
      }
    }
    const fifo = topicArn?.endsWith('.fifo') ?? false;
    if (fifo && !params.MessageGroupId) throw this.invalid('Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
    if (!fifo && params.MessageGroupId !== undefined && topicArn !== undefined) {
      throw this.invalid('Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type');
    }
    this.counter += 1;
    const messageId = uuid('50000000', this.counter);
    this.recorded.push({
      time: this.clock.now(),
      messageId,
      topicArn: topicArn ?? `phone:${params.PhoneNumber}`,
      subject: params.Subject,
      message,
      messageAttributes: params.MessageAttributes ? deepClone(params.MessageAttributes) : undefined,
    });
    return fifo ? { MessageId: messageId, SequenceNumber: String(this.counter).padStart(20, '0') } : { MessageId: messageId };
  }

  /** Every message accepted, oldest first (optionally only of one topic). */
  messages(topicArn?: string): RecordedMessage[] {
    return this.recorded.filter((m) => topicArn === undefined || m.topicArn === topicArn).map((m) => deepClone(m));
  }

  clear(): void {
    this.recorded.length = 0;
  }

  private invalid(message: string): Error {
    return awsError('sns', 'InvalidParameterException', message);
  }
}
