// AOM validation throughput against a hand-written TypeScript check of the same rules.
//   npm run bench:validation -w @myrmex/aom -- [--samples 2000] [--rounds 200] [--repeat 5]
import { parseArgs } from 'node:util';
import { AomRegistry, type EntityTypeDef } from '../src/index.js';

const { values: flags } = parseArgs({
  options: {
    samples: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '200' },
    repeat: { type: 'string', default: '5' },
  },
});
const samples = Number(flags.samples);
const rounds = Number(flags.rounds);
const repeat = Number(flags.repeat);

const car: EntityTypeDef = {
  name: 'Car',
  properties: {
    maker: { type: 'string', required: true, minLength: 1, maxLength: 40 },
    year: { type: 'integer', min: 1886, max: 2100 },
    fuel_type: { type: 'enum', values: ['petrol', 'diesel', 'electric'] },
    electric: { type: 'boolean' },
    price: { type: 'float', min: 0 },
    registered: { type: 'date' },
    tags: { type: 'list', of: { type: 'string', maxLength: 10 }, maxItems: 3 },
  },
  rules: [{ name: 'electric_fuel', expression: 'not(electric) or fuel_type == "electric"' }],
};

const FUELS = new Set(['petrol', 'diesel', 'electric']);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const KNOWN = new Set(['maker', 'year', 'fuel_type', 'electric', 'price', 'registered', 'tags']);

/** What a team would write by hand for the same type: a class whose factory checks its input. */
class CarRecord {
  private constructor(readonly values: Readonly<Record<string, unknown>>) {}

  /** The problems found, or the record when there are none. */
  static from(input: Record<string, unknown>): CarRecord | string[] {
    const problems: string[] = [];
    for (const key of Object.keys(input)) if (!KNOWN.has(key)) problems.push(`${key}: unknown`);
    const { maker, year, fuel_type, electric, price, registered, tags } = input;
    if (typeof maker !== 'string') problems.push('maker: required string');
    else if (maker.length < 1 || maker.length > 40) problems.push('maker: length');
    if (year !== undefined && (!Number.isSafeInteger(year) || (year as number) < 1886 || (year as number) > 2100)) problems.push('year');
    if (fuel_type !== undefined && !FUELS.has(fuel_type as string)) problems.push('fuel_type');
    if (electric !== undefined && typeof electric !== 'boolean') problems.push('electric');
    if (price !== undefined && (typeof price !== 'number' || !Number.isFinite(price) || price < 0)) problems.push('price');
    if (registered !== undefined) {
      const match = typeof registered === 'string' ? DATE.exec(registered) : null;
      const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
      if (!date || date.getUTCDate() !== Number(match![3]) || date.getUTCMonth() !== Number(match![2]) - 1) problems.push('registered');
    }
    if (tags !== undefined) {
      if (!Array.isArray(tags) || tags.length > 3) problems.push('tags');
      else for (const tag of tags) if (typeof tag !== 'string' || tag.length > 10) problems.push('tags[]');
    }
    if (electric === true && fuel_type !== 'electric') problems.push('electric_fuel');
    return problems.length > 0 ? problems : new CarRecord(input);
  }
}

function sample(i: number): Record<string, unknown> {
  const valid = i % 10 !== 0;
  const electric = i % 7 === 0;
  return {
    maker: valid ? `maker-${i % 97}` : '',
    year: 1950 + (i % 70),
    fuel_type: electric ? 'electric' : i % 2 ? 'petrol' : 'diesel',
    electric,
    price: (i * 7919) % 100_000,
    registered: `20${String(10 + (i % 15))}-0${1 + (i % 9)}-1${i % 9}`,
    tags: i % 3 ? ['city'] : ['city', 'family'],
  };
}

const registry = await AomRegistry.open();
const validator = (await registry.defineType(car)).validator;
const data = Array.from({ length: samples }, (_, i) => sample(i));
for (const values of data) {
  if ((validator(values, null).issues.length === 0) !== CarRecord.from(values) instanceof CarRecord) {
    throw new Error(`the two checks disagree on ${JSON.stringify(values)}`);
  }
}

function measure(check: (values: Record<string, unknown>) => number): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let round = 0; round < rounds; round += 1) for (const values of data) sink += check(values);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink < 0) throw new Error('unreachable');
  return (rounds * data.length) / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const aom: number[] = [];
const hand: number[] = [];
for (let run = 0; run < repeat; run += 1) {
  aom.push(measure((values) => validator(values, null).issues.length));
  hand.push(measure((values) => (CarRecord.from(values) instanceof CarRecord ? 0 : 1)));
}
const creates: number[] = [];
for (let run = 0; run < repeat; run += 1) {
  const start = process.hrtime.bigint();
  for (const values of data) await registry.create('Car', values).catch(() => undefined);
  creates.push(data.length / (Number(process.hrtime.bigint() - start) / 1e9));
}
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`samples ${samples} (90% valid), rounds ${rounds}, repeat ${repeat}; medians:`);
console.log(`  AOM compiled validator      ${fmt(median(aom))} validations/s`);
console.log(`  hand-written class check    ${fmt(median(hand))} validations/s`);
console.log(`  ratio AOM / hand-written    ${(median(aom) / median(hand)).toFixed(2)}`);
console.log(`  AOM create() in memory      ${fmt(median(creates))} entities/s (validate, defaults, copy, store)`);
