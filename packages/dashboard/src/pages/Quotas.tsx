import { useQuery } from '@tanstack/react-query';
import { ApiProblem, api, type Quota } from '../api.js';
import { ErrorNote, when } from '../components/StateBadge.js';

const NAMES: Record<Quota['resource'], string> = {
  running_jobs: 'Running jobs',
  cpu_hours: 'CPU-hours',
  artifact_bytes: 'Artifact storage',
};

function amount(quota: Quota, value: number): string {
  if (quota.resource === 'cpu_hours') return `${Number(value.toPrecision(3))} h`;
  if (quota.resource === 'artifact_bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${Number(value.toPrecision(3))} ${units[unit]}`;
  }
  return String(value);
}

/** The organisation's quotas, each a meter of its usage against its hard limit (the soft one marks "high"). */
export function QuotasPage() {
  const quotas = useQuery({ queryKey: ['quotas'], queryFn: api.quotas, refetchInterval: 5000 });
  // A queen without authentication has no organisations, so no quotas route.
  const absent = quotas.error instanceof ApiProblem && quotas.error.problem.status === 404;
  return (
    <section aria-labelledby="quotas-title">
      <h1 id="quotas-title">Quotas{quotas.data ? ` of ${quotas.data.org}` : ''}</h1>
      {absent ? (
        <p className="muted">This queen runs without authentication: there are no organisations, so no quotas.</p>
      ) : (
        <ErrorNote error={quotas.error} />
      )}
      {quotas.data?.items.length === 0 && (
        <p className="muted">
          No quota is set. An admin sets them with <code>myrmex quota set</code>.
        </p>
      )}
      <div className="cards">
        {(quotas.data?.items ?? []).map((quota) => {
          const bound = quota.hard ?? quota.soft;
          const label = `${NAMES[quota.resource]}${quota.user === undefined ? '' : ` of ${quota.user}`}`;
          return (
            <article className="card" key={`${quota.user ?? ''}/${quota.resource}`} aria-label={label} data-quota={quota.resource}>
              <h2>{label}</h2>
              <p className="usage">
                {amount(quota, quota.used)} of {bound === undefined ? 'unlimited' : amount(quota, bound)}
                {quota.period ? (quota.period === 'daily' ? ' today' : ' this month') : ''}
                {bound !== undefined && (
                  <meter
                    aria-label={`${label} used`}
                    min={0}
                    max={bound}
                    value={Math.min(quota.used, bound)}
                    {...(quota.soft !== undefined && { high: quota.soft })}
                  >
                    {bound === 0 ? 100 : Math.round((quota.used / bound) * 100)}%
                  </meter>
                )}
              </p>
              <dl className="facts compact">
                <dt>Hard limit</dt>
                <dd>{quota.hard === undefined ? <span className="muted">none</span> : amount(quota, quota.hard)}</dd>
                <dt>Soft limit</dt>
                <dd>{quota.soft === undefined ? <span className="muted">none</span> : amount(quota, quota.soft)}</dd>
                {quota.period_end && (
                  <>
                    <dt>Resets</dt>
                    <dd>{when(quota.period_end)}</dd>
                  </>
                )}
              </dl>
            </article>
          );
        })}
      </div>
    </section>
  );
}
