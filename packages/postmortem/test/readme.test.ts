import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES } from '../src/index.js';

const rows = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => line.split(/(?<!\\)\|/).map((cell) => cell.trim()));

describe('README rule catalogue', () => {
  it.each(RULES.map((rule) => [rule.id, rule] as const))('lists %s with its severity, summary, why and hint', (id, rule) => {
    const escapePipes = (text: string) => text.replace(/\|/g, '\\|');
    expect(rows).toContainEqual([
      '',
      `\`${id}\``,
      rule.severity,
      escapePipes(rule.summary),
      escapePipes(rule.why),
      escapePipes(rule.hint),
      '',
    ]);
  });
});
