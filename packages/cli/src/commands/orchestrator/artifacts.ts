import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import type { ArtifactWire } from './client.js';
import { clientFor, runAction, type ServerOptions, withServerOptions } from './common.js';

const human = (a: ArtifactWire) =>
  `${a.task_type}#${a.attempt}  ${a.path}  ${a.size} B  ${a.digest.slice(0, 19)}${a.expires_at ? `  expires ${a.expires_at}` : ''}`;

/** `myrmex artifacts <job>`: lists a job's artifacts; `--download` writes them (all, or those of one task or path). */
export function registerArtifactCommands(program: Command, context: CliContext): void {
  const { io } = context;
  withServerOptions(program.command('artifacts <id>'))
    .description("list a job's artifacts (task, attempt, path, size, digest); --download writes them under --output")
    .option('--task <task_type>', 'only this task')
    .option('--path <path>', 'only this path (as listed)')
    .option('-d, --download', 'download the selected artifacts')
    .option('-o, --output <dir>', 'where downloads go, keeping their paths (default: the current directory)', '.')
    .action(async (id: string, options: ServerOptions & { task?: string; path?: string; download?: boolean; output: string }) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const selected = (await client.artifacts(id)).filter(
          (a) => (options.task === undefined || a.task_type === options.task) && (options.path === undefined || a.path === options.path),
        );
        if (!options.download) {
          if (options.json) io.out(JSON.stringify(selected));
          else if (selected.length === 0) io.out(`job ${id} has no artifacts${options.task ? ` from task ${options.task}` : ''}`);
          else for (const artifact of selected) io.out(human(artifact));
          return;
        }
        if (selected.length === 0) throw new UsageError(`job ${id} has no artifact matching the selection`);
        // The newest attempt of a task wins when two attempts left the same path.
        const latest = new Map<string, ArtifactWire>();
        for (const artifact of selected) latest.set(`${artifact.task_type}\0${artifact.path}`, artifact);
        const several = new Set([...latest.values()].map((a) => a.task_type)).size > 1;
        for (const artifact of latest.values()) {
          const relative = normalize(several ? join(artifact.task_type, artifact.path) : artifact.path);
          if (relative.startsWith('..')) throw new UsageError(`refusing to write ${artifact.path} outside ${options.output}`);
          const target = join(options.output, relative);
          await mkdir(dirname(target), { recursive: true });
          const body = await client.artifact(id, artifact.digest);
          await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), createWriteStream(target, { mode: artifact.mode }));
          io.out(options.json ? JSON.stringify({ ...artifact, file: target }) : `${target}  (${artifact.size} B)`);
        }
      });
    });
}
