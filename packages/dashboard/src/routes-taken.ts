import type { Task } from './api.js';

/** Which routes a job took: an edge is taken when its target ran after its source ended the way the edge says. */
export function edgeStatus(kind: string, from: Task | undefined, to: Task | undefined): 'taken' | 'skipped' | 'pending' {
  if (!from || ['PENDING', 'READY', 'EXECUTING', 'PAUSED'].includes(from.state)) return 'pending';
  const ran = to !== undefined && !['PENDING', 'SKIPPED'].includes(to.state);
  if (kind === 'needs') return ran ? 'taken' : to?.state === 'SKIPPED' ? 'skipped' : 'pending';
  const matches =
    kind === 'on_completed'
      ? from.state === 'COMPLETED'
      : kind === 'on_failed'
        ? from.state === 'FAILED'
        : kind.startsWith('exit_code:') && String(from.exit_code) === kind.slice('exit_code:'.length);
  return matches && ran ? 'taken' : 'skipped';
}
