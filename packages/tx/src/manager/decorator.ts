import { resolveOptions, type TxOptions } from '../core/options.js';
import { TransactionManager } from './manager.js';

export interface TransactionalOptions extends TxOptions {
  /** The manager, or how to find it from the instance. Without it: the one TransactionManager field of the instance, else the default. */
  readonly manager?: TransactionManager<never, never> | ((instance: unknown) => TransactionManager<never, never>);
}

let defaultManager: TransactionManager<never, never> | undefined;

/** The manager `@Transactional` methods use when neither the options nor the instance name one. */
export function setDefaultTransactionManager(manager: TransactionManager<never, never> | undefined): void {
  if (manager !== undefined && !(manager instanceof TransactionManager))
    throw new TypeError('setDefaultTransactionManager: expected a TransactionManager');
  defaultManager = manager;
}

function findManager(instance: unknown, option: TransactionalOptions['manager'], method: string): TransactionManager<never, never> {
  if (option instanceof TransactionManager) return option;
  if (typeof option === 'function') {
    const found = option(instance);
    if (!(found instanceof TransactionManager))
      throw new TypeError(`@Transactional ${method}: the manager option returned ${String(found)}, not a TransactionManager`);
    return found;
  }
  if (typeof instance === 'object' && instance !== null) {
    const fields = Object.values(instance).filter((value) => value instanceof TransactionManager);
    if (fields.length === 1) return fields[0] as TransactionManager<never, never>;
    if (fields.length > 1)
      throw new TypeError(
        `@Transactional ${method}: the instance has ${fields.length} TransactionManager fields; pass { manager } to choose`,
      );
  }
  if (defaultManager) return defaultManager;
  throw new TypeError(
    `@Transactional ${method}: no TransactionManager found (no manager option, no field on the instance, no default set)`,
  );
}

type Method<This, Args extends unknown[], R> = (this: This, ...args: Args) => R | Promise<R>;

/** Both decorator forms: TC39 (TypeScript 5 default) and legacy `experimentalDecorators` (NestJS, TypeORM). */
export interface TransactionalDecorator {
  <This, Args extends unknown[], R>(
    method: Method<This, Args, R>,
    context: ClassMethodDecoratorContext<This, Method<This, Args, R>>,
  ): (this: This, ...args: Args) => Promise<R>;
  <T>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T>;
}

/**
 * A method decorator: the method runs as `manager.run(() => method(...), options)`, named after the
 * class and method. Works as a TC39 decorator and under `experimentalDecorators`; options are
 * checked when the class is defined.
 */
export function Transactional(options: TransactionalOptions = {}): TransactionalDecorator {
  const { manager, ...txOptions } = options;
  if (manager !== undefined && !(manager instanceof TransactionManager) && typeof manager !== 'function')
    throw new TypeError('@Transactional options.manager must be a TransactionManager or a function (instance) => TransactionManager');
  resolveOptions(txOptions);
  const wrap = <This, Args extends unknown[], R>(method: Method<This, Args, R>, methodName: string) =>
    async function transactional(this: This, ...args: Args): Promise<R> {
      const owner = (this as { constructor?: { name?: string } } | null)?.constructor?.name;
      const name = txOptions.name ?? (owner ? `${owner}.${methodName}` : methodName);
      return findManager(this, manager, name).run(() => method.apply(this, args), { ...txOptions, name });
    };
  return function decorate(method: unknown, context: unknown, descriptor?: PropertyDescriptor): unknown {
    if (descriptor !== undefined || typeof context !== 'object' || context === null) {
      // Legacy form: (prototype, propertyKey, descriptor) => descriptor.
      if (typeof descriptor?.value !== 'function') throw new TypeError('@Transactional applies to methods only');
      return { ...descriptor, value: wrap(descriptor.value as Method<unknown, unknown[], unknown>, String(context)) };
    }
    const standard = context as ClassMethodDecoratorContext;
    if (standard.kind !== 'method') throw new TypeError('@Transactional applies to methods only');
    return wrap(method as Method<unknown, unknown[], unknown>, String(standard.name));
  } as TransactionalDecorator;
}
