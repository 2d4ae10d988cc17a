import { type DestinationStream, type Logger, pino } from 'pino';
import { prettyFactory } from 'pino-pretty';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * pino's JSON lines rendered for a person: `12:00:01.234 INFO message`, plus the error's stack when
 * there is one. Everything else stays available under --json.
 */
export function humanDestination(write: (text: string) => void): DestinationStream {
  return {
    write(line: string) {
      let entry: { level?: number; time?: number; msg?: string; err?: { stack?: string; message?: string } };
      try {
        entry = JSON.parse(line);
      } catch {
        write(line);
        return;
      }
      const time = new Date(entry.time ?? Date.now()).toISOString().slice(11, 23);
      const level = LEVELS[entry.level ?? 30] ?? 'INFO';
      const error = entry.err ? `\n${entry.err.stack ?? entry.err.message ?? ''}` : '';
      write(`${time} ${level.padEnd(5)} ${entry.msg ?? ''}${error}\n`);
    },
  };
}

/**
 * pino-pretty's rendering of each JSON line, written where `write` says. Its formatter, not its
 * stream: the stream wants a real Writable (or a worker thread), where a plain writer is what the
 * queen and the tests hand over.
 */
function prettyDestination(write: (text: string) => void): DestinationStream {
  const render = prettyFactory({ colorize: false, translateTime: 'SYS:HH:MM:ss.l' });
  return { write: (line: string) => write(render(line)) };
}

/** human: one short line per entry; json: pino's JSON lines; pretty: pino-pretty, with every field. */
export type LogFormat = 'human' | 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['human', 'json', 'pretty'];

export interface LoggerOptions {
  /** JSON lines (machine-readable) rather than human lines; `format` wins over it. */
  readonly json?: boolean;
  readonly format?: LogFormat;
  readonly level?: string;
  /** Where lines go (default stdout). */
  readonly write?: (text: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const format = options.format ?? (options.json ? 'json' : 'human');
  const destination: DestinationStream =
    format === 'json' ? { write } : format === 'pretty' ? prettyDestination(write) : humanDestination(write);
  return pino({ level: options.level ?? 'info', base: undefined }, destination);
}
