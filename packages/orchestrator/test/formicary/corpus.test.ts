import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR, type CorpusEntry, checkCorpus, messages, REPO_ROOT } from './corpus.js';
import { CORPUS_RUNS, runOf } from './runs.js';

/**
 * Formicary's own 98 definitions, validated unchanged. The floor only ever rises: raise it when a
 * change makes more of them validate, never lower it to make a change pass.
 */
const FLOOR = 94;
const CORPUS_SIZE = 98;

/** Files refused on purpose, and why the refusal is right (each is also wrong for Formicary itself). */
const EXPECTED_REFUSALS: Readonly<Record<string, string>> = {
  'docs-examples/artifact-cache-job.yaml': "dependencies names 'token-sniffer', a task the file does not have",
  'docs-examples/loop-job.yaml': "task_variables is not a key (Formicary's YAML decoder drops it silently; the param is lost)",
  'docs-examples/retry-backoff-job.yaml': "an unquoted script line holds ': ', so YAML reads it as a mapping, not a command",
  'fixtures/queue_trigger_job.yaml': "an unquoted script line holds ': ', so YAML reads it as a mapping, not a command",
};

const corpusPresent = CORPUS_DIR !== '' && checkCorpus().length > 0;
if (!corpusPresent) {
  const message = `Formicary corpus not found at ${CORPUS_DIR} (expected beside the clone: ../shared/formicary-examples)`;
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
}

describe.skipIf(!corpusPresent)("Formicary's definitions", () => {
  const entries = corpusPresent ? checkCorpus() : [];
  const accepted = entries.filter((entry) => entry.result.ok);

  it(`finds all ${CORPUS_SIZE} files`, () => {
    expect(entries).toHaveLength(CORPUS_SIZE);
  });

  it(`validates at least ${FLOOR} of them unchanged`, () => {
    writeCompatibilityTable(entries);
    const refused = entries.filter((entry) => !entry.result.ok);
    expect(accepted.length, refused.flatMap(messages).join('\n')).toBeGreaterThanOrEqual(FLOOR);
  });

  it('refuses only the files known to be wrong, each with a positioned message', () => {
    const refused = entries.filter((entry) => !entry.result.ok);
    expect(refused.map((entry) => entry.file).sort()).toEqual(Object.keys(EXPECTED_REFUSALS).sort());
    for (const entry of refused) {
      if (entry.result.ok) continue;
      for (const error of entry.result.errors) {
        expect(error.line, `${entry.file}: ${error.message}`).toBeGreaterThan(0);
        expect(error.path, `${entry.file}: ${error.message} names no key`).not.toBe('');
      }
    }
  });

  it('runs only files it accepts', () => {
    for (const run of CORPUS_RUNS) expect(accepted.map((entry) => entry.file)).toContain(run.file);
  });

  it('renders the templates that shape the YAML (range over Iterate, if/else in lists)', () => {
    const iterate = entries.find((entry) => entry.file === 'docs-examples/iterate-job.yaml')!;
    expect(iterate.result.ok).toBe(true);
    if (!iterate.result.ok) return;
    expect(iterate.result.definition.tasks.map((task) => [task.taskType, task.onCompleted ?? null])).toEqual([
      ['task-0', 'task-1'],
      ['task-1', 'task-2'],
      ['task-2', 'task-3'],
      ['task-3', 'task-4'],
      ['task-4', null],
    ]);
    const encoding = entries.find((entry) => entry.file === 'fixtures/encoding-job.yaml')!;
    expect(encoding.result.notes.map((note) => note.message)).toContain(
      'template: .Nonce has no value here, so this {{if}} is taken as false',
    );
  });

  it("reads Formicary's dependencies as artifact downloads, never as a join or a cycle", () => {
    const withArtifacts = accepted.filter(
      (entry) => entry.result.ok && entry.result.definition.tasks.some((task) => task.dependencies.length > 0),
    );
    expect(withArtifacts.length).toBeGreaterThan(10);
    for (const entry of withArtifacts) {
      if (entry.result.ok) expect(entry.result.definition.tasks.every((task) => task.needs.length === 0)).toBe(true);
    }
  });
});

function writeCompatibilityTable(entries: readonly CorpusEntry[]): void {
  const accepted = entries.filter((entry) => entry.result.ok).length;
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', '<br>');
  const rows = entries.map((entry) => {
    if (entry.result.ok) {
      const methods = [...new Set(entry.result.definition.tasks.map((task) => task.method))].join(', ');
      const notes =
        entry.result.notes.length === 0 ? '' : ` ${entry.result.notes.length} template note(s), e.g. ${entry.result.notes[0]!.message}`;
      const run = runOf(entry.file);
      const runs = run === undefined ? 'not yet' : run.adaptations.length === 0 ? 'yes' : `yes, adapted: ${run.adaptations.join('; ')}`;
      return `| ${entry.file} | validates | ${cell(runs)} | ${cell(`methods: ${methods}.${notes}`)} |`;
    }
    const why = EXPECTED_REFUSALS[entry.file];
    return `| ${entry.file} | refused | no | ${cell(`${messages(entry).join('\n')}${why === undefined ? '' : `\nWhy: ${why}.`}`)} |`;
  });
  const text = `# Formicary compatibility

Generated by \`packages/orchestrator/test/formicary/corpus.test.ts\` from Formicary's own job definitions
(\`../shared/formicary-examples/\`, ${entries.length} files, taken unchanged). Do not edit by hand: run
\`npx vitest run --project orchestrator test/formicary/corpus.test.ts\`.

**${accepted} of ${entries.length} validate unchanged; ${CORPUS_RUNS.length} run end to end.** The test fails if fewer than its floor validate.

- *validates*: \`myrmex validate\` accepts the file as written (templates rendered without params; see
  docs/orchestrator-definitions.md, "Templates", for what happens to values nobody gave).
- *runs*: \`test/formicary/runs.test.ts\` applies the file to a queen, submits it and checks it
  finishes as Formicary would, executed on SHELL, on Podman (DOCKER, and KUBERNETES, which the ant
  serves on its container engine) or over NATS JetStream (MESSAGING); the adaptations it needed are
  listed. *not yet*: the file validates but is not run by a test, mostly because it needs an image
  with tools busybox lacks (python, git, go, gradle), a network service outside this machine, or a
  part that is not built (queue and S3 triggers).
- *refused*: the positioned errors \`myrmex validate\` prints, and why the refusal is right.

| File | Validates | Runs | Detail |
|---|---|---|---|
${rows.join('\n')}
`;
  writeFileSync(join(REPO_ROOT, 'docs/formicary-compatibility.md'), text);
}
