import { IdempotencyEngine } from './engine.js';
import { canonicalJson } from './fingerprint.js';
import { serializeKey } from './key.js';
import type { EngineOptions } from './options.js';
import { IdempotencyError } from './problem.js';

export interface IdempotentOptions<Args extends unknown[], Result> {
  /** The key of one logical call (a message id, a job id, an order id): calls with one key run once. */
  readonly key: (...args: Args) => string;
  /**
   * What must be equal for two calls with one key to be the same call. Default: all the
   * arguments (as canonical JSON). Another payload under a used key is refused (`fingerprint-mismatch`).
   */
  readonly fingerprint?: (...args: Args) => unknown;
  /** Whose key space the key is in (a tenant). Default one space for this function. */
  readonly principal?: string | ((...args: Args) => string);
  /** Names this function in the key scope, so two functions sharing a store never share keys. Default `fn.name`. */
  readonly name?: string;
  /** How a result is kept and given back. Default JSON. */
  readonly serialize?: (result: Result) => string;
  readonly deserialize?: (text: string) => Result;
}

/** A call whose key is held by a concurrent call (`request-in-progress`) or was used with other arguments. */
export class IdempotentCallError extends IdempotencyError {
  constructor(
    readonly kind: string,
    message: string,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
    this.name = 'IdempotentCallError';
  }
}

/**
 * Makes any async function idempotent (AWS Powertools' makeIdempotent): a queue consumer, a job
 * step, a plain call. The first call with a key runs `fn` under a lease and records its result;
 * later calls with that key get the recorded result without running it. A call that throws
 * records nothing, so a retry runs again. A concurrent call with the same key waits up to
 * `waitMs`, then fails with `IdempotentCallError` of kind `request-in-progress`. The store decides
 * every race, so this holds across processes sharing a PostgreSQL, Redis or SQLite store.
 */
export function idempotent<Args extends unknown[], Result>(
  fn: (...args: Args) => Promise<Result> | Result,
  // The engine's own `fingerprint` mode does not apply: the engine fingerprints the canonical JSON of the pick.
  options: IdempotentOptions<Args, Result> & (Omit<EngineOptions, 'fingerprint'> | { readonly engine: IdempotencyEngine }),
): (...args: Args) => Promise<Result> {
  if (typeof fn !== 'function') throw new TypeError('idempotent(fn, options): fn must be a function');
  if (options === null || typeof options !== 'object') throw new TypeError('idempotent(fn, options): options must be an object');
  if (typeof options.key !== 'function') throw new TypeError('idempotent: options.key must be a function (...args) => string');
  for (const name of ['fingerprint', 'serialize', 'deserialize'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw new TypeError(`idempotent: options.${name} must be a function`);
  }
  const route = options.name ?? fn.name;
  if (typeof route !== 'string' || route === '') throw new TypeError('idempotent: options.name is required for an anonymous function');
  // `fingerprint` here picks the arguments; the engine fingerprints the canonical JSON of that pick.
  const { key: _key, fingerprint: _pick, principal: _principal, name: _name, serialize: _s, deserialize: _d, ...rest } = options;
  const engine =
    'engine' in options && options.engine instanceof IdempotencyEngine ? options.engine : new IdempotencyEngine(rest as EngineOptions);
  const serialize = options.serialize ?? ((result: Result) => JSON.stringify(result) ?? 'null');
  const deserialize = options.deserialize ?? ((text: string) => JSON.parse(text) as Result);
  const principalOf = options.principal ?? '-';

  return async (...args: Args): Promise<Result> => {
    const key = options.key(...args);
    if (typeof key !== 'string' || key === '') throw new TypeError(`idempotent(${route}): options.key returned ${String(key)}, not a key`);
    const principal = typeof principalOf === 'function' ? principalOf(...args) : principalOf;
    const fingerprinted = options.fingerprint ? options.fingerprint(...args) : args;
    const begin = await engine.begin({
      method: 'CALL',
      route,
      principal,
      key: serializeKey(key),
      body: Buffer.from(canonicalJson(fingerprinted)),
    });
    switch (begin.kind) {
      case 'replay':
        return deserialize(begin.response.body.toString('utf8'));
      case 'problem':
        throw new IdempotentCallError(begin.problem.kind, begin.problem.message, begin.problem.retryAfterSeconds);
      case 'pass':
      case 'unprotected':
        return fn(...args);
      case 'execute': {
        let result: Result;
        try {
          result = await fn(...args);
        } catch (error) {
          await begin.lease.release().catch(() => undefined);
          throw error;
        }
        await begin.lease.complete({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(serialize(result)),
        });
        return result;
      }
    }
  };
}
