import { createHash } from 'node:crypto';

/** One state-changing request, or one secret read by a task. */
export interface AuditRecord {
  readonly seq: number;
  /** ISO-8601 time. */
  readonly at: string;
  readonly org: string;
  /** Who: a user, a token id, an ant, or `system`. */
  readonly actor: string;
  /** What: e.g. `job.cancel`, `secret.read`, `token.revoke`. */
  readonly action: string;
  readonly target: string;
  /** From where: the client address, or the ant for secret reads. */
  readonly source: string;
  readonly outcome: 'ok' | 'denied' | 'failed';
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface ChainedRecord extends AuditRecord {
  readonly prevHash: string;
  readonly hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with sorted keys, so the hash does not depend on how a row was read back. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export function recordHash(prevHash: string, record: AuditRecord): string {
  const { seq, at, org, actor, action, target, source, outcome, detail } = record;
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonical({ seq, at, org, actor, action, target, source, outcome, detail }))
    .digest('hex');
}

export function chain(prevHash: string, record: AuditRecord): ChainedRecord {
  return { ...record, prevHash, hash: recordHash(prevHash, record) };
}

export type ChainVerdict =
  | { readonly ok: true; readonly count: number; readonly head: string }
  | { readonly ok: false; readonly seq: number; readonly reason: string };

/**
 * Walks rows in `seq` order. An edited row breaks its own hash; a deleted or inserted row breaks the
 * sequence or the next row's link. Deleting the newest rows leaves a shorter valid chain, which only
 * an anchor kept elsewhere (`expectedHead`, e.g. the head hash published to operators) can reveal.
 */
export function verifyChain(rows: Iterable<ChainedRecord>, expectedHead?: { seq: number; hash: string }): ChainVerdict {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  let anchored: string | undefined;
  for (const row of rows) {
    if (row.seq !== expectedSeq) {
      return { ok: false, seq: row.seq, reason: `row ${expectedSeq} is missing (found ${row.seq} next): deleted or reordered` };
    }
    if (row.prevHash !== prev)
      return { ok: false, seq: row.seq, reason: 'links to a different previous row: one before it was edited or replaced' };
    if (recordHash(prev, row) !== row.hash) return { ok: false, seq: row.seq, reason: 'its contents no longer match its hash: edited' };
    prev = row.hash;
    expectedSeq++;
    count++;
    if (row.seq === expectedHead?.seq) anchored = row.hash;
  }
  if (expectedHead && anchored === undefined) {
    return {
      ok: false,
      seq: count + 1,
      reason: `the anchor names row ${expectedHead.seq}, but the log ends at ${count}: rows were deleted from the end`,
    };
  }
  if (expectedHead && anchored !== expectedHead.hash) {
    return { ok: false, seq: expectedHead.seq, reason: 'the anchored row differs from the published head hash' };
  }
  return { ok: true, count, head: prev };
}
