import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type Approval, api, TERMINAL } from '../api.js';
import { policyLine, votesLine } from '../approvals.js';
import { Dag } from '../components/Dag.js';
import { Gantt } from '../components/Gantt.js';
import { Logs } from '../components/Logs.js';
import { duration, ErrorNote, StateBadge, when } from '../components/StateBadge.js';
import { EmptyRow, Table } from '../components/Table.js';
import { useJobEvents } from '../live.js';
import { href } from '../router.js';

type Action = 'cancel' | 'pause' | 'resume' | 'restart';

function actionsFor(state: string): Action[] {
  if (state === 'PAUSED') return ['resume', 'cancel'];
  if (state === 'FAILED' || state === 'CANCELLED') return ['restart'];
  if (state === 'COMPLETED') return [];
  return state === 'PENDING' ? ['cancel'] : ['pause', 'cancel'];
}

const size = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Why the job has not started (or has tasks not yet placed): the scheduler's own explanation, while it waits. */
function WhyItWaits({ id, state }: { id: string; state: string }) {
  const waiting = state === 'PENDING' || state === 'READY';
  const status = useQuery({
    queryKey: ['scheduling', id, state],
    queryFn: () => api.scheduling(id),
    enabled: waiting,
    refetchInterval: waiting ? 2000 : false,
    retry: false,
  });
  const data = status.data;
  if (!waiting || !data?.waiting) return null;
  return (
    <section aria-labelledby="wait-title" className="card waits">
      <h2 id="wait-title">Why it waits</h2>
      <p className="wait-reason">{data.reason ?? 'waiting for the scheduler'}</p>
      <dl className="facts compact">
        {data.held_by && (
          <>
            <dt>Held by</dt>
            <dd className="mono">{data.held_by}</dd>
          </>
        )}
        {data.tenant && (
          <>
            <dt>Tenant</dt>
            <dd>{data.tenant}</dd>
          </>
        )}
        {data.ahead !== undefined && (
          <>
            <dt>Jobs ahead</dt>
            <dd>{data.ahead}</dd>
          </>
        )}
        <dt>Estimated start</dt>
        <dd>{data.estimated_start_at ? when(data.estimated_start_at) : 'unknown'}</dd>
        {data.retry_at && (
          <>
            <dt>Looked at again</dt>
            <dd>{when(data.retry_at)}</dd>
          </>
        )}
      </dl>
    </section>
  );
}

/** One waiting MANUAL task: what its policy asks, the votes so far, and the caller's vote with a comment. */
function ApprovalCard({ id, approval }: { id: string; approval: Approval }) {
  const client = useQueryClient();
  const [comment, setComment] = useState('');
  const vote = useMutation({
    mutationFn: (action: 'approve' | 'reject') => api.decide(id, approval.task_type, action, comment),
    onSuccess: () => setComment(''),
    onSettled: () =>
      Promise.all([client.invalidateQueries({ queryKey: ['approvals', id] }), client.invalidateQueries({ queryKey: ['job', id] })]),
  });
  const inputId = `comment-${approval.task_type}`;
  return (
    <li data-approval={approval.task_type}>
      <p>
        <strong>{approval.task_type}</strong> <span className="muted">{policyLine(approval)}</span>
      </p>
      <p className="votes">{votesLine(approval)}</p>
      <label htmlFor={inputId}>Comment</label>{' '}
      <input id={inputId} type="text" maxLength={2000} value={comment} onChange={(event) => setComment(event.target.value)} />{' '}
      <button type="button" disabled={vote.isPending} onClick={() => vote.mutate('approve')}>
        Approve
      </button>{' '}
      <button type="button" className="danger" disabled={vote.isPending} onClick={() => vote.mutate('reject')}>
        Reject
      </button>
      <ErrorNote error={vote.error} />
    </li>
  );
}

/** MANUAL tasks waiting for a decision, while the job runs; the job's live events refetch it. */
function Approvals({ id, state, version }: { id: string; state: string; version: number }) {
  const running = state === 'READY' || state === 'EXECUTING';
  const approvals = useQuery({
    queryKey: ['approvals', id, state, version],
    queryFn: () => api.approvals(id),
    enabled: running,
    retry: false,
  });
  const waiting = (approvals.data?.items ?? []).filter((a) => a.waiting);
  if (!running || waiting.length === 0) return null;
  return (
    <section aria-labelledby="approvals-title" className="card approvals">
      <h2 id="approvals-title">Waiting for approval</h2>
      <ul>
        {waiting.map((approval) => (
          <ApprovalCard key={approval.task_type} id={id} approval={approval} />
        ))}
      </ul>
    </section>
  );
}

/** The files the job's tasks left, each a download; refreshed while the job runs. */
function Artifacts({ id, ended }: { id: string; ended: boolean }) {
  const artifacts = useQuery({ queryKey: ['artifacts', id, ended], queryFn: () => api.artifacts(id) });
  if (artifacts.error) return <ErrorNote error={artifacts.error} />;
  const items = artifacts.data?.items ?? [];
  return (
    <Table columns={['Task', 'Attempt', 'Path', 'Size', 'Expires']} caption="Artifacts of this job">
      {items.map((a) => (
        <tr key={`${a.task_type}/${a.attempt}/${a.path}`} data-artifact={a.path}>
          <td>{a.task_type}</td>
          <td>{a.attempt}</td>
          <td className="mono">
            <a href={api.artifactUrl(id, a.digest)} download>
              {a.path}
            </a>
          </td>
          <td>{size(a.size)}</td>
          <td>{when(a.expires_at)}</td>
        </tr>
      ))}
      {items.length === 0 && !artifacts.isPending && <EmptyRow columns={5}>No artifacts.</EmptyRow>}
    </Table>
  );
}

export function JobPage({ id }: { id: string }) {
  const client = useQueryClient();
  const job = useQuery({ queryKey: ['job', id], queryFn: () => api.job(id) });
  const data = job.data;
  const live = data !== undefined && !TERMINAL.has(data.state);
  useJobEvents(id, live);
  const graph = useQuery({
    queryKey: ['graph', data?.job_type, data?.version],
    queryFn: () => api.graph(data?.job_type ?? '', data?.version ?? 1),
    enabled: data !== undefined,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const act = useMutation({
    mutationFn: (action: Action) => api.action(id, action),
    onSettled: () => client.invalidateQueries({ queryKey: ['job', id] }),
  });
  if (job.error) return <ErrorNote error={job.error} />;
  if (!data) return <p aria-busy="true">Loading job {id}…</p>;
  return (
    <article aria-labelledby="job-title">
      <p>
        <a href={href('jobs')}>← Jobs</a>
      </p>
      <header className="job-head">
        <h1 id="job-title">
          {data.job_type} <span className="mono muted">{data.id.slice(0, 8)}</span>
        </h1>
        <StateBadge state={data.state} />
        <fieldset className="actions" aria-label="Job actions">
          {actionsFor(data.state).map((action) => (
            <button
              key={action}
              type="button"
              className={action === 'cancel' ? 'danger' : ''}
              disabled={act.isPending}
              onClick={() => act.mutate(action)}
            >
              {action[0]?.toUpperCase()}
              {action.slice(1)}
            </button>
          ))}
          {data.state === 'FAILED' && <a href={href('jobs', id, 'postmortem')}>Post-mortem draft</a>}
        </fieldset>
      </header>
      <ErrorNote error={act.error} />
      <Approvals id={id} state={data.state} version={data.timeline.length} />
      <WhyItWaits id={id} state={data.state} />
      <dl className="facts">
        <dt>Submitted</dt>
        <dd>{when(data.submitted_at)}</dd>
        <dt>Started</dt>
        <dd>{when(data.started_at)}</dd>
        <dt>Took</dt>
        <dd>{duration(data.started_at, data.ended_at)}</dd>
        <dt>Priority</dt>
        <dd>{data.priority}</dd>
        <dt>Version</dt>
        <dd>
          <a href={href('definitions', data.job_type)}>v{data.version}</a>
        </dd>
        <dt>Reason</dt>
        <dd>{data.reason ?? '—'}</dd>
        <dt>Params</dt>
        <dd className="mono">{JSON.stringify(data.params)}</dd>
      </dl>
      <section aria-labelledby="dag-title">
        <h2 id="dag-title">Graph</h2>
        {graph.data ? <Dag graph={graph.data} tasks={data.tasks} /> : <ErrorNote error={graph.error} />}
        <p className="legend muted">Solid edges were taken, dashed ones skipped, faint ones not decided yet.</p>
      </section>
      <section aria-labelledby="gantt-title">
        <h2 id="gantt-title">Attempts</h2>
        <Gantt
          tasks={data.tasks}
          {...(data.started_at ? { jobStart: data.started_at } : {})}
          {...(data.ended_at ? { jobEnd: data.ended_at } : {})}
        />
      </section>
      <section aria-labelledby="tasks-title">
        <h2 id="tasks-title">Tasks</h2>
        <Table columns={['Task', 'State', 'Exit', 'Attempts', 'Outputs', 'Reason']}>
          {data.tasks.map((task) => (
            <tr key={task.task_type} data-task={task.task_type}>
              <th scope="row">{task.task_type}</th>
              <td>
                <StateBadge state={task.state} />
              </td>
              <td>{task.exit_code ?? '—'}</td>
              <td>{task.attempts.length}</td>
              <td className="mono">
                {Object.entries(task.outputs)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(', ') || '—'}
              </td>
              <td className="reason">{task.reason ?? ''}</td>
            </tr>
          ))}
        </Table>
      </section>
      <section aria-labelledby="artifacts-title">
        <h2 id="artifacts-title">Artifacts</h2>
        <Artifacts id={id} ended={!live} />
      </section>
      <section aria-labelledby="logs-title">
        <h2 id="logs-title">Logs</h2>
        <Logs id={id} live={live} />
      </section>
      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        <ol className="timeline">
          {data.timeline.map((event) => (
            <li key={event.seq}>
              <time dateTime={event.at}>{new Date(event.at).toLocaleTimeString()}</time>{' '}
              {event.task_type ? `task ${event.task_type}` : 'job'} {event.from ?? '—'} → <StateBadge state={event.to} />{' '}
              <span className="muted">{event.reason ?? ''}</span>
            </li>
          ))}
        </ol>
      </section>
    </article>
  );
}
