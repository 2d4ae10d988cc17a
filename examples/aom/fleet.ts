// A fleet modelled as data: types from a JSON file, rules and operations bound by name, a
// schema change with a migration, role-checked and audited reads, and queries on the store.
//
//   npx tsc -b packages/aom && npx tsx examples/aom/fleet.ts [--store memory|sqlite]
//   node --conditions=source --import tsx examples/aom/fleet.ts      (runs on src/, no build)
//
// With --store sqlite the data lives in --file, or a new file under the temporary directory, printed at the end.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AomRegistry, type AomStore, AomValidationError, auditTypeExplosion, type EntityTypeDef, MemoryAomStore } from '@myrmex/aom';
import { SqliteAomStore } from '@myrmex/aom/sqlite';
import { AuditFacet, Facets } from '@myrmex/facets';

const { values: flags } = parseArgs({ options: { store: { type: 'string', default: 'memory' }, file: { type: 'string' } } });
let file: string | undefined;
const stores: Record<string, () => AomStore> = {
  memory: () => new MemoryAomStore(),
  sqlite: () => {
    file = flags.file ?? join(mkdtempSync(join(tmpdir(), 'aom-fleet-')), 'fleet.db');
    return new SqliteAomStore({ filename: file });
  },
};
const makeStore = stores[flags.store ?? 'memory'];
if (!makeStore) throw new Error(`--store must be one of ${Object.keys(stores).join(', ')}`);

const registry = await AomRegistry.open({ store: makeStore() });
const types = JSON.parse(readFileSync(new URL('./fleet-types.json', import.meta.url), 'utf8')) as EntityTypeDef[];
for (const def of types) await registry.defineType(def); // identical redefinitions keep their version

registry.strategies.register('percentOff', async ({ entity, registry: acting, args }) => {
  const price = entity.get('price') as number;
  return (await acting.update(entity.id, { price: Math.round(price * (100 - Number(args[0]))) / 100 })).get('price');
});

const admin = registry.as({ id: 'fay', roles: ['fleet-admin', 'sales'] });
const ant = await admin.create('Car', { maker: 'Ant Motors', year: 2022, price: 24_000, vin: '1HGCM82633A004352' });
const bee = await admin.create('Car', { maker: 'Bee Works', year: 2024, price: 41_000, electric: true, fuel_type: 'electric' });
const ada = await registry.create('Person', { name: 'Ada' });
await registry.create('Assignment', { driver: ada.id, vehicles: [ant.id, bee.id], from: '2026-01-01' });
console.log('created', ant.toJSON().values, 'with price_with_tax', ant.get('price_with_tax'));

try {
  await registry.create('Car', { maker: '', year: 1700, electric: true, fuel_type: 'diesel', wings: 2 });
} catch (error) {
  if (!(error instanceof AomValidationError)) throw error;
  console.log('refused, every issue at once:');
  for (const issue of error.issues) console.log(`  ${issue.property} [${issue.constraint}] ${issue.message}`);
}

console.log(
  'electric or recent cars:',
  (await registry.find('Car', { where: { year: { gte: 2023 } }, orderBy: '-price' })).map((car) => car.values.maker),
);
console.log('discounted by a strategy bound by name:', await admin.run(ant.id, 'discount', 10));

const auditor = await registry.as({ id: 'ivy', roles: ['auditor'] }).get(ant.id);
console.log('auditor reads the VIN:', auditor.get('vin'));
console.log(
  'audit trail on the entity:',
  Facets.of(auditor)
    .require(AuditFacet)
    .entries()
    .map((entry) => entry.details),
);

// The business renames `maker` to `brand`: not additive, so it declares a migration.
const vehicle = types[0]!;
await registry.defineType({
  ...vehicle,
  properties: { brand: { type: 'string', required: true, minLength: 1, maxLength: 40 }, year: vehicle.properties!.year! },
  migration: [{ op: 'rename', from: 'maker', to: 'brand' }],
});
console.log('Car is now version', registry.type('Car').version, '; old versions stay readable:', [
  ...registry.type('Car', 1).properties.keys(),
]);
console.log('lazily migrated on load:', (await registry.get(bee.id)).values);
console.log('eagerly migrated:', await registry.migrateAll(), 'entities');
console.log('near-duplicate types:', auditTypeExplosion(registry.types()).nearDuplicates.length);
await registry.close();
if (file) console.log('data kept in', file);
