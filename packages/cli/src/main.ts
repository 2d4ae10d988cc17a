import { Command, CommanderError } from 'commander';
import { commandFamilies } from './commands/index.js';
import { type CliContext, type Io, processIo, UsageError } from './context.js';

export function buildProgram(context: CliContext): Command {
  const program = new Command('myrmex')
    .description('Myrmex: a reliability toolkit (orchestrator, idempotency, transactions, consensus, post-mortems)')
    .showHelpAfterError('(run with --help for usage)');
  const route = (command: Command) => {
    command.exitOverride();
    command.configureOutput({ writeOut: (text) => context.io.out(text), writeErr: (text) => context.io.err(text) });
  };
  route(program);
  for (const register of commandFamilies) register(program, context);
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
  const program = buildProgram(context);
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
