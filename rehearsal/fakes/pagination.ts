/**
 * Opaque pagination tokens (ELB's Marker, CloudWatch's NextToken). A token is bound to the
 * operation that issued it, so passing it to another operation is rejected as AWS does.
 */

export interface Page<T> {
  readonly items: T[];
  /** Token of the next page; absent on the last page. */
  readonly next?: string;
}

/** Thrown by `paginate` for a token it did not issue; callers turn it into the service's error. */
export class InvalidTokenError extends Error {}

function encode(operation: string, offset: number): string {
  return Buffer.from(JSON.stringify({ op: operation, offset })).toString('base64');
}

function decode(operation: string, token: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { op?: unknown; offset?: unknown };
    if (parsed.op === operation && typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0) {
      return parsed.offset;
    }
  } catch {
    // fall through
  }
  throw new InvalidTokenError(`The pagination token "${token}" was not issued by ${operation}`);
}

/** One page of `items` starting at the position `token` points to (undefined: the first page). */
export function paginate<T>(operation: string, items: readonly T[], token: string | undefined, pageSize: number): Page<T> {
  const offset = token === undefined ? 0 : decode(operation, token);
  const slice = items.slice(offset, offset + pageSize);
  const end = offset + slice.length;
  return end < items.length ? { items: slice, next: encode(operation, end) } : { items: slice };
}
