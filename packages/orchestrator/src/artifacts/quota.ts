import type { ArtifactFile } from './collect.js';

/**
 * What recording an attempt's artifacts met (issue 17): the soft artifact storage quotas it passed,
 * as "org acme at soft quota 900/500 artifact bytes". The files are stored all the same.
 */
export interface ArtifactRecording {
  readonly warnings: readonly string[];
}

export const NOTHING_TO_SAY: ArtifactRecording = { warnings: [] };

/**
 * A hard artifact storage quota refused the files: none of them was recorded. The check and the
 * record are one transaction under a lock on the quota rows, so racing uploads cannot both pass.
 */
export class ArtifactQuotaExceeded extends Error {
  override readonly name = 'ArtifactQuotaExceeded';
  constructor(
    readonly files: readonly Pick<ArtifactFile, 'path' | 'size'>[],
    /** "org acme at quota 1100/1000 artifact bytes" */
    readonly quota: string,
  ) {
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    const what =
      files.length === 1 ? `${files[0]!.path} (${bytes} bytes) was` : `${files.map((f) => f.path).join(', ')} (${bytes} bytes) were`;
    super(`${what} not stored: artifact storage quota, ${quota}`);
  }
}

/** The attempt log line that says an attempt's artifacts passed a soft quota. */
export function softQuotaLine(warning: string): string {
  return `artifacts stored over a soft quota: ${warning}`;
}
