/**
 * Deep copy of plain data (objects, arrays, Dates, Uint8Arrays, primitives) for the fakes, which
 * never hand out or keep references to their callers' objects.
 *
 * Not `structuredClone`: under jest it builds objects of the host realm, so a cloned Date fails
 * `instanceof Date` in the test's realm. This copy always uses the caller's realm.
 */
export function deepClone<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || Object.prototype.toString.call(value) === '[object Date]') {
    return new Date((value as unknown as Date).getTime()) as unknown as T;
  }
  if (ArrayBuffer.isView(value)) return Uint8Array.from(value as unknown as Uint8Array) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => deepClone(v)) as unknown as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) out[k] = deepClone(v);
  }
  return out as T;
}
