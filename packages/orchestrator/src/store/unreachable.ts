/**
 * Whether an error says the database cannot be reached (a refused, dropped or timed-out
 * connection, or a server shutting down) rather than that a statement was refused: the API answers
 * the first with 503 (retry later) and the second as before. The pool replaces broken connections
 * by itself, so once the database answers again requests succeed without a restart.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** SQLSTATE: class 08 is "connection exception"; 57P01-57P03 an administrator's or a crash's shutdown, or a server still starting. */
const SERVER_GONE = /^(08...|57P0[123])$/;
/** What node-postgres says, without a code, when a connection ends under it or cannot be had in time. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

export function isStoreUnreachable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_GONE.test(code))) return true;
    if (PG_CONNECTION_MESSAGES.some((message) => e instanceof Error && e.message.startsWith(message))) return true;
  }
  return false;
}

/** SQLSTATE 57014: PostgreSQL cancelled the statement, here because it ran past the store's statement timeout. */
export function isStatementTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === '57014') return true;
  }
  return false;
}
