// Regenerates job-definition.schema.json from the zod source: `npx tsx packages/orchestrator/schema/generate.ts`.
// test/definition/schema.test.ts fails while the file is out of date.
import { writeFileSync } from 'node:fs';
import { jobDefinitionJsonSchema } from '../src/definition/index.js';

const target = new URL('./job-definition.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(jobDefinitionJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
