import type { BlobStore } from '../artifacts/store.js';
import type { Executor } from './executor.js';

/** The artifact a `report_stdout` task leaves: its standard output, line by line. */
export const STDOUT_REPORT_PATH = 'stdout.txt';

/**
 * `report_stdout: true` (Formicary): the task's standard output is kept as an artifact, so a
 * report a task prints (HTML, CSV) can be listed and downloaded like any file it wrote.
 */
export function withStdoutReport(inner: Executor, blobs: BlobStore): Executor {
  return {
    method: inner.method,
    async execute(context) {
      if (context.spec.reportStdout !== true) return inner.execute(context);
      const lines: string[] = [];
      const result = await inner.execute({
        ...context,
        log: (stream, text, at) => {
          if (stream === 'stdout') lines.push(text);
          context.log(stream, text, at);
        },
      });
      try {
        const ref = await blobs.put(Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'utf8'));
        const file = { path: STDOUT_REPORT_PATH, mode: 0o644, ...ref };
        const kept = (result.artifacts?.files ?? []).filter((f) => f.path !== STDOUT_REPORT_PATH);
        return {
          ...result,
          artifacts: { ...(result.artifacts ?? { missing: [] }), files: [...kept, file] },
        };
      } catch (error) {
        context.log('system', `could not keep the stdout report: ${error instanceof Error ? error.message : String(error)}`, new Date());
        return result;
      }
    },
  };
}
