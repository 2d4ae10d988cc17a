import { visibleJobType } from '../domain/job-type-names.js';
import { type Keyring, SecretNotFoundError, type SecretSource } from '../security/index.js';
import type { SecurityStore } from './security.js';

/** The authenticated context of a sealed secret: a ciphertext moved to another name or organisation does not open. */
export function secretContext(orgId: string, name: string): string {
  return `org/${orgId}/secret/${name}`;
}

/** The authenticated context of a job type's secret: it opens only under its organisation, job type and name. */
export function jobSecretContext(orgId: string, jobType: string, name: string): string {
  return `org/${orgId}/job/${jobType}/secret/${name}`;
}

/**
 * Secrets of the job's organisation and of its job type, sealed in the store under `keyring`: a job
 * type's secret overrides the organisation's of the same name. Every read by a task is an audit row
 * naming which of the two it read.
 */
export function storeSecretSource(security: SecurityStore, keyring: Keyring): SecretSource {
  return {
    async read(jobId, names, reader) {
      const scope = await security.jobScope(jobId);
      if (scope === undefined) throw new SecretNotFoundError(`job ${jobId} does not exist`);
      // A job type's secrets are filed under the name its organisation's users give it (job-type-names.ts).
      const org = scope.org;
      const jobType = visibleJobType(scope.jobType);
      const values: Record<string, string> = {};
      for (const name of names) {
        const own = await security.jobSecret(org, jobType, name);
        const row = own ?? (await security.secret(org, name));
        const at = new Date().toISOString();
        const target = own ? `job/${jobType}/secret/${name}` : `secret/${name}`;
        const audit = { at, org, actor: reader, action: 'secret.read', target, source: 'queen' };
        if (!row) {
          await security.appendAudit({ ...audit, outcome: 'failed', detail: { reason: 'not defined' } });
          throw new SecretNotFoundError(
            `the secret '${name}' is not defined for job type '${jobType}' nor in its organisation: create it with ` +
              `PUT /api/jobs/definitions/${jobType}/secrets/${name} or PUT /api/secrets/${name}`,
          );
        }
        values[name] = keyring.decrypt(row.sealed, own ? jobSecretContext(org, jobType, name) : secretContext(org, name));
        await security.appendAudit({ ...audit, outcome: 'ok', detail: { scope: own ? 'job' : 'org' } });
      }
      return values;
    },
    async definitionSecret(jobType, name, reader) {
      const org = await security.definitionOrg(jobType);
      if (org === undefined) return undefined;
      const row = await security.secret(org, name);
      const audit = { at: new Date().toISOString(), org, actor: reader, action: 'secret.read', target: `secret/${name}`, source: 'queen' };
      await security.appendAudit({ ...audit, outcome: row ? 'ok' : 'failed', ...(row ? {} : { detail: { reason: 'not defined' } }) });
      return row ? keyring.decrypt(row.sealed, secretContext(org, name)) : undefined;
    },
    async values(jobId) {
      const scope = await security.jobScope(jobId);
      if (scope === undefined) return [];
      const own = await security.jobSecrets({ orgId: scope.org, jobType: visibleJobType(scope.jobType) });
      return [
        ...(await security.secrets(scope.org)).map((row) => keyring.decrypt(row.sealed, secretContext(row.orgId, row.name))),
        ...own.map((row) => keyring.decrypt(row.sealed, jobSecretContext(row.orgId, row.jobType, row.name))),
      ];
    },
  };
}

/**
 * Re-seals every secret not under the keyring's primary key (after a rotation added a new first
 * key). Each is replaced only if unchanged since it was read, so a concurrent update wins. Returns
 * how many were re-sealed; once it returns 0 on every queen the old key can be dropped.
 */
export async function resealSecrets(security: SecurityStore, keyring: Keyring): Promise<number> {
  let count = 0;
  for (const row of await security.secrets()) {
    const context = secretContext(row.orgId, row.name);
    const sealed = keyring.reencrypt(row.sealed, context);
    if (sealed !== undefined && (await security.resealSecret(row.orgId, row.name, row.sealed, sealed))) count++;
  }
  for (const row of await security.jobSecrets()) {
    const sealed = keyring.reencrypt(row.sealed, jobSecretContext(row.orgId, row.jobType, row.name));
    if (sealed !== undefined && (await security.resealJobSecret(row.orgId, row.jobType, row.name, row.sealed, sealed))) count++;
  }
  return count;
}
