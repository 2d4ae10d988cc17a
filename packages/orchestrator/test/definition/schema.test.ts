import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { jobDefinitionJsonSchema } from '../../src/definition/index.js';
import { validDocument } from './arbitraries.js';

const examplesDir = fileURLToPath(new URL('../../../../examples/orchestrator/', import.meta.url));
const examples = readdirSync(examplesDir).filter((name) => name.endsWith('.yaml'));
const schema = jobDefinitionJsonSchema();
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
const validate = ajv.compile(schema);

describe('the published JSON Schema', () => {
  it('is the file in schema/, up to date with the zod source (regenerate: npx tsx packages/orchestrator/schema/generate.ts)', () => {
    const published = JSON.parse(readFileSync(fileURLToPath(new URL('../../schema/job-definition.schema.json', import.meta.url)), 'utf8'));
    expect(published).toEqual(schema);
  });

  it('is a valid draft 2020-12 schema', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it.each(examples)('accepts examples/orchestrator/%s', (name) => {
    const document = parse(readFileSync(`${examplesDir}${name}`, 'utf8'));
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
  });

  it('accepts every definition the validator accepts (generated)', () => {
    fc.assert(
      fc.property(validDocument, (document) => {
        expect(validate(JSON.parse(JSON.stringify(document))), JSON.stringify(validate.errors)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it.each([
    ['an unknown key', { job_type: 'x', tasks: [{ task_type: 'a', scirpt: ['echo'] }] }, '/tasks/0'],
    ['a priority out of range', { job_type: 'x', priority: 500, tasks: [{ task_type: 'a' }] }, '/priority'],
    ['a bad duration', { job_type: 'x', tasks: [{ task_type: 'a', timeout: '5x' }] }, '/tasks/0/timeout'],
    ['a bad exit code key', { job_type: 'x', tasks: [{ task_type: 'a', on_exit_code: { OK: 'COMPLETED' } }] }, '/tasks/0/on_exit_code'],
    ['no tasks', { job_type: 'x', tasks: [] }, '/tasks'],
    ['a missing job_type', { tasks: [{ task_type: 'a' }] }, ''],
  ])('rejects %s', (_, document, instancePath) => {
    expect(validate(document)).toBe(false);
    expect(validate.errors?.map((error) => error.instancePath)).toContain(instancePath);
  });
});
