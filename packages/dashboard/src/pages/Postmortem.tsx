import { useQuery } from '@tanstack/react-query';
import { api } from '../api.js';
import { ScrollBox } from '../components/ScrollBox.js';
import { ErrorNote } from '../components/StateBadge.js';
import { href } from '../router.js';

/** The @myrmex/postmortem draft of a job, with the reviewer's findings beside it. */
export function PostmortemPage({ id }: { id: string }) {
  const draft = useQuery({ queryKey: ['postmortem', id], queryFn: () => api.postmortem(id) });
  return (
    <section aria-labelledby="pm-title">
      <p>
        <a href={href('jobs', id)}>← Job</a>
      </p>
      <h1 id="pm-title">Post-mortem draft</h1>
      <ErrorNote error={draft.error} />
      {draft.data && (
        <div className="split">
          <ScrollBox className="source grow" label="Post-mortem draft in Markdown">
            {draft.data.markdown}
          </ScrollBox>
          <aside className="side wide" aria-label="Review findings">
            <h2>Findings ({draft.data.findings.length})</h2>
            <ul className="findings">
              {draft.data.findings.map((f) => (
                <li key={`${f.rule}${f.line}${f.column}`} className={`finding-${f.severity}`}>
                  <strong>{f.severity}</strong> line {f.line}: {f.message} <span className="muted">({f.rule})</span>
                  <br />
                  <small>{f.hint}</small>
                </li>
              ))}
            </ul>
            <button type="button" onClick={() => navigator.clipboard?.writeText(draft.data?.markdown ?? '')}>
              Copy Markdown
            </button>
          </aside>
        </div>
      )}
    </section>
  );
}
