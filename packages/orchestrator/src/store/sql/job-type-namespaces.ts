import { type Kysely, sql } from 'kysely';
import { internalJobType } from '../../domain/job-type-names.js';
import { DEFAULT_ORG } from '../security.js';

/**
 * 0023 (issue 17): job types are named per organisation (domain/job-type-names.ts). Types of the
 * default organisation keep their names; another organisation's `build` becomes `<org>/build`
 * everywhere the queen keys by job type: its definition_types row, its definitions (the column and
 * the `jobType` inside the stored JSON, so re-applying the same text is still "unchanged") and its
 * jobs. Per type: the new parent row first, then its children, then the old parent, so the foreign
 * key from definitions holds at every statement on both dialects.
 *
 * Left as they are: a job type's secrets (job_secrets is keyed by organisation and the name its users
 * type, and that name is sealed into each secret's authenticated context), and rate-limit windows
 * (short-lived counters that start afresh under the new name).
 */
export async function renameToJobTypeNamespaces(db: Kysely<unknown>): Promise<void> {
  const { rows: types } = await sql<{ job_type: string; org: string }>`
    SELECT job_type, org FROM definition_types WHERE org <> ${DEFAULT_ORG} ORDER BY job_type`.execute(db);
  for (const { job_type: old, org } of types) {
    const renamed = internalJobType(String(org), String(old));
    if (renamed === old) continue;
    await sql`INSERT INTO definition_types (job_type, disabled, org)
              SELECT ${renamed}, disabled, org FROM definition_types WHERE job_type = ${old}`.execute(db);
    const { rows: versions } = await sql<{ version: number; definition: string }>`
      SELECT version, definition FROM definitions WHERE job_type = ${old}`.execute(db);
    for (const { version, definition } of versions) {
      const json = JSON.stringify({ ...(JSON.parse(String(definition)) as object), jobType: renamed });
      await sql`UPDATE definitions SET job_type = ${renamed}, definition = ${json}
                WHERE job_type = ${old} AND version = ${version}`.execute(db);
    }
    await sql`UPDATE jobs SET job_type = ${renamed} WHERE job_type = ${old}`.execute(db);
    await sql`DELETE FROM definition_types WHERE job_type = ${old}`.execute(db);
  }
}
