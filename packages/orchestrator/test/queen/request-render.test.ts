import { QueenError } from '@myrmex/orchestrator';
import { describe, expect, it } from 'vitest';
import { finished, startQueen } from './helpers.js';

/** Shaped by its params, as Formicary's shell_build.yaml is: script lines and variable keys inside {{if}}. */
const PLATFORM = `job_type: platform-build
retry: 1
tasks:
- task_type: build
  method: SHELL
  script:
    - echo building for {{ .Platform }}
    {{ if .IsWindowsPlatform }}
    - echo dir /s
    {{ else }}
    - echo find /tmp
    {{ end }}
    {{ if lt .JobRetry 1 }}
    - exit {{ .FirstExit }}
    {{ end }}
  variables:
    kind: build
    {{ if .IsWindowsPlatform }}
    shell: cmd
    {{ end }}
`;

describe('a definition rendered again with each request', () => {
  it("script lines and keys inside {{if}} follow the request's params and the job's retry, as Formicary renders them", async () => {
    const queen = await startQueen();
    await queen.applyDefinition(PLATFORM, 'platform-build.yaml');
    const out = async (id: string) =>
      (await queen.logs(id, { taskType: 'build' })).filter((l) => l.stream === 'stdout').map((l) => `${l.attempt} ${l.text}`);

    const windows = await finished(
      queen,
      (await queen.submit({ jobType: 'platform-build', params: { Platform: 'win', IsWindowsPlatform: true, FirstExit: 0 } })).id,
    );
    expect(windows.state).toBe('COMPLETED');
    expect(await out(windows.id)).toEqual(['1 building for win', '1 dir /s']);

    const linux = await finished(
      queen,
      (await queen.submit({ jobType: 'platform-build', params: { Platform: 'linux', IsWindowsPlatform: false, FirstExit: 0 } })).id,
    );
    expect(await out(linux.id)).toEqual(['1 building for linux', '1 find /tmp']);

    // The first run exits 3; the job's own retry renders again with JobRetry 1, where the exit line is gone.
    const retried = await finished(
      queen,
      (await queen.submit({ jobType: 'platform-build', params: { Platform: 'linux', FirstExit: 3 } })).id,
    );
    expect(retried).toMatchObject({ state: 'COMPLETED', retry: 1 });
    expect(retried.tasks[0]!.attempts.map((a) => [a.attempt, a.state, a.exitCode])).toEqual([
      [1, 'FAILED', 3],
      [2, 'COMPLETED', 0],
    ]);
  });

  it("a param's text is data: one holding {{...}} or a newline is never pasted into the YAML, so it cannot name a secret or add a line", async () => {
    const queen = await startQueen();
    await queen.applyDefinition(PLATFORM, 'platform-build.yaml');
    const job = await finished(
      queen,
      (await queen.submit({ jobType: 'platform-build', params: { Platform: '{{.Other}}', Other: 'expanded', FirstExit: 0 } })).id,
    );
    expect((await queen.logs(job.id, { taskType: 'build' })).filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual([
      'building for {{.Other}}',
      'find /tmp',
    ]);
    // A newline in a param (a webhook body's, say) would add a script line if pasted into the YAML.
    const injected = await finished(
      queen,
      (await queen.submit({ jobType: 'platform-build', params: { Platform: 'x\n    - echo injected', FirstExit: 0 } })).id,
    );
    const printed = (await queen.logs(injected.id, { taskType: 'build' })).filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(printed).not.toContain('injected');
    expect(printed[0]).toBe('building for x');
  });

  it('params that make the definition invalid are a 400 naming the line and column of the original file; params that change the task list are refused', async () => {
    const queen = await startQueen();
    await queen.applyDefinition(
      `job_type: shaped
tasks:
- task_type: a
  method: SHELL
  script:
    - echo start
  {{- range .Lines }}
    - {{ . }}
  {{- end }}
{{- if .Extra }}
  on_completed: b
- task_type: b
  method: SHELL
  script: ['true']
{{- end }}
`,
      'shaped.yaml',
    );
    // The second line renders to `- x: y`, a mapping where a script line must be text.
    const refused = await queen.submit({ jobType: 'shaped', params: { Lines: ['echo a', 'x: y'] } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(QueenError);
    expect(refused).toMatchObject({ code: 'invalid', field: 'params' });
    // Line 8 column 7 is where {{ . }} stands in the file as applied.
    expect((refused as Error).message).toMatch(
      /^with these params the definition is not valid:\nshaped \(version 1\):8:7: tasks\[0\]\.script\[2\]: expected a string/,
    );
    const extra = await queen.submit({ jobType: 'shaped', params: { Extra: true } }).catch((error: unknown) => error);
    expect((extra as Error).message).toBe(
      "with these params the definition's tasks are a, b, but version 1 was applied with a: params may change what tasks do, not which tasks there are",
    );
    const fine = await finished(queen, (await queen.submit({ jobType: 'shaped', params: { Lines: ['echo a', 'echo b'] } })).id);
    expect((await queen.logs(fine.id, { taskType: 'a' })).filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual([
      'start',
      'a',
      'b',
    ]);
  });
});
