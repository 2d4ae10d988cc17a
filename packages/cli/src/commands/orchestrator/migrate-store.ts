import type { CopyProgress } from '@myrmex/orchestrator';
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';

interface MigrateStoreFlags {
  readonly from?: string;
  readonly to?: string;
  readonly forceAppend?: boolean;
  readonly json?: boolean;
}

/** A progress line at most this often per table, besides its first and last. */
const PROGRESS_EVERY_MS = 1000;

/**
 * `myrmex migrate-store --from sqlite:<file> --to postgres://…`: moves a SQLite store to PostgreSQL,
 * table by table (progress on stderr), refusing a target that already holds data unless
 * --force-append. Stop the queens of both stores first.
 */
export function registerMigrateStoreCommand(program: Command, context: CliContext): void {
  const { io } = context;
  program
    .command('migrate-store')
    .description('move everything a SQLite store holds (definitions, jobs, history, logs, security) into a PostgreSQL database')
    .option('--from <store>', 'the SQLite store: sqlite:<file> or a file path')
    .option('--to <url>', 'the PostgreSQL database: postgres://user@host:5432/database')
    .option(
      '--force-append',
      'copy into a database that already holds data (rows with the same key are replaced); also resumes a stopped copy',
    )
    .option('--json', 'print the result as JSON')
    .action(async (flags: MigrateStoreFlags) => {
      if (!flags.from) throw new UsageError('migrate-store needs --from sqlite:<file>');
      if (!flags.to) throw new UsageError('migrate-store needs --to postgres://user@host:5432/database');
      let shownAt = 0;
      const progress = (p: CopyProgress) => {
        const now = Date.now();
        if (p.copied !== 0 && p.copied !== p.rows && now - shownAt < PROGRESS_EVERY_MS) return;
        shownAt = now;
        io.err(`[${p.index}/${p.tables}] ${p.table}: ${p.copied}/${p.rows} rows`);
      };
      // Loaded here, not at the top: every other command would otherwise pay for the orchestrator at start-up.
      const { migrateStore } = await import('@myrmex/orchestrator');
      const result = await migrateStore({ from: flags.from, to: flags.to, append: flags.forceAppend === true, onProgress: progress });
      io.out(flags.json ? JSON.stringify(result) : `moved ${result.rows} rows in ${result.tables.length} tables`);
    });
}
