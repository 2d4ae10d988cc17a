import type { JobDefinition } from '../definition/model.js';
import { admissionTemplate } from '../engine/admission-template.js';
import type { AdmissionKind } from '../store/store.js';

/**
 * The kinds of job (type and version) the store may admit on its own (`JobStore.admitNext`), learnt as the
 * store stops at them: a definition version never changes, so each is judged once (`admissionTemplate`).
 */
export class AdmissionKinds {
  /** Null: each admission of the kind is planned by the supervisor. */
  private readonly known = new Map<string, AdmissionKind | null>();
  private taken?: readonly AdmissionKind[];

  constructor(private readonly definition: (jobType: string, version: number) => Promise<JobDefinition>) {}

  take(): readonly AdmissionKind[] {
    this.taken ??= [...this.known.values()].filter((kind): kind is AdmissionKind => kind !== null);
    return this.taken;
  }

  /** Judges a kind the store stopped at; true when the store may now admit it (ask again). */
  async learn(jobType: string, version: number): Promise<boolean> {
    const key = `${jobType}\u0000${version}`;
    if (this.known.has(key)) return false;
    const definition = await this.definition(jobType, version);
    const start = admissionTemplate(definition);
    const max = definition.maxConcurrency;
    this.known.set(key, start === undefined ? null : { jobType, version, start, ...(max === undefined ? {} : { maxConcurrency: max }) });
    this.taken = undefined;
    return start !== undefined;
  }
}
