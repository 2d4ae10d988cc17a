/**
 * A remote ant in its own process, as `myrmex ant` runs it; argv[2] is JSON RemoteAntOptions
 * (servers, token, id, capacity, stateDir, tags, drainGraceMs). Prints `connected <queen>`,
 * `disconnected` and `exited <json>`; SIGTERM drains.
 */
import { RemoteAnt, type RemoteAntOptions } from '@myrmex/orchestrator';
import { pino } from 'pino';

const options = JSON.parse(process.argv[2]!) as RemoteAntOptions;
const ant = new RemoteAnt({
  ...options,
  logger: pino({ level: process.env.MYRMEX_LOG_LEVEL ?? 'silent' }),
  onConnection: (queen) => process.stdout.write(queen ? `connected ${queen}\n` : 'disconnected\n'),
});
process.on('SIGTERM', () => void ant.drain('SIGTERM'));
await ant.start();
const exit = await ant.exited;
process.stdout.write(`exited ${JSON.stringify(exit)}\n`);
process.exit(exit.refused === undefined ? 0 : 2);
