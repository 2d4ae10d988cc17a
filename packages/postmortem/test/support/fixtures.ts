import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const exemplary = readFileSync(join(fixturesDir, 'exemplary.md'), 'utf8');

/** The golden document of each rule, by rule id. */
export function ruleFixtures(): Map<string, string> {
  const dir = join(fixturesDir, 'rules');
  return new Map(readdirSync(dir).map((file) => [file.replace(/\.md$/, ''), readFileSync(join(dir, file), 'utf8')]));
}

/** The exemplary document with each `[from, to]` applied once; fails loudly when `from` is not there exactly once. */
export function variant(...edits: [string, string][]): string {
  let text = exemplary;
  for (const [from, to] of edits) {
    if (text.split(from).length !== 2) throw new Error(`"${from}" is not in the exemplary document exactly once`);
    text = text.replace(from, to);
  }
  return text;
}
