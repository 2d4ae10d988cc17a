import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PostMortemSchema, parse, postMortemJsonSchema } from '../src/index.js';
import { exemplary } from './support/fixtures.js';

describe('JSON Schema of the model', () => {
  it('is the published schema file (regenerate with `npm run schema -w @myrmex/postmortem`)', () => {
    const published = JSON.parse(readFileSync(new URL('../schema/postmortem.schema.json', import.meta.url), 'utf8'));
    expect(published).toEqual(postMortemJsonSchema());
  });

  it('describes every section and front-matter field', () => {
    const schema = postMortemJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown> }> };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['frontMatter', 'timeline', 'rootCause', 'lessons', 'actions', 'review']),
    );
    expect(Object.keys(schema.properties.frontMatter?.properties ?? {})).toEqual(
      expect.arrayContaining(['incident_start', 'reviewers', 'security_sensitive']),
    );
  });

  it('accepts what the parser produces', () => {
    expect(PostMortemSchema.parse(parse(exemplary).doc)).toEqual(parse(exemplary).doc);
  });
});
