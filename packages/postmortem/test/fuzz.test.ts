import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lint, parse, SECTIONS } from '../src/index.js';
import { exemplary } from './support/fixtures.js';

/** Every position a parse or a lint reports lies inside the document. */
function expectPositionsInside(text: string): void {
  const lines = text.replace(/\r\n?/g, '\n').split('\n').length;
  const parsed = parse(text);
  for (const at of [...parsed.diagnostics, ...parsed.positions.values(), ...lint(parsed)]) {
    expect(at.line).toBeGreaterThanOrEqual(1);
    expect(at.line).toBeLessThanOrEqual(lines);
    expect(at.column).toBeGreaterThanOrEqual(1);
  }
}

const yamlNoise = fc.array(
  fc.constantFrom(
    'title',
    'status',
    ': ',
    ':',
    '- ',
    '[',
    ']',
    '{',
    '}',
    '"',
    "'",
    '\n',
    '  ',
    '&a ',
    '*a',
    '!!',
    '#',
    'x',
    '---',
    '|',
    '>',
  ),
  {
    maxLength: 40,
  },
);

describe('parser robustness', () => {
  it('never throws on arbitrary text, and reports positions inside it', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), expectPositionsInside), { numRuns: 300 });
  });

  it('reports malformed YAML front matter as front-matter-invalid at a line inside the front matter', () => {
    fc.assert(
      fc.property(yamlNoise, (tokens) => {
        const front = tokens.join('');
        const text = `---\n${front}\n---\n\n## Summary\n\nText.\n`;
        expectPositionsInside(text);
        const lastFrontLine = 2 + front.split('\n').length;
        for (const d of parse(text).diagnostics.filter((d) => d.code === 'front-matter-invalid'))
          expect(d.line).toBeLessThanOrEqual(lastFrontLine);
      }),
      { numRuns: 300 },
    );
  });

  it('names the YAML error line', () => {
    const parsed = parse('---\ntitle: ok\nstatus: [published\nseverity: SEV-1\n---\n');
    expect(parsed.diagnostics.some((d) => d.code === 'front-matter-invalid' && d.line >= 3 && d.message.startsWith('YAML:'))).toBe(true);
  });

  it('names the field and line of a wrongly typed field, and keeps the other fields', () => {
    const parsed = parse('---\ntitle: Users see errors\nstatus: published\nauthors: Maya\npublished_at: 2026-11-06\n---\n');
    expect(parsed.diagnostics.map((d) => [d.line, d.message.split(':')[0]])).toEqual([
      [4, 'field "authors"'],
      [5, 'field "published_at"'],
    ]);
    expect(parsed.doc.frontMatter).toEqual({ title: 'Users see errors', status: 'published' });
  });

  it('reports each missing section and nothing unhandled, whatever sections are removed', () => {
    const parts = exemplary.split(/(?=^## )/m);
    fc.assert(
      fc.property(fc.subarray(parts.slice(1)), (kept) => {
        const text = [parts[0], ...kept].join('');
        expectPositionsInside(text);
        const missing = lint(text)
          .filter((f) => f.rule === 'section-missing')
          .map((f) => f.message);
        const present = new Set(kept.map((part) => part.split('\n')[0]?.slice(3)));
        expect(missing).toEqual(SECTIONS.filter((s) => !present.has(s.heading)).map((s) => `the section "${s.heading}" is missing`));
      }),
      { numRuns: 100 },
    );
  });

  it('reads action tables with missing, reordered or extra columns and ragged rows, reporting positions in the table', () => {
    const column = fc.constantFrom('#', 'Description', 'Owner', 'Deadline', 'Priority', 'Lessons', 'Status', 'Link', 'Notes', '');
    const cell = fc.stringMatching(/^[A-Za-z0-9 ,.#-]{0,12}$/);
    fc.assert(
      fc.property(
        fc.array(column, { minLength: 1, maxLength: 9 }),
        fc.array(fc.array(cell, { maxLength: 10 }), { maxLength: 5 }),
        (headers, rows) => {
          const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
          const table = [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
          const text = `---\ntitle: T\nstatus: draft\n---\n\n## Action items\n\n${table}\n`;
          expectPositionsInside(text);
          for (const d of parse(text).diagnostics.filter((d) => d.code === 'action-table-malformed')) {
            expect(d.line).toBeGreaterThanOrEqual(8);
            expect(d.line).toBeLessThanOrEqual(9 + rows.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports a table lacking columns at the header line and a ragged row at its line', () => {
    const text = '---\ntitle: T\nstatus: draft\n---\n\n## Action items\n\n| # | Description |\n| - | - |\n| 1 | Do it | extra |\n';
    expect(parse(text).diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([
      ['action-table-malformed', 8, 'the action table lacks the columns Owner, Deadline, Priority, Lessons, Status, Link'],
      ['action-table-malformed', 10, 'action row 1 has 3 cells, the header has 2'],
    ]);
  });

  it('reads Windows line endings and a byte-order mark like Unix text', () => {
    const windows = `\uFEFF${exemplary.replace(/\n/g, '\r\n')}`;
    expect(parse(windows).doc).toEqual(parse(exemplary).doc);
    expect(lint(windows)).toEqual([]);
  });
});
