/** Awaits a call that must fail, checks the error's name (and message), and returns the error. */
export async function expectError(promise: Promise<unknown>, name: string, message?: RegExp): Promise<Error> {
  const err = await promise.then(() => undefined, (e: Error) => e);
  expect(err).toBeDefined();
  expect(err!.name).toBe(name);
  if (message) expect(err!.message).toMatch(message);
  return err!;
}
