import type { SagaDefinition } from '../../src/saga/index.js';
import type { AnyManager } from '../support/databases.js';

/**
 * A vendor that deduplicates by idempotency key, as @myrmex/idempotency's server does: `effects`
 * holds one row per key whatever the number of calls, `calls` one row per call.
 */
export async function createVendor(tm: AnyManager): Promise<void> {
  await tm.execute('CREATE TABLE IF NOT EXISTS effects (k VARCHAR(190) PRIMARY KEY, n INT NOT NULL)');
  await tm.execute('CREATE TABLE IF NOT EXISTS calls (k VARCHAR(190) NOT NULL)');
}

export async function vendorCall(tm: AnyManager, key: string): Promise<void> {
  // Its own transaction, retried: several processes share the vendor's SQLite file in the crash test.
  await tm.run(() => record(tm, key), { propagation: 'REQUIRES_NEW', retry: { attempts: 20, baseDelayMs: 5 } });
}

async function record(tm: AnyManager, key: string): Promise<void> {
  const p = (n: number) => tm.driver.placeholder(n);
  await tm.execute(`INSERT INTO calls (k) VALUES (${p(1)})`, [key]);
  const next = `(SELECT c FROM (SELECT count(*) + 1 AS c FROM effects) AS t)`;
  const insert =
    tm.dialect === 'postgres'
      ? `INSERT INTO effects (k, n) VALUES (${p(1)}, ${next}) ON CONFLICT (k) DO NOTHING`
      : tm.dialect === 'mysql'
        ? `INSERT IGNORE INTO effects (k, n) VALUES (${p(1)}, ${next})`
        : `INSERT OR IGNORE INTO effects (k, n) VALUES (${p(1)}, ${next})`;
  await tm.execute(insert, [key]);
}

/** Effects in the order they first happened. */
export async function effects(tm: AnyManager): Promise<string[]> {
  const { rows } = await tm.execute<{ k: string }>('SELECT k FROM effects ORDER BY n');
  return rows.map((r) => r.k);
}

export async function calls(tm: AnyManager): Promise<number> {
  const { rows } = await tm.execute<{ c: number }>('SELECT count(*) AS c FROM calls');
  return Number(rows[0]?.c);
}

/** flight, hotel, car; with `carFails` the car vendor always refuses, so hotel and flight are undone. */
export function trip(tm: AnyManager, options: { carFails?: boolean; inside?: (point: string) => void } = {}): SagaDefinition {
  const step = (name: string, fails = false) => ({
    name,
    retry: { attempts: 2, backoffMs: 1 },
    execute: async (ctx: { idempotencyKey: string }) => {
      if (fails) throw new Error(`${name} vendor refused`);
      await vendorCall(tm, ctx.idempotencyKey);
      options.inside?.(`inside:${name}`);
      return { booked: name };
    },
    compensate: async (ctx: { idempotencyKey: string }) => {
      await vendorCall(tm, ctx.idempotencyKey);
      options.inside?.(`inside-compensate:${name}`);
    },
  });
  return { name: 'trip', steps: [step('flight'), step('hotel'), step('car', options.carFails)] };
}
