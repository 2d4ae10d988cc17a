import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { clientFor, parseInteger, runAction, type ServerOptions, withServerOptions } from '../orchestrator/common.js';
import { renderTop } from './render.js';
import { readSnapshot } from './snapshot.js';

interface TopOptions extends ServerOptions {
  readonly interval: number;
  readonly once?: boolean;
}

const ALT_SCREEN_ON = '\u001b[?1049h\u001b[?25l';
const ALT_SCREEN_OFF = '\u001b[?25h\u001b[?1049l';
const HOME_CLEAR = '\u001b[H\u001b[2J';

/** `myrmex top`: the queue, running tasks and ants, redrawn every interval until q or Ctrl-C. */
export function registerTopCommand(program: Command, context: CliContext): void {
  withServerOptions(program.command('top'))
    .description('a live view of the queue, the running tasks and the ants (q or Ctrl-C quits); --once or --json prints one frame')
    .option('--interval <ms>', 'redraw every this many milliseconds', parseInteger('--interval', 100, 60_000), 1000)
    .option('--once', 'print one frame and exit')
    .action(async (options: TopOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const read = async () => {
          try {
            return await readSnapshot(client.server);
          } catch (error) {
            // The same clear message as every other command when nothing answers.
            await client.health();
            throw error;
          }
        };
        if (options.json || options.once || !process.stdout.isTTY) {
          const snapshot = await read();
          context.io.out(options.json ? JSON.stringify(snapshot) : renderTop(snapshot, process.stdout.columns || 100, 1000).join('\n'));
          return;
        }
        await live(read, options.interval);
      });
    });
}

async function live(read: () => Promise<Awaited<ReturnType<typeof readSnapshot>>>, interval: number): Promise<void> {
  const out = process.stdout;
  const input = process.stdin;
  let stopped = false;
  let wake: () => void = () => {};
  const stop = () => {
    stopped = true;
    wake();
  };
  const onKey = (key: Buffer) => {
    const text = key.toString('utf8');
    if (text === 'q' || text === 'Q' || text === '\u0003') stop();
  };
  out.write(ALT_SCREEN_ON);
  if (input.isTTY) input.setRawMode(true);
  input.on('data', onKey);
  input.resume();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    while (!stopped) {
      let frame: string;
      try {
        frame = renderTop(await read(), out.columns || 100, out.rows || 40).join('\n');
      } catch (error) {
        frame = `myrmex top: ${error instanceof Error ? error.message : String(error)}; retrying every ${interval} ms (q quits)`;
      }
      out.write(`${HOME_CLEAR}${frame}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    input.off('data', onKey);
    if (input.isTTY) input.setRawMode(false);
    input.pause();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    out.write(ALT_SCREEN_OFF);
  }
}
