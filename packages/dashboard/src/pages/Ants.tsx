import { useQuery } from '@tanstack/react-query';
import { type Ant, api } from '../api.js';
import { ErrorNote, when } from '../components/StateBadge.js';
import { href } from '../router.js';

/** An ant not heard from for this long is shown as lost (the queen's metrics use the same default). */
const LOST_AFTER_MS = 30_000;

function status(ant: Ant, now: number): { label: string; badge: string } {
  if (ant.connected === false || now - Date.parse(ant.last_seen_at) > LOST_AFTER_MS) return { label: 'LOST', badge: 'state-failed' };
  if (ant.draining) return { label: 'DRAINING', badge: 'state-paused' };
  return { label: 'LIVE', badge: 'state-completed' };
}

/** `key=value, …`, or "none". */
function Pairs({ values }: { values?: Record<string, string> }) {
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return <span className="muted">none</span>;
  return <span className="mono">{entries.map(([k, v]) => `${k}=${v}`).join(', ')}</span>;
}

/** Every ant of the colony, embedded or remote: where it runs, what it has, and the attempts it runs now. */
export function AntsPage() {
  const ants = useQuery({ queryKey: ['ants'], queryFn: api.ants, refetchInterval: 2000 });
  const now = Date.now();
  return (
    <section aria-labelledby="ants-title">
      <h1 id="ants-title">Ants</h1>
      <ErrorNote error={ants.error} />
      <div className="cards">
        {(ants.data?.items ?? []).map((ant) => {
          const { label, badge } = status(ant, now);
          const use = ant.capacity === 0 ? 0 : ant.running / ant.capacity;
          return (
            <article className="card" key={ant.id} aria-label={`ant ${ant.id}`} data-ant={ant.id}>
              <h2 className="mono">{ant.id}</h2>
              <p>
                <span className={`badge ${badge}`}>{label}</span> {ant.remote ? 'remote' : 'embedded'}
                {ant.version ? ` · v${ant.version}` : ''} · last heartbeat {when(ant.last_seen_at)}
              </p>
              <label>
                Running {ant.running} of {ant.capacity}
                <meter min={0} max={1} value={use} high={0.9}>
                  {Math.round(use * 100)}%
                </meter>
              </label>
              <dl className="facts compact">
                <dt>Methods</dt>
                <dd>{ant.methods.join(', ')}</dd>
                <dt>Tags</dt>
                <dd>{ant.tags.length > 0 ? ant.tags.join(', ') : <span className="muted">none</span>}</dd>
                <dt>Labels</dt>
                <dd>
                  <Pairs {...(ant.labels && { values: ant.labels })} />
                </dd>
                <dt>Resources</dt>
                <dd>
                  <Pairs {...(ant.resources && { values: ant.resources })} />
                </dd>
                {ant.queen && (
                  <>
                    <dt>Queen</dt>
                    <dd className="mono">{ant.queen}</dd>
                  </>
                )}
              </dl>
              <h3>Tasks running</h3>
              {(ant.assignments ?? []).length === 0 ? (
                <p className="muted">none</p>
              ) : (
                <ul className="running">
                  {(ant.assignments ?? []).map((assignment) => {
                    const [jobId = '', taskType = '', attempt = ''] = assignment.split('/');
                    return (
                      <li key={assignment} data-assignment={assignment}>
                        <a href={href('jobs', jobId)}>
                          {taskType} <span className="mono">{jobId.slice(0, 8)}</span>
                        </a>{' '}
                        <span className="muted">attempt {attempt}</span>
                      </li>
                    );
                  })}
                </ul>
              )}
            </article>
          );
        })}
        {ants.data?.items.length === 0 && <p>No ant is connected: tasks cannot run until one connects.</p>}
      </div>
    </section>
  );
}
