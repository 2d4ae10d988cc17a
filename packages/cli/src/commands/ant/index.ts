import type { Command } from 'commander';
import { type CliContext, type RegisterCommands, UsageError } from '../../context.js';
import { clientFor, parseInteger, runAction, withServerOptions } from '../orchestrator/common.js';

interface AntCommandOptions {
  readonly server?: string[];
  readonly token?: string;
  readonly tokenFile?: string;
  readonly id?: string;
  readonly capacity?: number;
  readonly methods?: string;
  readonly tags?: string;
  readonly labels?: string;
  readonly resources?: string;
  readonly taints?: string;
  readonly stateDir?: string;
  readonly drainGrace?: number;
  readonly ca?: string;
  readonly config?: string;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

async function readText(path: string, what: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`${what}: cannot read '${path}' (${error.code ?? error.message})`);
  });
}

/** `myrmex ant`: a worker on this machine for queens elsewhere; `myrmex ants drain <id>` asks one to stop. */
export const registerAnt: RegisterCommands = (program, context) => {
  program
    .command('ant')
    .description(
      'run a remote ant: connect to a queen over WebSocket, register, run what it assigns on this machine; SIGTERM drains (finishes or hands back running work, then exits)',
    )
    .option('--server <url>', "a queen's URL; repeat (or comma-separate) for several, tried in turn (env MYRMEX_ANT_SERVER)", collect)
    .option('--token <token>', 'the ant token (env MYRMEX_ANT_TOKEN); prefer --token-file, which ps does not show')
    .option('--token-file <path>', 'a file holding the ant token (env MYRMEX_ANT_TOKEN_FILE)')
    .option('--id <id>', "this ant's id (default: the host name; env MYRMEX_ANT_ID)")
    .option('--capacity <n>', 'tasks run at once (default 4; env MYRMEX_ANT_CAPACITY)', parseInteger('--capacity', 1, 10_000))
    .option('--methods <list>', 'methods offered, e.g. SHELL,HTTP_GET (default: every executor; env MYRMEX_ANT_METHODS)')
    .option('--tags <list>', 'tags, e.g. linux,gpu (env MYRMEX_ANT_TAGS)')
    .option('--labels <pairs>', 'labels, e.g. zone=eu-1,team=ml (env MYRMEX_ANT_LABELS)')
    .option('--resources <pairs>', 'resources, e.g. cpu=8,memory=16Gi (env MYRMEX_ANT_RESOURCES)')
    .option('--taints <list>', 'taints, e.g. gpu=true:NoSchedule: only tasks that tolerate them run here (env MYRMEX_ANT_TAINTS)')
    .option('--state-dir <dir>', "this ant's local state (default ~/.myrmex/ants/<id>; env MYRMEX_ANT_STATE_DIR)")
    .option(
      '--drain-grace <ms>',
      'how long a drain lets tasks finish before cancelling them (default 30000)',
      parseInteger('--drain-grace', 0, 86_400_000),
    )
    .option(
      '--ca <path>',
      'a PEM CA to trust for a queen whose TLS certificate a private CA signed; without it such a queen is refused (env MYRMEX_ANT_CA)',
    )
    .option('--config <path>', 'a YAML or JSON file with the same settings (env MYRMEX_ANT_CONFIG); flags and variables win over it')
    .action(async (options: AntCommandOptions) => runAnt(options, context));

  const ants = program.commands.find((c) => c.name() === 'ants');
  if (ants) registerDrain(ants, context);
};

function registerDrain(ants: Command, context: CliContext): void {
  withServerOptions(ants.command('drain <id>'))
    .description('ask a remote ant to drain: it takes no more work, finishes (or hands back) what runs, and disconnects')
    // `--server` and `--json` may be parsed by `ants` itself (it has them too): read both levels.
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ server?: string; json?: boolean }>();
      await runAction(context, options.json, async () => {
        const response = await clientFor(options, context).drainAnt(id);
        if (options.json) context.io.out(JSON.stringify(response));
        else context.io.out(`asked ant ${id} to drain`);
      });
    });
}

async function runAnt(options: AntCommandOptions, context: CliContext): Promise<void> {
  // Loaded here so that other commands do not pay for the orchestrator's start-up.
  const { RemoteAnt, AntConfigError, antSettingsFromEnv, antSettingsFromFile, resolveAntSettings, splitList, splitPairs } = await import(
    '@myrmex/orchestrator'
  );
  let settings: ReturnType<typeof resolveAntSettings>;
  try {
    const configPath = options.config ?? context.env.MYRMEX_ANT_CONFIG;
    const file = configPath === undefined ? {} : antSettingsFromFile(await readText(configPath, '--config'), configPath);
    const flags = {
      ...(options.server && { servers: options.server.flatMap(splitList) }),
      ...(options.token !== undefined && { token: options.token }),
      ...(options.tokenFile !== undefined && { tokenFile: options.tokenFile }),
      ...(options.id !== undefined && { id: options.id }),
      ...(options.capacity !== undefined && { capacity: options.capacity }),
      ...(options.methods !== undefined && { methods: splitList(options.methods) }),
      ...(options.tags !== undefined && { tags: splitList(options.tags) }),
      ...(options.labels !== undefined && { labels: splitPairs(options.labels, '--labels') }),
      ...(options.resources !== undefined && { resources: splitPairs(options.resources, '--resources') }),
      ...(options.taints !== undefined && { taints: splitList(options.taints) }),
      ...(options.stateDir !== undefined && { stateDir: options.stateDir }),
      ...(options.drainGrace !== undefined && { drainGraceMs: options.drainGrace }),
      ...(options.ca !== undefined && { caFile: options.ca }),
    };
    settings = resolveAntSettings(file, antSettingsFromEnv(context.env), flags);
  } catch (error) {
    if (error instanceof AntConfigError) throw new UsageError(error.message);
    throw error;
  }
  const token = settings.token ?? (await readText(settings.tokenFile!, '--token-file')).trim();
  const ca = settings.caFile === undefined ? undefined : await readText(settings.caFile, '--ca');
  let ant: InstanceType<typeof RemoteAnt>;
  try {
    ant = new RemoteAnt({
      servers: settings.servers,
      token,
      id: settings.id,
      capacity: settings.capacity,
      ...(settings.methods && { methods: settings.methods }),
      tags: settings.tags,
      labels: settings.labels,
      resources: settings.resources,
      taints: settings.taints,
      ...(settings.stateDir !== undefined && { stateDir: settings.stateDir }),
      drainGraceMs: settings.drainGraceMs,
      ...(ca !== undefined && { ca }),
      onConnection: (queen) =>
        context.io.err(
          queen ? `myrmex ant ${settings.id}: connected to queen ${queen}` : `myrmex ant ${settings.id}: disconnected; reconnecting`,
        ),
    });
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      context.io.err(`myrmex ant: ${signal} again: stopping now`);
      void ant.stop();
      return;
    }
    context.io.err(`myrmex ant: ${signal}: draining (again to stop at once)`);
    void ant.drain(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await ant.start();
    const exit = await ant.exited;
    if (exit.refused !== undefined) {
      context.io.err(`myrmex ant: ${exit.refused}`);
      context.fail(2);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
