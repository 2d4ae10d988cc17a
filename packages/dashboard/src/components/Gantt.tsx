import type { Task } from '../api.js';

/**
 * Every attempt of every task on one time axis: a bar from start to end in the attempt's state
 * colour, retries side by side on their task's row.
 */
export function Gantt({ tasks, jobStart, jobEnd }: { tasks: readonly Task[]; jobStart?: string; jobEnd?: string }) {
  const attempts = tasks.flatMap((t) => t.attempts.map((a) => ({ task: t.task_type, ...a })));
  if (attempts.length === 0) return <p className="muted">No attempt has started yet.</p>;
  const now = Date.now();
  const start = Math.min(...attempts.map((a) => Date.parse(a.started_at)), jobStart ? Date.parse(jobStart) : Number.POSITIVE_INFINITY);
  const end = Math.max(...attempts.map((a) => (a.ended_at ? Date.parse(a.ended_at) : now)), jobEnd ? Date.parse(jobEnd) : 0);
  const span = Math.max(end - start, 1);
  return (
    <div className="gantt">
      <table>
        <caption className="sr-only">Attempts over time, {(span / 1000).toFixed(1)} s in all</caption>
        <tbody>
          {tasks
            .filter((t) => t.attempts.length > 0)
            .map((task) => (
              <tr key={task.task_type}>
                <th scope="row" className="gantt-label">
                  {task.task_type}
                </th>
                <td>
                  <div className="gantt-track">
                    {task.attempts.map((a) => {
                      const from = Date.parse(a.started_at) - start;
                      const to = (a.ended_at ? Date.parse(a.ended_at) : now) - start;
                      const seconds = ((to - from) / 1000).toFixed(2);
                      return (
                        <span
                          key={a.attempt}
                          className={`gantt-bar state-${a.state.toLowerCase()}`}
                          style={{ left: `${(from / span) * 100}%`, width: `max(3px, ${((to - from) / span) * 100}%)` }}
                          title={`attempt ${a.attempt}: ${a.state}${a.exit_code === undefined ? '' : `, exit ${a.exit_code}`}, ${seconds} s${a.ant_id ? ` on ${a.ant_id}` : ''}`}
                        >
                          <span className="sr-only">
                            attempt {a.attempt} {a.state} {seconds} s
                          </span>
                        </span>
                      );
                    })}
                  </div>
                </td>
              </tr>
            ))}
        </tbody>
      </table>
      <div className="gantt-axis" aria-hidden="true">
        <span>0 s</span>
        <span>{(span / 1000).toFixed(1)} s</span>
      </div>
    </div>
  );
}
