import { Command, CommanderError } from 'commander';
import { commandFamilies, lazyCommandFamilies } from './commands/index.js';
import { type CliContext, type Io, processIo, UsageError } from './context.js';

/**
 * The program with every command family, or, given the command line, only those it can need: a word that
 * names a lazy family loads that family; a word no registered command knows (a typo, `help`, nothing) loads
 * them all, so help and "did you mean" see every command.
 */
export async function buildProgram(context: CliContext, argv?: readonly string[]): Promise<Command> {
  const program = new Command('myrmex')
    .description('Myrmex: a reliability toolkit (orchestrator, idempotency, transactions, consensus, post-mortems)')
    .showHelpAfterError('(run with --help for usage)');
  const route = (command: Command) => {
    command.exitOverride();
    command.configureOutput({ writeOut: (text) => context.io.out(text), writeErr: (text) => context.io.err(text) });
  };
  route(program);
  for (const register of commandFamilies) register(program, context);
  const word = argv?.[0];
  const known = (name: string) => program.commands.some((command) => command.name() === name || command.aliases().includes(name));
  const lazy =
    word !== undefined && Object.hasOwn(lazyCommandFamilies, word)
      ? [word]
      : word !== undefined && known(word)
        ? []
        : Object.keys(lazyCommandFamilies);
  for (const register of await Promise.all(lazy.map((name) => lazyCommandFamilies[name]!()))) register(program, context);
  const visit = (command: Command) => {
    route(command);
    command.commands.forEach(visit);
  };
  program.commands.forEach(visit);
  return program;
}

/** Runs the CLI and resolves to the exit code: 0 success, 1 failure, 2 bad usage. */
export async function main(argv: readonly string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let exitCode = 0;
  const context: CliContext = {
    io,
    env,
    fail: (code) => {
      exitCode = Math.max(exitCode, code);
    },
  };
  const program = await buildProgram(context, argv);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return 0;
      return 2;
    }
    if (error instanceof UsageError) {
      io.err(`myrmex: ${error.message}`);
      return 2;
    }
    io.err(`myrmex: ${error instanceof Error ? error.message : String(error)}`);
    return Math.max(exitCode, 1);
  }
}
