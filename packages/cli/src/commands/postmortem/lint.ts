import { readFile } from 'node:fs/promises';
import {
  ConfigError,
  defaultConfig,
  type FileFindings,
  FORMATS,
  type Format,
  formatJson,
  formatSarif,
  formatText,
  hasErrors,
  type LintConfig,
  lint,
  parseConfig,
  RULES,
  TEMPLATES,
  type TemplateName,
  version,
} from '@myrmex/postmortem';
import { type Command, Option } from 'commander';
import type { CliContext } from '../../context.js';
import { loadOrReport } from './shared.js';

async function readConfig(file: string | undefined, { io, fail }: CliContext): Promise<LintConfig | undefined> {
  if (file === undefined) return defaultConfig();
  try {
    return parseConfig(await readFile(file, 'utf8'), file);
  } catch (error) {
    io.err(`myrmex: ${error instanceof ConfigError ? error.message : `cannot read ${file}: ${(error as Error).message}`}`);
    fail(2);
    return undefined;
  }
}

export function registerLint(family: Command, context: CliContext): void {
  family
    .command('lint')
    .description('review post-mortems against the rules; exit 0 clean, 1 findings at error severity, 2 unreadable input')
    .argument('<paths...>', 'Markdown files or directories (searched recursively for .md)')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('text'))
    .option('--config <file>', 'organisation rules configuration (YAML or JSON)')
    .addOption(
      new Option('--preset <template>', "review every file against this template's preset (default: each file's `template` field)").choices(
        TEMPLATES,
      ),
    )
    .action(async (paths: string[], options: { format: Format; config?: string; preset?: TemplateName }) => {
      const config = await readConfig(options.config, context);
      if (!config) return;
      const { documents, unreadable } = await loadOrReport(paths, context);
      const results: FileFindings[] = documents.map((d) => ({
        file: d.file,
        findings: lint(d.parsed, config, options.preset ? { preset: options.preset } : {}),
      }));
      const output =
        options.format === 'json'
          ? formatJson(results)
          : options.format === 'sarif'
            ? formatSarif(results, { toolVersion: version, rules: RULES, unreadable })
            : formatText(results);
      context.io.out(output);
      if (results.some((r) => hasErrors(r.findings))) context.fail(1);
    });
}
