import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { analysePatterns, patternChart, patternReport } from '@myrmex/postmortem';
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import { jsonOption, loadOrReport } from './shared.js';

export function registerPatterns(family: Command, context: CliContext): void {
  family
    .command('patterns')
    .description('find the recurring failure patterns ("bingo squares") across post-mortems, with counts per month')
    .argument('<paths...>', 'directories or files of post-mortems')
    .option('--out <dir>', 'write patterns.md and patterns.svg into this directory (default: print the Markdown)')
    .option('--repeat-at <n>', 'a pattern in this many post-mortems is called out as repeated', '2')
    .addOption(jsonOption())
    .action(async (paths: string[], options: { out?: string; repeatAt: string; json?: boolean }) => {
      const repeatAt = Number(options.repeatAt);
      if (!Number.isInteger(repeatAt) || repeatAt < 1)
        throw new UsageError(`--repeat-at must be a positive integer, got "${options.repeatAt}"`);
      const { documents } = await loadOrReport(paths, context);
      const analysis = analysePatterns(documents.map((d) => ({ file: d.file, doc: d.parsed.doc })));
      if (options.json) {
        context.io.out(JSON.stringify(analysis));
        return;
      }
      if (options.out === undefined) {
        context.io.out(patternReport(analysis, { repeatAt }));
        return;
      }
      const out = options.out;
      await mkdir(out, { recursive: true });
      await writeFile(join(out, 'patterns.svg'), patternChart(analysis));
      await writeFile(
        join(out, 'patterns.md'),
        patternReport(analysis, { repeatAt, chart: 'patterns.svg', link: (file) => relative(out, file) }),
      );
      context.io.err(`wrote ${join(out, 'patterns.md')} and ${join(out, 'patterns.svg')}`);
    });
}
