import { describe, expect, it } from 'vitest';
import { isStoreUnreachable } from '../../src/store/unreachable.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isStoreUnreachable', () => {
  it('is true for a refused, dropped or timed-out connection and a server shutting down, also as a cause', () => {
    for (const error of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('query failed', { cause: withCode('connect ETIMEDOUT', 'ETIMEDOUT') }),
    ]) {
      expect(isStoreUnreachable(error), error.message).toBe(true);
    }
  });

  it('is false for a statement the database refused and for anything that is not an error', () => {
    for (const error of [
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('could not serialize access', '40001'),
      withCode('relation "jobs" does not exist', '42P01'),
      new Error('job j1 does not exist'),
      'ECONNREFUSED',
      undefined,
    ]) {
      expect(isStoreUnreachable(error)).toBe(false);
    }
  });
});
