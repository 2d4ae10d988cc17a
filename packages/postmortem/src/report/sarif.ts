import type { Log } from 'sarif';
import { expectList, expectRecord, fileFindingsProblem } from '../input.js';
import type { Rule } from '../lint/rule.js';
import type { FileFindings } from './formats.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifOptions {
  readonly toolVersion: string;
  /** Rules to describe in the driver; findings refer to them by index. */
  readonly rules: readonly Rule[];
  /** Inputs that could not be read: reported as failed-execution notifications, not lost. */
  readonly unreadable?: readonly { readonly file: string; readonly reason: string }[];
}

/** A relative path stays a relative URI reference; an absolute one (POSIX or Windows) becomes a `file://` URI, as SARIF asks. */
function uriOf(file: string): string {
  const path = file.replace(/\\/g, '/');
  const drive = /^[A-Za-z]:\//.test(path);
  const encoded = path
    .split('/')
    .map((part, i) => (drive && i === 0 ? part : encodeURIComponent(part)))
    .join('/');
  if (drive) return `file:///${encoded}`;
  return path.startsWith('/') ? `file://${encoded}` : encoded;
}

/** A SARIF 2.1.0 log with one run, so code-review tools show each finding on its line. */
export function formatSarif(results: readonly FileFindings[], options: SarifOptions): string {
  expectList(results, 'formatSarif', 'the results', fileFindingsProblem);
  expectRecord(options, 'formatSarif', 'the options');
  expectList(options.rules, 'formatSarif', 'options.rules');
  const index = new Map(options.rules.map((rule, i) => [rule.id, i]));
  const unreadable = options.unreadable ?? [];
  // Typed against the SARIF 2.1.0 object model, so a misspelt or misplaced property does not compile.
  const log: Log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'myrmex-postmortem',
            informationUri: 'https://github.com/myrmex/myrmex/tree/main/packages/postmortem',
            version: options.toolVersion,
            rules: options.rules.map((rule) => ({
              id: rule.id,
              name: rule.id.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase()),
              shortDescription: { text: rule.summary },
              fullDescription: { text: `${rule.summary} ${rule.why}` },
              help: { text: rule.hint },
              defaultConfiguration: { level: rule.severity },
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: unreadable.length === 0,
            toolExecutionNotifications: unreadable.map((u) => ({
              level: 'error',
              message: { text: `cannot read: ${u.reason}` },
              locations: [{ physicalLocation: { artifactLocation: { uri: uriOf(u.file) } } }],
            })),
          },
        ],
        results: results.flatMap(({ file, findings }) =>
          findings.map((f) => ({
            ruleId: f.rule,
            ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule) } : {}),
            level: f.severity,
            message: { text: `${f.message}. ${f.hint}` },
            locations: [
              { physicalLocation: { artifactLocation: { uri: uriOf(file) }, region: { startLine: f.line, startColumn: f.column } } },
            ],
          })),
        ),
      },
    ],
  };
  return JSON.stringify(log, null, 2);
}
