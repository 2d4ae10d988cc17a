import { type Command, Option } from 'commander';
import { type CliContext, UsageError } from '../../context.js';
import { parseInteger } from './common.js';

async function loadSchedulerProfile(path: string) {
  const [{ readFile }, { parseProfile }] = await Promise.all([import('node:fs/promises'), import('@myrmex/scheduling')]);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--scheduler: cannot read '${path}' (${error.code ?? error.message})`);
  });
  return parseProfile(text, path);
}

interface ServeCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly db?: string;
  readonly capacity: number;
  readonly antTags?: string;
  readonly antLabels?: string;
  readonly antResources?: string;
  readonly antTaints?: string;
  readonly demo?: boolean;
  readonly json?: boolean;
  readonly logFormat?: 'human' | 'json' | 'pretty';
  readonly scheduler?: string;
  readonly events?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

export function registerServeCommand(program: Command, context: CliContext): void {
  program
    .command('serve')
    .description(
      'run a queen: the REST API, the scheduler and an embedded ant, on a SQLite file or a PostgreSQL database shared by several queens; Ctrl-C stops it gracefully',
    )
    .option('--port <n>', 'port to listen on (0 picks a free one)', parseInteger('--port', 0, 65_535), 7070)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--db <store>',
      'a SQLite file, sqlite:<path>, or postgres://user@host:5432/database (default $MYRMEX_DB, then ./.myrmex/myrmex.db)',
    )
    .option(
      '--capacity <n>',
      'tasks the embedded ant runs at once (0: none, the queen serves remote ants only)',
      parseInteger('--capacity', 0, 1024),
      4,
    )
    .option('--ant-tags <list>', 'tags of the embedded ant, comma-separated (what task tags route to)')
    .option('--ant-labels <k=v,...>', 'labels of the embedded ant (what node_selector and affinity match), e.g. disk=ssd,zone=a')
    .option(
      '--ant-resources <k=v,...>',
      'what the embedded ant offers to tasks that request resources, e.g. cpu=8,memory=16Gi,gpu=1 (default: not metered)',
    )
    .option(
      '--ant-taints <list>',
      'taints of the embedded ant, comma-separated key=value:Effect (NoSchedule or PreferNoSchedule): only tasks whose tolerations match run there',
    )
    .option(
      '--scheduler <profile>',
      'a @myrmex/scheduling profile (YAML or JSON) the scheduler runs on (default: priority, then submission order)',
    )
    .option(
      '--events <url>',
      'publish every job and task transition through an outbox to nats://, amqp://, redis:// or mqtt:// (add ?topic=name; default myrmex.events)',
    )
    .option(
      '--tls-cert <pem>',
      'serve HTTPS and WSS with this PEM certificate (chain) file; needs --tls-key; a renewal is read on SIGHUP or when the files change (env MYRMEX_TLS_CERT)',
    )
    .option('--tls-key <pem>', 'the PEM private key of --tls-cert (env MYRMEX_TLS_KEY)')
    .option('--demo', 'apply examples/orchestrator/, submit the demo jobs and log their progress')
    .option('--json', 'log JSON lines instead of human-readable ones (same as --log-format json)')
    .addOption(
      new Option(
        '--log-format <format>',
        'human: short lines; json: pino JSON lines; pretty: every field, job and task ids included',
      ).choices(['human', 'json', 'pretty']),
    )
    .action(async (options: ServeCommandOptions) => {
      // Loaded here so that other commands do not pay for the server's start-up.
      const [{ serve, frameworkPolicy, readTlsFiles, splitPairs, quantities }, { parseTaint }] = await Promise.all([
        import('@myrmex/orchestrator'),
        import('@myrmex/scheduling'),
      ]);
      const pairs = (text: string | undefined, flag: string) => {
        if (text === undefined) return undefined;
        try {
          const map = splitPairs(text, flag);
          if (flag === '--ant-resources') quantities(map);
          return map;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new UsageError(message.startsWith(flag) ? message : `${flag}: ${message}`);
        }
      };
      const antLabels = pairs(options.antLabels, '--ant-labels');
      const antResources = pairs(options.antResources, '--ant-resources');
      const antTaints = options.antTaints
        ?.split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      try {
        antTaints?.forEach(parseTaint);
      } catch (error) {
        throw new UsageError(`--ant-taints: ${error instanceof Error ? error.message : String(error)}`);
      }
      const tlsCert = options.tlsCert ?? context.env.MYRMEX_TLS_CERT;
      const tlsKey = options.tlsKey ?? context.env.MYRMEX_TLS_KEY;
      const certName = options.tlsCert === undefined ? 'MYRMEX_TLS_CERT' : '--tls-cert';
      const keyName = options.tlsKey === undefined ? 'MYRMEX_TLS_KEY' : '--tls-key';
      if (tlsCert && !tlsKey) throw new UsageError(`${certName} needs a private key: give --tls-key (or MYRMEX_TLS_KEY) too`);
      if (tlsKey && !tlsCert) throw new UsageError(`${keyName} needs a certificate: give --tls-cert (or MYRMEX_TLS_CERT) too`);
      if (tlsCert && tlsKey) {
        // Unreadable or mismatched files are a usage error naming the flag, before anything starts.
        try {
          readTlsFiles(tlsCert, tlsKey, { cert: certName, key: keyName });
        } catch (error) {
          throw new UsageError(error instanceof Error ? error.message : String(error));
        }
      }
      // A bad profile fails here, naming its file, line and field, before anything listens.
      const policy = options.scheduler === undefined ? undefined : frameworkPolicy(await loadSchedulerProfile(options.scheduler));
      let server: Awaited<ReturnType<typeof serve>>;
      try {
        server = await serve({
          host: options.host,
          port: options.port,
          capacity: options.capacity,
          ...(options.antTags !== undefined && {
            antTags: options.antTags
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean),
          }),
          ...(antLabels && { antLabels }),
          ...(antResources && { antResources }),
          ...(antTaints && { antTaints }),
          ...((options.db ?? context.env.MYRMEX_DB) === undefined ? {} : { db: options.db ?? context.env.MYRMEX_DB }),
          demo: options.demo === true,
          ...(policy && { policy }),
          ...(options.events === undefined ? {} : { events: options.events }),
          ...(tlsCert && tlsKey ? { tlsCert, tlsKey } : {}),
          json: options.json === true,
          ...(options.logFormat === undefined ? {} : { logFormat: options.logFormat }),
          ...(context.env.MYRMEX_EXAMPLES_DIR ? { examplesDir: context.env.MYRMEX_EXAMPLES_DIR } : {}),
        });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
        const why = code === 'EADDRINUSE' ? 'is in use (is a queen already running there?)' : 'is not allowed';
        context.io.err(`myrmex: ${options.host}:${options.port} ${why}: pass another --port, or 0 for any free one`);
        context.fail(1);
        return;
      }
      await server.closed;
    });
}
