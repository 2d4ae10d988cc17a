import type { Entity } from './entity.js';
import type { AomRegistry } from './registry.js';

/** What a strategy receives: the entity as the caller sees it, and the registry acting as the caller. */
export interface OperationContext {
  readonly entity: Entity;
  readonly registry: AomRegistry;
  readonly args: readonly unknown[];
}

/** An operation implemented in code and bound to types by name in their definitions. */
export type Strategy = (context: OperationContext) => unknown | Promise<unknown>;

/** A name-keyed table of functions that refuses silent replacement. */
export class NamedTable<F extends (...args: never[]) => unknown> {
  readonly #entries = new Map<string, F>();
  constructor(private readonly kind: string) {}

  register(name: string, fn: F, options: { replace?: boolean } = {}): this {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${this.kind} name must be a non-empty string`);
    if (typeof fn !== 'function') throw new TypeError(`${this.kind} ${name} must be a function`);
    if (this.#entries.has(name) && !options.replace)
      throw new Error(`${this.kind} ${name} is already registered; pass { replace: true } to swap it`);
    this.#entries.set(name, fn);
    return this;
  }

  get(name: string): F | undefined {
    return this.#entries.get(name);
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The live map, for compilers that look names up. */
  get map(): ReadonlyMap<string, F> {
    return this.#entries;
  }
}
