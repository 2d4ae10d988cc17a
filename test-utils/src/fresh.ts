import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { Disposable } from './services.js';

export interface Ref<T> {
  readonly current: T;
}

function holder<T>(): { ref: Ref<T>; set(value: T | undefined): void; get(): T | undefined } {
  let value: T | undefined;
  return {
    ref: {
      get current(): T {
        if (value === undefined) throw new Error('the fresh resource is only available inside a test or hook');
        return value;
      },
    },
    set: (next) => {
      value = next;
    },
    get: () => value,
  };
}

/** A resource made before each test of the enclosing suite and disposed after it. */
export function freshEach<T extends Disposable>(create: () => Promise<T>): Ref<T> {
  const slot = holder<T>();
  beforeEach(async () => slot.set(await create()));
  afterEach(async () => {
    await slot.get()?.dispose();
    slot.set(undefined);
  });
  return slot.ref;
}

/** A resource made once for the enclosing suite and disposed after its last test. */
export function freshAll<T extends Disposable>(create: () => Promise<T>): Ref<T> {
  const slot = holder<T>();
  beforeAll(async () => slot.set(await create()));
  afterAll(async () => {
    await slot.get()?.dispose();
    slot.set(undefined);
  });
  return slot.ref;
}
