import { DEFAULT_ORG } from './organisations.js';
import type { DefinitionVersion } from './types.js';

/**
 * Per-organisation job type namespaces (issue 17) with one globally unique name inside the queen.
 *
 * Users of an organisation see and type `build`; the store, scheduler, caches and metrics key by the
 * internal name: the plain name in the default organisation (so it behaves exactly as before) and
 * `<org>/<name>` in any other. A definition's `job_type` may not contain `/` (NAME_PATTERN in
 * definition/schema.ts), so a qualified name can never equal a plain one, and the last `/` always
 * separates the organisation from the name. Translation happens only at the edges (the API's tenant
 * view of the queen, a definition naming another job type of its own organisation), through here.
 */
export const JOB_TYPE_ORG_SEPARATOR = '/';

/** The internal name of job type `name` of organisation `org`. */
export function internalJobType(org: string, name: string): string {
  if (name.includes(JOB_TYPE_ORG_SEPARATOR)) {
    // Already qualified (or a name no definition can have): kept, so no name is ever qualified twice.
    return name;
  }
  return org === DEFAULT_ORG ? name : `${org}${JOB_TYPE_ORG_SEPARATOR}${name}`;
}

/** The name an organisation's users see for an internal job type name. */
export function visibleJobType(internal: string): string {
  const at = internal.lastIndexOf(JOB_TYPE_ORG_SEPARATOR);
  return at < 0 ? internal : internal.slice(at + 1);
}

/** The organisation whose namespace an internal job type name is in. */
export function jobTypeOrg(internal: string): string {
  const at = internal.lastIndexOf(JOB_TYPE_ORG_SEPARATOR);
  return at < 0 ? DEFAULT_ORG : internal.slice(0, at);
}

/** A job type another one names (a fork, a job trigger), resolved in the namespace of the one naming it. */
export function siblingJobType(namingInternal: string, named: string): string {
  return internalJobType(jobTypeOrg(namingInternal), named);
}

/** A definition version as its organisation's users see it: its own name, not the internal one. */
export function visibleDefinitionVersion(version: DefinitionVersion): DefinitionVersion {
  const jobType = visibleJobType(version.jobType);
  return { ...version, jobType, definition: { ...version.definition, jobType } };
}

/** A job (summary or detail) or apply result as its organisation's users see it. */
export function visibleJobTypeOf<T extends { readonly jobType: string }>(item: T): T {
  return { ...item, jobType: visibleJobType(item.jobType) };
}
