import { type RawBuilder, sql } from 'kysely';
import { plus, quantities, shortOf } from '../../domain/quantities.js';
import type { Claim } from '../store.js';
import { list } from './hot-queries.js';
import type { Executor } from './sql-store.js';

type Row = Record<string, unknown>;

/**
 * Migration 0016-placement (issue 13): each attempt records the placement resources it holds on its ant, so what
 * an ant has in use is the sum over its EXECUTING attempts, released by whatever ends the attempt (result, kill,
 * lease reaped) with no counter to keep right. Both dialects.
 */
export const PLACEMENT_SCHEMA = `
  ALTER TABLE attempts ADD COLUMN resources TEXT;
  CREATE INDEX attempts_ant ON attempts (ant_id) WHERE state = 'EXECUTING'
`;

const requested = (claim: Claim) => claim.resources !== undefined && Object.keys(claim.resources).length > 0;

/**
 * The claims whose resources are free on their ant, in order, each counted against the ones before it. Runs in
 * the claim's transaction with the ants' registry rows locked (`FOR UPDATE`; SQLite's writer is alone), so two
 * queens claiming onto one ant see each other's attempts and never over-fill it. A claim for an ant absent from
 * the registry, or whose advertised resources no longer parse, is refused: it is planned again on the next pass.
 */
export async function claimsThatFit(tx: Executor, claims: readonly Claim[], lock: RawBuilder<unknown>): Promise<Claim[]> {
  const metered = claims.filter(requested);
  if (metered.length === 0) return [...claims];
  const antIds = [...new Set(metered.map((claim) => claim.antId))];
  const { rows: ants } = await sql<Row>`SELECT id, resources FROM ants WHERE id IN (${list(antIds)}) ORDER BY id ${lock}`.execute(tx);
  const capacity = new Map<string, Record<string, number> | undefined>();
  for (const ant of ants) {
    try {
      capacity.set(String(ant.id), quantities(JSON.parse(String(ant.resources ?? '{}')) as Record<string, string>));
    } catch {
      capacity.set(String(ant.id), undefined);
    }
  }
  const used = new Map<string, Record<string, number>>();
  const { rows: running } = await sql<Row>`SELECT ant_id, resources FROM attempts
    WHERE state = 'EXECUTING' AND resources IS NOT NULL AND ant_id IN (${list(antIds)})`.execute(tx);
  for (const attempt of running) {
    const antId = String(attempt.ant_id);
    used.set(antId, plus(used.get(antId) ?? {}, JSON.parse(String(attempt.resources)) as Record<string, number>));
  }
  return claims.filter((claim) => {
    if (!requested(claim)) return true;
    const room = capacity.get(claim.antId);
    if (room === undefined) return false;
    const inUse = used.get(claim.antId) ?? {};
    if (shortOf(claim.resources!, room, inUse) !== undefined) return false;
    used.set(claim.antId, plus(inUse, claim.resources!));
    return true;
  });
}
