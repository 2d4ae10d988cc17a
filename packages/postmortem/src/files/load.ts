import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Parsed, parse } from '../parse/index.js';

export interface LoadedDocument {
  readonly file: string;
  readonly text: string;
  readonly parsed: Parsed;
}

/** A path that could not be read: missing, unreadable, or not UTF-8. */
export interface Unreadable {
  readonly file: string;
  readonly reason: string;
}

const SKIP = new Set(['node_modules', 'dist']);

async function markdownUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((entry) => !entry.name.startsWith('.') && !SKIP.has(entry.name))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(async (entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) return markdownUnder(path);
        return entry.isFile() && entry.name.endsWith('.md') ? [path] : [];
      }),
  );
  return nested.flat();
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Reads the documents at the given paths: a file is read whatever its name, a directory yields its
 * `.md` files recursively (hidden folders, node_modules and dist skipped). Nothing unreadable is silently dropped.
 */
export async function loadDocuments(paths: readonly string[]): Promise<{ documents: LoadedDocument[]; unreadable: Unreadable[] }> {
  const documents: LoadedDocument[] = [];
  const unreadable: Unreadable[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const path of paths) {
    let files: string[];
    try {
      files = (await stat(path)).isDirectory() ? await markdownUnder(path) : [path];
    } catch (error) {
      unreadable.push({ file: path, reason: reasonOf(error) });
      continue;
    }
    for (const file of files) {
      try {
        const text = decoder.decode(await readFile(file));
        documents.push({ file, text, parsed: parse(text) });
      } catch (error) {
        unreadable.push({ file, reason: error instanceof TypeError ? 'not valid UTF-8' : reasonOf(error) });
      }
    }
  }
  return { documents, unreadable };
}
