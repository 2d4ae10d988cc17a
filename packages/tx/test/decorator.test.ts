import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setDefaultTransactionManager, Transactional, type TransactionManager } from '../src/index.js';
import type { defineServices as Define } from './fixtures/decorated.js';
import { freshSqliteFile, type Opened, openManager } from './support/databases.js';

let file: Awaited<ReturnType<typeof freshSqliteFile>>;
let opened: Opened;
let services: ReturnType<typeof Define>;

beforeAll(async () => {
  file = await freshSqliteFile();
  // tsc, as a user's build would: standard decorators lowered for ES2022.
  const source = readFileSync(new URL('./fixtures/decorated.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
  const compiled = join(file.name, '..', 'decorated.mjs');
  writeFileSync(compiled, outputText);
  const { defineServices } = (await import(pathToFileURL(compiled).href)) as { defineServices: typeof Define };
  services = defineServices(Transactional);
  opened = openManager('sqlite', file.url);
  await opened.tm.execute('CREATE TABLE orders (id INT PRIMARY KEY)');
  await opened.tm.execute('CREATE TABLE audit (order_id INT)');
});
afterAll(async () => {
  setDefaultTransactionManager(undefined);
  await opened.close();
  await file.dispose();
});

it('finds the manager in a field, names the transaction after Class.method, and nested methods join', async () => {
  const orders = new services.Orders(opened.tm);
  expect(await orders.place(1)).toBe('Orders.place');
  await expect(orders.place(2, true)).rejects.toThrow('payment declined');
  expect(await orders.count()).toBe(1);
  const { rows } = await opened.tm.execute<{ n: number }>('SELECT count(*) AS n FROM audit');
  expect(Number(rows[0]?.n)).toBe(1);
  await expect(orders.audit(3)).rejects.toThrow(/MANDATORY/);
});

it('falls back to the default manager, and says so when there is none', async () => {
  const reports = new services.Reports();
  await expect(reports.name()).rejects.toThrow(/no TransactionManager found/);
  setDefaultTransactionManager(opened.tm as TransactionManager<never, never>);
  services.Reports.manager = opened.tm;
  expect(await reports.name()).toBe('nightly report');
});

it('checks its options when the class is defined', () => {
  expect(() => Transactional({ propagation: 'ALWAYS' as never })).toThrow(/propagation/);
  expect(() => Transactional({ manager: 'orders' as never })).toThrow(/options.manager/);
});
