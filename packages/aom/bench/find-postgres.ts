// `find` by property on N PostgreSQL entities: jsonb documents with their indexes, the same
// documents without indexes, and the same data in an entity-attribute-value layout.
//   npm run bench:find -w @myrmex/aom -- [--size 1000000] [--repeat 7] [--url postgres://...]
// Without --url it makes (and drops) a fresh database through @myrmex/test-utils.
import { parseArgs } from 'node:util';
import { postgres } from '@myrmex/test-utils';
import pg from 'pg';
import { AomRegistry, type FindQuery } from '../src/index.js';
import { compileQuery } from '../src/query/spec.js';
import { PostgresAomStore } from '../src/store/postgres.js';

const { values: flags } = parseArgs({
  options: { size: { type: 'string', default: '1000000' }, repeat: { type: 'string', default: '7' }, url: { type: 'string' } },
});
const size = Number(flags.size);
const repeat = Number(flags.repeat);
if (!Number.isSafeInteger(size) || size < 1000) throw new Error('--size must be an integer of at least 1000');

const gate = await postgres();
if (!gate.availability.available && !flags.url) throw new Error(`PostgreSQL is needed: ${gate.availability.reason}`);
const fresh = flags.url ? undefined : await gate.freshDatabase();
const url = flags.url ?? fresh!.url;
const pool = new pg.Pool({ connectionString: url, max: 4 });
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const log = (line: string) => console.log(line);

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  const result = await work();
  log(`  ${label}: ${seconds(start).toFixed(1)} s`);
  return result;
}

async function median(work: () => Promise<number>): Promise<{ ms: number; rows: number; firstMs: number }> {
  const times: number[] = [];
  let rows = 0;
  const first = process.hrtime.bigint();
  await work(); // warms the cache; the first range find also builds its expression index
  const firstMs = seconds(first) * 1000;
  for (let run = 0; run < repeat; run += 1) {
    const start = process.hrtime.bigint();
    rows = await work();
    times.push(seconds(start) * 1000);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, rows, firstMs };
}

try {
  const store = new PostgresAomStore({ pool });
  const registry = await AomRegistry.open({ store });
  await registry.defineType({
    name: 'Car',
    properties: {
      maker: { type: 'string', required: true },
      colour: { type: 'enum', values: ['red', 'blue', 'green', 'black', 'white', 'grey', 'silver', 'yellow'] },
      year: { type: 'integer' },
      price: { type: 'float' },
      mileage: { type: 'integer' },
    },
  });
  const { entities, gin } = store.tables;
  log(`loading ${size.toLocaleString('en-US')} Car entities (server-side multi-row INSERT ... SELECT, 100,000 per statement)`);
  await pool.query(`drop index ${gin}`);
  await timed('documents', async () => {
    for (let from = 1; from <= size; from += 100_000) {
      const to = Math.min(size, from + 99_999);
      await pool.query(
        `insert into ${entities} (id, type, type_version, revision, data)
         select 'car-' || lpad(i::text, 8, '0'), 'Car', 1, 1, jsonb_build_object(
           'maker', 'maker-' || (i % 1000),
           'colour', (array['red','blue','green','black','white','grey','silver','yellow'])[1 + (i / 7) % 8],
           'year', 1950 + (i % 75),
           'price', ((i::bigint * 7919) % 100000) + 0.25,
           'mileage', (i::bigint * 104729) % 300000)
         from generate_series($1::int, $2::int) as i`,
        [from, to],
      );
    }
  });
  await timed('GIN jsonb_path_ops index', () => pool.query(`create index ${gin} on ${entities} using gin (data jsonb_path_ops)`));
  await timed('EAV copy (entity table + one row per attribute, 3 indexes)', async () => {
    await pool.query('create table eav_entity (id text primary key, type text not null)');
    await pool.query('create table eav_value (entity_id text not null, attribute text not null, value_text text, value_num numeric)');
    await pool.query(`insert into eav_entity select id, type from ${entities}`);
    await pool.query(`
      insert into eav_value
      select id, key, case when jsonb_typeof(value) = 'string' then value #>> '{}' end,
                      case when jsonb_typeof(value) = 'number' then (value #>> '{}')::numeric end
      from ${entities}, jsonb_each(data)`);
    await pool.query('create index eav_text on eav_value (attribute, value_text)');
    await pool.query('create index eav_num on eav_value (attribute, value_num)');
    await pool.query('create index eav_entity_id on eav_value (entity_id)');
  });
  await timed('vacuum analyze', async () => {
    for (const table of [entities, 'eav_entity', 'eav_value']) await pool.query(`vacuum analyze ${table}`);
  });

  const equality: FindQuery = { where: { maker: 'maker-17', colour: 'red' } };
  const range: FindQuery = { where: { price: { gte: 50_000, lt: 50_100 } } };
  const eav = (filter: string, params: unknown[]) => async () => {
    // Find the ids through the attribute rows, then rebuild each whole entity from its rows.
    const result = await pool.query(
      `select e.id, jsonb_object_agg(v.attribute, coalesce(to_jsonb(v.value_num), to_jsonb(v.value_text))) as data
       from eav_entity e join eav_value v on v.entity_id = e.id
       where e.type = 'Car' and e.id in (${filter})
       group by e.id order by e.id`,
      params,
    );
    return result.rowCount ?? 0;
  };
  const eavEquality = eav(
    `select a.entity_id from eav_value a join eav_value b on b.entity_id = a.entity_id
     where a.attribute = 'maker' and a.value_text = $1 and b.attribute = 'colour' and b.value_text = $2`,
    ['maker-17', 'red'],
  );
  const eavRange = eav(
    `select entity_id from eav_value where attribute = 'price' and value_num >= $1 and value_num < $2`,
    [50_000, 50_100],
  );
  const find =
    (query: FindQuery, on: AomRegistry = registry) =>
    async () =>
      (await on.find('Car', query)).length;
  // The same query as SQL alone, to compare with the EAV SQL without the registry's own work.
  const sql = (query: FindQuery) => async () => {
    const { sql: text, params } = store.compile(compileQuery(registry.type('Car'), [], query));
    return (await pool.query(text, params)).rowCount ?? 0;
  };

  const results: [string, { ms: number; rows: number; firstMs: number }][] = [];
  log(`queries (median of ${repeat} after one warm-up):`);
  results.push(['equality, jsonb + GIN (find)', await median(find(equality))]);
  results.push(['range, jsonb + expression index made on demand (find)', await median(find(range))]);
  results.push(['equality, jsonb + GIN (SQL only)', await median(sql(equality))]);
  results.push(['range, jsonb + expression index (SQL only)', await median(sql(range))]);
  results.push(['equality, EAV with indexes', await median(eavEquality)]);
  results.push(['range, EAV with indexes', await median(eavRange)]);
  const bare = await AomRegistry.open({ store: new PostgresAomStore({ pool, autoIndex: false }) });
  await pool.query(`drop index ${gin}`);
  for (const { indexname } of (await pool.query<{ indexname: string }>(`select indexname from pg_indexes where indexname like 'aom_ix_%'`))
    .rows) {
    await pool.query(`drop index ${indexname}`);
  }
  results.push(['equality, jsonb without index (find)', await median(find(equality, bare))]);
  results.push(['range, jsonb without index (find)', await median(find(range, bare))]);
  for (const [label, { ms, rows, firstMs }] of results) {
    log(`  ${label.padEnd(56)} ${ms.toFixed(1).padStart(9)} ms  ${String(rows).padStart(5)} rows  (first call ${firstMs.toFixed(0)} ms)`);
  }
  const by = Object.fromEntries(results);
  const ratio = (a: string, b: string) => (by[a]!.ms / by[b]!.ms).toFixed(1);
  log('ratios:');
  log(
    `  equality: no index / GIN ${ratio('equality, jsonb without index (find)', 'equality, jsonb + GIN (find)')}x, EAV SQL / jsonb SQL ${ratio('equality, EAV with indexes', 'equality, jsonb + GIN (SQL only)')}x`,
  );
  log(
    `  range: no index / expression index ${ratio('range, jsonb without index (find)', 'range, jsonb + expression index made on demand (find)')}x, EAV SQL / jsonb SQL ${ratio('range, EAV with indexes', 'range, jsonb + expression index (SQL only)')}x`,
  );
} finally {
  await pool.end();
  await fresh?.dispose();
}
