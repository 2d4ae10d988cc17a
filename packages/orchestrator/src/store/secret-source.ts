import { type Keyring, SecretNotFoundError, type SecretSource } from '../security/index.js';
import type { SecurityStore } from './security.js';

/** The authenticated context of a sealed secret: a ciphertext moved to another name or organisation does not open. */
export function secretContext(orgId: string, name: string): string {
  return `org/${orgId}/secret/${name}`;
}

/** Secrets of the job's organisation, sealed in the store under `keyring`; every read by a task is an audit row. */
export function storeSecretSource(security: SecurityStore, keyring: Keyring): SecretSource {
  const orgOf = async (jobId: string): Promise<string> => {
    const org = await security.jobOrg(jobId);
    if (org === undefined) throw new SecretNotFoundError(`job ${jobId} does not exist`);
    return org;
  };
  return {
    async read(jobId, names, reader) {
      const org = await orgOf(jobId);
      const values: Record<string, string> = {};
      for (const name of names) {
        const row = await security.secret(org, name);
        const at = new Date().toISOString();
        const audit = { at, org, actor: reader, action: 'secret.read', target: `secret/${name}`, source: 'queen' };
        if (!row) {
          await security.appendAudit({ ...audit, outcome: 'failed', detail: { reason: 'not defined' } });
          throw new SecretNotFoundError(
            `the secret '${name}' is not defined in this organisation: create it with PUT /api/secrets/${name}`,
          );
        }
        values[name] = keyring.decrypt(row.sealed, secretContext(org, name));
        await security.appendAudit({ ...audit, outcome: 'ok' });
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
      const org = await security.jobOrg(jobId);
      if (org === undefined) return [];
      return (await security.secrets(org)).map((row) => keyring.decrypt(row.sealed, secretContext(row.orgId, row.name)));
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
  return count;
}
