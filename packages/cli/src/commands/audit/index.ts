import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { UsageError } from '../../context.js';

/**
 * `myrmex audit verify --db <store>`: walks the whole hash chain straight from the database (an
 * operator's check, independent of any queen), optionally against a head published elsewhere.
 */
export function registerAudit(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('check every audit row against its hash and its predecessor; exit 1 on the first broken row')
    .option('--db <store>', 'a SQLite file or postgres:// URL (default $MYRMEX_DB, then ./.myrmex/myrmex.db)')
    .option('--anchor <seq:hash>', 'a head published earlier: also detects rows deleted from the end')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { db?: string; anchor?: string; json?: boolean }) => {
      let anchor: { seq: number; hash: string } | undefined;
      if (options.anchor !== undefined) {
        const match = /^(\d+):([0-9a-f]{64})$/.exec(options.anchor);
        if (!match) throw new UsageError(`--anchor must be <seq>:<64 hex digits>, got '${options.anchor}'`);
        anchor = { seq: Number(match[1]), hash: match[2] as string };
      }
      const { openStore, verifyChain, DEFAULT_DB_PATH } = await import('@myrmex/orchestrator');
      const store = await openStore(options.db ?? context.env.MYRMEX_DB ?? DEFAULT_DB_PATH);
      try {
        const security = store.security();
        const rows = [];
        for (let after = 0; ; ) {
          const page = await security.audit({ afterSeq: after, limit: 1000 });
          rows.push(...page);
          if (page.length < 1000) break;
          after = page.at(-1)?.seq ?? after;
        }
        const verdict = verifyChain(rows, anchor);
        if (options.json) context.io.out(JSON.stringify(verdict));
        else if (verdict.ok) context.io.out(`audit log intact: ${verdict.count} rows, head ${verdict.count}:${verdict.head}`);
        else context.io.err(`myrmex: audit log broken at row ${verdict.seq}: ${verdict.reason}`);
        if (!verdict.ok) context.fail(1);
      } finally {
        await store.close();
      }
    });
}
