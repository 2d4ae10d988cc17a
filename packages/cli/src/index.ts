export { type CliContext, type Io, processIo, type RegisterCommands, UsageError } from './context.js';
export { buildProgram, main } from './main.js';
