import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CheckResult, checkJobDefinition, formatDefinitionError } from '../../src/definition/index.js';

/** The repository root, from this file's place in it. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Formicary's own definitions sit beside the clone, in CI as here (see its README). */
export const CORPUS_DIR = resolve(REPO_ROOT, '../shared/formicary-examples');

export interface CorpusEntry {
  /** Relative to the corpus folder, e.g. `docs-examples/kube-build.yaml`. */
  readonly file: string;
  readonly source: string;
  readonly result: CheckResult;
}

export function corpusFiles(): string[] {
  const walk = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) return walk(path);
      return /\.ya?ml$/.test(entry.name) ? [path] : [];
    });
  return existsSync(CORPUS_DIR) ? walk(CORPUS_DIR).sort() : [];
}

export function checkCorpus(): CorpusEntry[] {
  return corpusFiles().map((path) => {
    const file = relative(CORPUS_DIR, path);
    const source = readFileSync(path, 'utf8');
    return { file, source, result: checkJobDefinition(source, { fileName: file }) };
  });
}

/** One line per problem, `file:line:col: message`, for the table and for failures. */
export function messages(entry: CorpusEntry): string[] {
  return entry.result.ok ? [] : entry.result.errors.map(formatDefinitionError);
}
