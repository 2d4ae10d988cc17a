import type { LogLineWire } from '@myrmex/orchestrator';
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { clientFor, runAction, type ServerOptions, withServerOptions } from './common.js';
import { formatLogLine } from './format.js';

const PAGE = 1000;

export function registerLogCommands(program: Command, context: CliContext): void {
  const { io } = context;
  withServerOptions(program.command('logs <id>'))
    .description("print a job's log lines; with --follow, stream them until the job ends")
    .option('--task <task_type>', 'only this task')
    .option('-f, --follow', 'keep streaming new lines until the job ends')
    .action(async (id: string, options: ServerOptions & { task?: string; follow?: boolean }) => {
      const client = clientFor(options, context);
      // Under --json every line is one JSON object (NDJSON), so a pipe can process lines as they come.
      const print = (line: LogLineWire) => io.out(options.json ? JSON.stringify(line) : formatLogLine(line));
      await runAction(context, options.json, async () => {
        if (options.follow) {
          for await (const event of client.followLogs(id, options.task)) {
            if (event.event === 'log') print(JSON.parse(event.data) as LogLineWire);
            else if (event.event === 'end') return;
          }
          // No `end`: the queen went away (or shut down) while the job was still running.
          io.err(`myrmex: the queen at ${client.server} closed the stream before job ${id} ended: run the command again once it is back`);
          context.fail(1);
          return;
        }
        let after = 0;
        for (;;) {
          const lines = await client.logs(id, { ...(options.task ? { task: options.task } : {}), after, limit: PAGE });
          lines.forEach(print);
          const last = lines.at(-1);
          if (!last || lines.length < PAGE) break;
          after = last.seq;
        }
      });
    });
}
