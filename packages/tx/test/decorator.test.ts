import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setDefaultTransactionManager, Transactional, type TransactionManager } from '../src/index.js';
import type { defineServices as Define } from './fixtures/decorated.js';
import { freshSqliteFile, type Opened, openManager } from './support/databases.js';

let file: Awaited<ReturnType<typeof freshSqliteFile>>;
let opened: Opened;
const fixture = fileURLToPath(new URL('./fixtures/decorated.ts', import.meta.url));

let previous: ts.Program | undefined;

/** Type-checks the fixture as a user's tsc would, then emits it; either decorator form. */
function compile(experimentalDecorators: boolean): string {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    skipLibCheck: true,
    experimentalDecorators,
    noEmit: true,
    // Only what the fixture needs (its own diagnostics are the ones checked): @types/node alone takes seconds.
    types: [],
    lib: ['lib.es2022.d.ts', 'lib.esnext.decorators.d.ts'],
  };
  const program = ts.createProgram({ rootNames: [fixture], options, oldProgram: previous });
  previous = program;
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === fixture)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  expect(problems).toEqual([]);
  return ts.transpileModule(readFileSync(fixture, 'utf8'), { compilerOptions: { ...options, noEmit: false } }).outputText;
}

const loaded = new Map<boolean, Promise<ReturnType<typeof Define>>>();
function load(experimentalDecorators: boolean): Promise<ReturnType<typeof Define>> {
  let services = loaded.get(experimentalDecorators);
  if (!services) {
    services = compileAndImport(experimentalDecorators);
    loaded.set(experimentalDecorators, services);
  }
  return services;
}

async function compileAndImport(experimentalDecorators: boolean): Promise<ReturnType<typeof Define>> {
  const compiled = join(file.name, '..', `decorated-${experimentalDecorators ? 'legacy' : 'tc39'}.mjs`);
  writeFileSync(compiled, compile(experimentalDecorators));
  const { defineServices } = (await import(pathToFileURL(compiled).href)) as { defineServices: typeof Define };
  return defineServices(Transactional);
}

beforeAll(async () => {
  file = await freshSqliteFile();
  opened = openManager('sqlite', file.url);
  await opened.tm.execute('CREATE TABLE orders (id INT PRIMARY KEY)');
  await opened.tm.execute('CREATE TABLE audit (order_id INT)');
});
afterAll(async () => {
  setDefaultTransactionManager(undefined);
  await opened.close();
  await file.dispose();
});

for (const form of ['TC39 decorators', 'experimentalDecorators'] as const) {
  it(`${form}: finds the manager in a field, names the transaction after Class.method, and nested methods join`, async () => {
    const services = await load(form === 'experimentalDecorators');
    await opened.tm.execute('DELETE FROM orders');
    await opened.tm.execute('DELETE FROM audit');
    const orders = new services.Orders(opened.tm);
    expect(await orders.place(1)).toBe('Orders.place');
    await expect(orders.place(2, true)).rejects.toThrow('payment declined');
    expect(await orders.count()).toBe(1);
    const { rows } = await opened.tm.execute<{ n: number }>('SELECT count(*) AS n FROM audit');
    expect(Number(rows[0]?.n)).toBe(1);
    await expect(orders.audit(3)).rejects.toThrow(/MANDATORY/);
  });

  it(`${form}: falls back to the default manager, and says so when there is none`, async () => {
    const services = await load(form === 'experimentalDecorators');
    setDefaultTransactionManager(undefined);
    const reports = new services.Reports();
    await expect(reports.name()).rejects.toThrow(/no TransactionManager found/);
    setDefaultTransactionManager(opened.tm as TransactionManager<never, never>);
    services.Reports.manager = opened.tm;
    expect(await reports.name()).toBe('nightly report');
  });
}

it('checks its options when the class is defined', () => {
  expect(() => Transactional({ propagation: 'ALWAYS' as never })).toThrow(/propagation/);
  expect(() => Transactional({ manager: 'orders' as never })).toThrow(/options.manager/);
});
