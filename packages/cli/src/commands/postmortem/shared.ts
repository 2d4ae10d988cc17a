import { type LoadedDocument, loadDocuments, type Unreadable } from '@myrmex/postmortem';
import { Option } from 'commander';
import type { CliContext } from '../../context.js';

/** Loads documents, reporting every unreadable path on stderr and setting exit code 2 for it. */
export async function loadOrReport(
  paths: readonly string[],
  { io, fail }: CliContext,
): Promise<{ documents: LoadedDocument[]; unreadable: Unreadable[] }> {
  const { documents, unreadable } = await loadDocuments(paths);
  for (const { file, reason } of unreadable) {
    io.err(`myrmex: cannot read ${file}: ${reason}`);
    fail(2);
  }
  if (documents.length === 0 && unreadable.length === 0) {
    io.err(`myrmex: no Markdown files under ${paths.join(', ')}`);
    fail(2);
  }
  return { documents, unreadable };
}

export const jsonOption = () => new Option('--json', 'print machine-readable JSON');

/** Today's date in UTC as YYYY-MM-DD. */
export const todayUtc = (): string => new Date().toISOString().slice(0, 10);

/** The current instant in UTC, to the second, as the front matter wants it. */
export const nowUtc = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
