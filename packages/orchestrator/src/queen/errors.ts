/**
 * A request the queen refuses. `code` tells the API which status to answer (invalid 400,
 * not_found 404, conflict 409, forbidden 403); `field` names the offending input when there is one.
 */
export class QueenError extends Error {
  override readonly name = 'QueenError';
  constructor(
    readonly code: 'invalid' | 'not_found' | 'conflict' | 'forbidden',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
