import { mysqlDriver, pgDriver, sqliteDriver, TransactionManager } from '@myrmex/tx';
import {
  compensateSaga,
  retrySaga,
  SAGA_STATUSES,
  SagaAdminError,
  type SagaEvent,
  type SagaRecord,
  type SagaStatus,
  SagaStore,
} from '@myrmex/tx/saga';
import type { Command } from 'commander';
import { type CliContext, type RegisterCommands, UsageError } from '../../context.js';
import { formatTable } from '../info.js';

type AnyManager = TransactionManager<unknown, unknown>;

const DB_HELP = 'the saga store: postgres://..., mysql://... (MariaDB) or a SQLite file path (default: $MYRMEX_SAGA_DB)';

/** A manager over the database `url` names; the driver is loaded only for that kind. */
async function openStore(url: string | undefined, table: string | undefined): Promise<{ store: SagaStore; close(): Promise<void> }> {
  if (url === undefined || url === '') throw new UsageError(`--db is required (${DB_HELP})`);
  let tm: AnyManager;
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined);
    tm = new TransactionManager(pgDriver(pool)) as AnyManager;
  } else if (/^(mysql|mariadb):\/\//.test(url)) {
    const mysql = await import('mysql2/promise');
    tm = new TransactionManager(
      mysqlDriver(mysql.createPool({ uri: url.replace(/^mariadb:/, 'mysql:'), connectionLimit: 2 })),
    ) as AnyManager;
  } else {
    const { existsSync } = await import('node:fs');
    if (!existsSync(url)) throw new UsageError(`--db ${url}: no such SQLite file (or start it with postgres:// or mysql://)`);
    const { default: Database } = await import('better-sqlite3');
    tm = new TransactionManager(sqliteDriver({ open: () => new Database(url, { fileMustExist: true }), connections: 1 })) as AnyManager;
  }
  return { store: new SagaStore(tm, table === undefined ? {} : { table }), close: () => tm.close() };
}

function ago(at: number, now: number): string {
  const seconds = Math.round((now - at) / 1000);
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  return new Date(at).toISOString();
}

/** Where the saga stands: a step list with each step's status and attempts. */
export function formatSaga(record: SagaRecord, timeline: readonly SagaEvent[], now = Date.now()): string {
  const { state } = record;
  const head = [
    `saga ${record.id} (${record.name}): ${record.status}${state.pivotPassed ? ', past its pivot' : ''}`,
    `version ${record.version}, ${record.owner === null ? 'held by no runner' : `held by ${record.owner} until ${new Date(record.leaseUntil ?? 0).toISOString()}`}, updated ${ago(record.updatedAt, now)}`,
    ...(state.error ? [`error: ${state.error}`] : []),
  ];
  const steps = [
    ['step', 'status', 'attempts', 'compensations', 'error'],
    ...Object.entries(state.steps).map(([name, step]) => [
      name,
      step.status,
      String(step.attempts),
      String(step.compensationAttempts),
      step.error ?? '',
    ]),
  ];
  const start = timeline[0]?.at ?? record.createdAt;
  const events = [
    ['seq', '+ms', 'event', 'step', 'detail'],
    ...timeline.map((e) => [
      String(e.seq),
      String(e.at - start),
      e.kind,
      e.step ?? '',
      Object.keys(e.detail).length ? JSON.stringify(e.detail) : '',
    ]),
  ];
  return [...head, '', formatTable(steps), '', 'timeline', formatTable(events)].join('\n');
}

interface StoreFlags {
  db?: string;
  table?: string;
  json?: boolean;
}

function withStore(context: CliContext, action: (store: SagaStore, flags: StoreFlags, ...args: string[]) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const flags = command.opts<StoreFlags>();
    const positional = args.slice(0, -2).filter((a): a is string => typeof a === 'string');
    const { store, close } = await openStore(flags.db ?? context.env.MYRMEX_SAGA_DB, flags.table);
    try {
      await action(store, flags, ...positional);
    } catch (error) {
      if (!(error instanceof SagaAdminError)) throw error;
      context.io.err(`myrmex saga: ${error.message}`);
      context.fail(1);
    } finally {
      await close();
    }
  };
}

/** `myrmex saga list | show | retry | compensate`. */
export const registerSaga: RegisterCommands = (program, context) => {
  const { io } = context;
  const family = program.command('saga').description('inspect and steer the sagas of @myrmex/tx/saga in their store');
  const common = (command: Command) =>
    command.option('--db <url>', DB_HELP).option('--table <name>', 'the saga table (default myrmex_saga)').option('--json', 'print JSON');

  common(family.command('list').description('sagas, newest first'))
    .option('--status <status>', `only this status: ${SAGA_STATUSES.join(', ')}`)
    .option('--name <name>', 'only sagas of this definition')
    .option('--limit <n>', 'at most n sagas', '50')
    .action(
      withStore(context, async (store, flags) => {
        const { status, name, limit } = flags as StoreFlags & { status?: string; name?: string; limit: string };
        if (status !== undefined && !SAGA_STATUSES.includes(status as SagaStatus))
          throw new UsageError(`--status must be one of ${SAGA_STATUSES.join(', ')}, got ${status}`);
        if (!/^\d+$/.test(limit) || Number(limit) < 1) throw new UsageError(`--limit must be a positive integer, got ${limit}`);
        const sagas = await store.list({ status: status as SagaStatus | undefined, name, limit: Number(limit) });
        if (flags.json) return io.out(JSON.stringify(sagas));
        if (sagas.length === 0) return io.out('no sagas');
        const now = Date.now();
        io.out(
          formatTable([
            ['id', 'saga', 'status', 'steps done', 'updated'],
            ...sagas.map((s) => [
              s.id,
              s.name,
              s.status,
              `${s.state.done.length}/${Object.keys(s.state.steps).length}`,
              ago(s.updatedAt, now),
            ]),
          ]),
        );
      }),
    );

  common(family.command('show').argument('<id>', 'saga id').description('one saga: its steps and its timeline')).action(
    withStore(context, async (store, flags, id) => {
      const record = await store.get(id!);
      if (record === undefined) throw new SagaAdminError(`no saga ${id}`);
      const timeline = await store.timeline(id!);
      io.out(flags.json ? JSON.stringify({ ...record, timeline }) : formatSaga(record, timeline));
    }),
  );

  common(
    family
      .command('retry')
      .argument('<id>', 'saga id')
      .description('give a failed saga its attempts back; a runner with its definition picks it up (runner.recover())'),
  ).action(
    withStore(context, async (store, flags, id) => {
      const record = await retrySaga(store, id!);
      io.out(flags.json ? JSON.stringify(record) : `saga ${id} is ${record.status} again and released for the next runner.recover()`);
    }),
  );

  common(
    family
      .command('compensate')
      .argument('<id>', 'saga id')
      .option('--force', 'compensate even past the pivot step')
      .description('undo a waiting, failed or abandoned saga; a runner with its definition runs the compensations'),
  ).action(
    withStore(context, async (store, flags, id) => {
      const record = await compensateSaga(store, id!, { force: (flags as { force?: boolean }).force === true });
      io.out(flags.json ? JSON.stringify(record) : `saga ${id} is compensating and released for the next runner.recover()`);
    }),
  );
};
