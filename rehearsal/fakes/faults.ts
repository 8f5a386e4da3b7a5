/**
 * Fault injection for the fakes: "the next 2 ModifyRule calls are throttled", "DescribeAlarms fails
 * with InternalFailure from the 3rd call on, for ever", or "the next GetMetricData takes 3 s longer" (a slow
 * dependency: `delayMs` instead of `error`). Faults are checked, in the order they were added, before a command
 * reaches its fake; one call meets at most one fault.
 */
import { awsError, httpStatusFor, ServiceId } from './aws-errors';

/** Default messages of the faults one usually injects, as AWS words them. */
const DEFAULT_MESSAGES: Record<string, string> = {
  Throttling: 'Rate exceeded',
  ThrottlingException: 'Rate exceeded',
  ThrottledException: 'Rate exceeded',
  TooManyRequestsException: 'Too Many Requests',
  RequestLimitExceeded: 'Request limit exceeded.',
  ProvisionedThroughputExceededException: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  InternalFailure: 'We encountered an internal error. Please try again.',
  InternalError: 'We encountered an internal error. Please try again.',
  InternalServerError: 'Internal server error',
  ServiceUnavailable: 'Service Unavailable',
  ServiceUnavailableException: 'Service Unavailable',
};

export interface FaultSpec {
  /** The service whose calls fail. */
  readonly service: ServiceId;
  /** The command (API operation name without "Command", e.g. "ModifyRule"); absent: every command of the service. */
  readonly command?: string;
  /**
   * The error name to throw (e.g. "ThrottlingException", "InternalFailure", "RuleNotFoundException").
   * @default - none: `delayMs` must be set (exactly one of the two)
   */
  readonly error?: string;
  /**
   * Slow instead of failing: each matching call takes this many milliseconds longer on the clock (after the service's
   * modelled latency), then goes through. For a dependency that answers late, e.g. a GetMetricData taking seconds.
   * @default - none: `error` must be set (exactly one of the two)
   */
  readonly delayMs?: number;
  /** How many matching calls fail. @default 1 (Infinity: every call from then on) */
  readonly times?: number;
  /** Matching calls that pass before the fault starts firing. @default 0 */
  readonly after?: number;
  /** Error message. @default the message AWS uses for that error, or a generic one */
  readonly message?: string;
  /** HTTP status code. @default 500/503 for internal failures and unavailability, 400 otherwise */
  readonly httpStatusCode?: number;
}

/** What a call met: an error to throw, or a delay before it goes through. */
export type FaultOutcome = { readonly error: Error; readonly delayMs?: undefined } | { readonly delayMs: number; readonly error?: undefined };

/** One injected fault and what it did so far. */
export class Fault {
  /** Matching calls seen so far (passed or failed). */
  seen = 0;
  /** Calls this fault made fail. */
  fired = 0;
  readonly times: number;
  readonly after: number;

  constructor(readonly spec: FaultSpec) {
    this.times = spec.times ?? 1;
    this.after = spec.after ?? 0;
    if (!(this.times >= 0)) throw new Error(`Fault times must be a number >= 0 (or Infinity), got ${String(spec.times)}`);
    if (!Number.isInteger(this.after) || this.after < 0) throw new Error(`Fault after must be an integer >= 0, got ${String(spec.after)}`);
    if ((spec.error === undefined) === (spec.delayMs === undefined)) {
      throw new Error(`Fault of ${spec.service} ${spec.command ?? '(every command)'} needs exactly one of error and delayMs, got error ${String(spec.error)} and delayMs ${String(spec.delayMs)}`);
    }
    if (spec.delayMs !== undefined && !(Number.isFinite(spec.delayMs) && spec.delayMs > 0)) {
      throw new Error(`Fault delayMs must be a finite number of milliseconds above 0, got ${String(spec.delayMs)}`);
    }
  }

  /** True while the fault may still fire. */
  get active(): boolean {
    return this.fired < this.times;
  }

  /** True when a call of this service and command is one this fault watches. */
  matches(service: ServiceId, command: string): boolean {
    return this.spec.service === service && (this.spec.command === undefined || this.spec.command === command);
  }

  /** The error this fault throws (a delay fault throws none). */
  createError(): Error {
    const name = this.spec.error ?? 'InjectedDelay';
    const message = this.spec.message ?? DEFAULT_MESSAGES[name] ?? `Injected fault ${name} (rehearsal fault injection)`;
    return awsError(this.spec.service, name, message, { httpStatusCode: this.spec.httpStatusCode ?? httpStatusFor(name) });
  }
}

/** The set of injected faults of an AwsFakes. */
export class FaultInjector {
  private readonly faults: Fault[] = [];

  /** Adds a fault; returns it so a test can read `fired` later. */
  add(spec: FaultSpec): Fault {
    const fault = new Fault(spec);
    this.faults.push(fault);
    return fault;
  }

  remove(fault: Fault): void {
    const index = this.faults.indexOf(fault);
    if (index >= 0) this.faults.splice(index, 1);
  }

  list(): readonly Fault[] {
    return [...this.faults];
  }

  /** Called once per call: the fault it meets (the error to throw, or the delay to add), or undefined when the call goes through. */
  check(service: ServiceId, command: string): FaultOutcome | undefined {
    let outcome: FaultOutcome | undefined;
    for (const fault of this.faults) {
      if (!fault.matches(service, command)) continue;
      fault.seen += 1;
      if (outcome === undefined && fault.seen > fault.after && fault.active) {
        fault.fired += 1;
        outcome = fault.spec.delayMs !== undefined ? { delayMs: fault.spec.delayMs } : { error: fault.createError() };
      }
    }
    return outcome;
  }
}
