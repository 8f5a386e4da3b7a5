import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The environment variables of one rehearsed Lambda invocation, while invocations overlap in time as they do on AWS.
 *
 * On Lambda each function runs in its own execution environment with its own variables ("Working with Lambda
 * environment variables", Lambda Developer Guide), and invocations of different functions run side by side: an
 * EventBridge rule's target (the release-alarm handler) runs while the state machine's judge waits for CloudWatch. In
 * the rehearsal every handler runs in this one process, whose process.env is shared. Setting the variables for the
 * length of an invocation would make invocations wait for each other (the rehearsal did that once: the release-alarm
 * handler could not act while the judge ran, and the race between an alarm and the next bake could not be rehearsed).
 * So process.env becomes a view: inside an invocation (AsyncLocalStorage follows its awaits), the invocation's own
 * variables over the process's; outside, the process's, unchanged. Writes inside an invocation stay in it.
 */

/** Per invocation: its variables; `undefined` marks one deleted inside the invocation. */
const invocation = new AsyncLocalStorage<Map<string, string | undefined>>();
/** The view installed over process.env. */
let installed: NodeJS.ProcessEnv | undefined;

/** Runs `run` with `variables` over process.env for it (and everything it awaits) alone. */
export function withLambdaEnvironment<T>(variables: Readonly<Record<string, string>>, run: () => Promise<T>): Promise<T> {
  install();
  return invocation.run(new Map(Object.entries(variables)), run);
}

/** Puts the view over process.env (again, if something replaced process.env since). */
function install(): void {
  if (installed !== undefined && process.env === installed) return;
  const base = process.env;
  const own = (key: string | symbol) => (typeof key === 'string' ? invocation.getStore() : undefined);
  const view = new Proxy(base, {
    get: (target, key) => {
      const store = own(key);
      return store?.has(key as string) ? store.get(key as string) : Reflect.get(target, key);
    },
    set: (target, key, value) => {
      const store = own(key);
      if (!store) return Reflect.set(target, key, value);
      // process.env keeps strings only ("Assigning a property on process.env will implicitly convert the value to a string").
      store.set(key as string, String(value));
      return true;
    },
    deleteProperty: (target, key) => {
      const store = own(key);
      if (!store) return Reflect.deleteProperty(target, key);
      store.set(key as string, undefined);
      return true;
    },
    has: (target, key) => {
      const store = own(key);
      return store?.has(key as string) ? store.get(key as string) !== undefined : Reflect.has(target, key);
    },
    ownKeys: (target) => {
      const store = invocation.getStore();
      const keys = new Set(Reflect.ownKeys(target));
      for (const [key, value] of store ?? []) {
        if (value === undefined) keys.delete(key);
        else keys.add(key);
      }
      return [...keys];
    },
    getOwnPropertyDescriptor: (target, key) => {
      const store = own(key);
      if (!store?.has(key as string)) return Reflect.getOwnPropertyDescriptor(target, key);
      const value = store.get(key as string);
      return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
    },
  });
  process.env = view;
  installed = view;
}
