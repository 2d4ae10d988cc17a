import { Masker } from './masking.js';

/** `{{.Secrets.NAME}}` in a task's templates. */
export const SECRET_REFERENCE = /\{\{\s*\.Secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Where a queen gets secrets at run time: only from here, never from params, outputs or the timeline. */
export interface SecretSource {
  /** The named secrets of the job's organisation, for a task about to run; each read is audited with `reader`. */
  read(jobId: string, names: readonly string[], reader: string): Promise<Readonly<Record<string, string>>>;
  /** Every secret value of the job's organisation: what its logs and outputs are masked with. */
  values(jobId: string): Promise<readonly string[]>;
  /** The secret `name` of the organisation that owns `jobType` (a webhook's HMAC key), audited with `reader`; undefined when not defined. */
  definitionSecret?(jobType: string, name: string, reader: string): Promise<string | undefined>;
}

export class SecretNotFoundError extends Error {
  override readonly name = 'SecretNotFoundError';
}

/** The secret names a value (a task definition, its variables) refers to, in order of first use. */
export function secretReferences(value: unknown): string[] {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return [...new Set(Array.from(text.matchAll(SECRET_REFERENCE), (match) => match[1] as string))];
}

/**
 * One masker per job, rebuilt after `ttlMs` so a secret changed meanwhile is masked too. A job
 * whose organisation has no secrets costs one read per `ttlMs`.
 */
export class JobMasking {
  private readonly cache = new Map<string, { masker: Promise<Masker>; until: number }>();

  constructor(
    private readonly source: SecretSource,
    private readonly ttlMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  masker(jobId: string): Promise<Masker> {
    const now = this.now();
    const cached = this.cache.get(jobId);
    if (cached && cached.until > now) return cached.masker;
    if (this.cache.size > 10_000) this.cache.clear();
    const masker = this.source.values(jobId).then((values) => new Masker(values));
    this.cache.set(jobId, { masker, until: now + this.ttlMs });
    masker.catch(() => this.cache.delete(jobId));
    return masker;
  }
}
