import { formatActions, trackActions } from '@myrmex/postmortem';
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import { jsonOption, loadOrReport, todayUtc } from './shared.js';

export function registerActions(family: Command, context: CliContext): void {
  family
    .command('actions')
    .description('track action items across post-mortems: open, overdue, done, completion rate and age, by owner and priority')
    .argument('<paths...>', 'directories or files of post-mortems')
    .option('--today <date>', 'the date to measure against (YYYY-MM-DD, default: today in UTC)')
    .addOption(jsonOption())
    .action(async (paths: string[], options: { today?: string; json?: boolean }) => {
      const today = options.today ?? todayUtc();
      if (!/^\d{4}-\d{2}-\d{2}$/.test(today) || Number.isNaN(Date.parse(today)))
        throw new UsageError(`--today must be a date (YYYY-MM-DD), got "${today}"`);
      const { documents } = await loadOrReport(paths, context);
      const summary = trackActions(
        documents.map((d) => ({ file: d.file, doc: d.parsed.doc, positions: d.parsed.positions })),
        today,
      );
      context.io.out(options.json ? JSON.stringify(summary) : formatActions(summary));
    });
}
