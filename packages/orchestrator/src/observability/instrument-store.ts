import type { JobStore } from '../store/store.js';

export interface StoreObserver {
  observeStore(operation: string, seconds: number, failed: boolean): void;
}

/**
 * The store with every asynchronous operation timed: each is one transaction or query, so this is
 * the store's transaction latency as the queen sees it, including waits for the write lock.
 */
export function instrumentStore<S extends JobStore>(store: S, observer: StoreObserver): S {
  const timed = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      let wrapper = timed.get(property);
      if (!wrapper) {
        wrapper = function (this: unknown, ...args: unknown[]) {
          const started = performance.now();
          const finish = (failed: boolean) => observer.observeStore(property, (performance.now() - started) / 1000, failed);
          let result: unknown;
          try {
            result = (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (error) {
            finish(true);
            throw error;
          }
          if (!(result instanceof Promise)) return result;
          return result.then(
            (resolved) => {
              finish(false);
              return resolved;
            },
            (error: unknown) => {
              finish(true);
              throw error;
            },
          );
        };
        timed.set(property, wrapper);
      }
      return wrapper;
    },
  });
}
