import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import type { CircuitBreakerWire, ConsumableWire } from './client.js';
import { clientFor, runAction, type ServerOptions, withServerOptions } from './common.js';

/** One line per host: its breaker's state, failures in a row, and since when or until when. */
export function formatBreaker(b: CircuitBreakerWire): string {
  const when =
    b.state === 'half_open' ? `probe until ${b.probe_until}` : b.state === 'open' ? `open since ${b.opened_at}` : `since ${b.updated_at}`;
  return `${b.host}  ${b.state.toUpperCase()}  ${b.failures} failure${b.failures === 1 ? '' : 's'} in a row  ${when}${b.last_error ? `  last: ${b.last_error}` : ''}`;
}

/** One line per pool: units in use of its capacity, then who holds them. */
export function formatConsumable(p: ConsumableWire): string {
  const holders = p.holders.map((h) => `${h.job_id}${h.task_type ? `/${h.task_type}` : ''} ${h.units}`);
  return `${p.name}  ${p.in_use}/${p.capacity} in use${holders.length > 0 ? `  held by ${holders.join(', ')}` : ''}`;
}

/** `myrmex circuit-breakers` and `myrmex consumables [name capacity]`: the state every queen shares. */
export function registerGuardCommands(program: Command, context: CliContext): void {
  const { io } = context;
  withServerOptions(program.command('circuit-breakers'))
    .description('list the HTTP circuit breakers per target host: closed, open (tasks fail fast or wait) or half-open (one probe)')
    .action(async (options: ServerOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        const breakers = await client.circuitBreakers();
        if (options.json) io.out(JSON.stringify(breakers));
        else if (breakers.length === 0) io.out('no HTTP target host has failed yet');
        else for (const breaker of breakers) io.out(formatBreaker(breaker));
      });
    });

  withServerOptions(program.command('consumables [name] [capacity]'))
    .description("list consumable resource pools (Formicary's resources) with their units in use; with a name and a capacity, declare one")
    .action(async (name: string | undefined, capacity: string | undefined, options: ServerOptions) => {
      const client = clientFor(options, context);
      await runAction(context, options.json, async () => {
        if (name !== undefined) {
          if (capacity === undefined || !/^\d+$/.test(capacity))
            throw new Error(`consumables ${name}: give its capacity as a whole number (e.g. myrmex consumables ${name} 2)`);
          await client.declareConsumable(name, Number(capacity));
        }
        const pools = await client.consumables();
        if (options.json) io.out(JSON.stringify(pools));
        else if (pools.length === 0) io.out('no consumable pool is declared (MYRMEX_CONSUMABLES, or myrmex consumables <name> <capacity>)');
        else for (const pool of pools) io.out(formatConsumable(pool));
      });
    });
}
