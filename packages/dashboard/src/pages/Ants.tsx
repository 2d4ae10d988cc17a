import { useQuery } from '@tanstack/react-query';
import { api } from '../api.js';
import { ErrorNote, when } from '../components/StateBadge.js';

/** An ant not heard from for this long is shown as lost (the queen's metrics use the same default). */
const LOST_AFTER_MS = 30_000;

export function AntsPage() {
  const ants = useQuery({ queryKey: ['ants'], queryFn: api.ants, refetchInterval: 2000 });
  const now = Date.now();
  return (
    <section aria-labelledby="ants-title">
      <h1 id="ants-title">Ants</h1>
      <ErrorNote error={ants.error} />
      <div className="cards">
        {(ants.data?.items ?? []).map((ant) => {
          const lost = now - Date.parse(ant.last_seen_at) > LOST_AFTER_MS;
          const use = ant.capacity === 0 ? 0 : ant.running / ant.capacity;
          return (
            <article className="card" key={ant.id} aria-label={`ant ${ant.id}`}>
              <h2 className="mono">{ant.id}</h2>
              <p>
                <span className={`badge ${lost ? 'state-failed' : 'state-completed'}`}>{lost ? 'LOST' : 'LIVE'}</span> last heartbeat{' '}
                {when(ant.last_seen_at)}
              </p>
              <label>
                Running {ant.running} of {ant.capacity}
                <meter min={0} max={1} value={use} high={0.9}>
                  {Math.round(use * 100)}%
                </meter>
              </label>
              <p>Methods: {ant.methods.join(', ')}</p>
              <p>Tags: {ant.tags.length > 0 ? ant.tags.join(', ') : <span className="muted">none</span>}</p>
            </article>
          );
        })}
        {ants.data?.items.length === 0 && <p>No ant is connected: tasks cannot run until one connects.</p>}
      </div>
    </section>
  );
}
