import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, JOB_STATES } from '../api.js';
import { duration, ErrorNote, StateBadge, when } from '../components/StateBadge.js';
import { EmptyRow, Table } from '../components/Table.js';
import { href } from '../router.js';

const PAGE = 25;
const COLUMNS = ['Job', 'Type', 'State', 'Priority', 'Submitted', 'Took', 'Reason'];
const RANGES = [
  ['', 'Any time'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
] as const;
const RANGE_MS: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 };

/**
 * Refreshes the list on every transition of any job (one shared event stream), at most every 300 ms,
 * and whenever the stream (re)connects: what changed before it was open, or while it was down, sent
 * no event this page saw, so a list fetched before then would otherwise stay stale.
 */
function useAllJobEvents(): void {
  const client = useQueryClient();
  useEffect(() => {
    const source = new EventSource('api/jobs/events');
    let timer: number | undefined;
    const refresh = () => {
      timer ??= window.setTimeout(() => {
        timer = undefined;
        void client.invalidateQueries({ queryKey: ['jobs'] });
      }, 300);
    };
    source.addEventListener('open', refresh);
    source.addEventListener('transition', refresh);
    return () => {
      source.close();
      window.clearTimeout(timer);
    };
  }, [client]);
}

/** A waiting job's reason is the scheduler's (GET …/scheduling, a page's rows at most); others show their last transition's. */
function WaitReason({ id, state, fallback }: { id: string; state: string; fallback: string }) {
  const waiting = state === 'PENDING' || state === 'READY';
  const status = useQuery({
    queryKey: ['scheduling', id, state],
    queryFn: () => api.scheduling(id),
    enabled: waiting,
    refetchInterval: waiting ? 5000 : false,
    retry: false,
  });
  return <>{waiting && status.data?.waiting && status.data.reason ? status.data.reason : fallback}</>;
}

/** `value`, once it has stayed the same for `ms`: a search box asks the server once per pause, not per key. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function JobsPage() {
  const [state, setState] = useState('');
  const [jobType, setJobType] = useState('');
  // The range's start, fixed when it is chosen: a moving "now" would make every refresh a new query.
  const [since, setSince] = useState('');
  const [range, setRange] = useState('');
  const [text, setText] = useState('');
  const search = useDebounced(text.trim(), 300);
  // The cursors of the pages walked so far, newest first: Older pushes a page's next_cursor, Newer pops.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors.at(-1);
  // A new search starts again from the newest page (reset while rendering, as React advises, not in an effect).
  const [searched, setSearched] = useState(search);
  if (searched !== search) {
    setSearched(search);
    setCursors([undefined]);
  }
  useAllJobEvents();
  const types = useQuery({ queryKey: ['definitions'], queryFn: api.definitions });
  // Every filter is the server's (issue 16): a match beyond the loaded page is found, and pages stay cursor walks.
  const jobs = useQuery({
    queryKey: ['jobs', state, jobType, since, search, cursor],
    queryFn: () =>
      api.jobs({
        state,
        jobType,
        limit: PAGE,
        ...(since && { submittedAfter: since }),
        ...(search && { text: search }),
        ...(cursor && { cursor }),
      }),
    placeholderData: keepPreviousData,
  });
  const shown = jobs.data?.items ?? [];
  const next = jobs.data?.next_cursor;
  const page = cursors.length;
  const reset =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setCursors([undefined]);
    };
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter jobs">
        <label>
          State
          <select value={state} onChange={(e) => reset(setState)(e.target.value)}>
            <option value="">Any</option>
            {JOB_STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select value={jobType} onChange={(e) => reset(setJobType)(e.target.value)}>
            <option value="">Any</option>
            {(types.data?.items ?? []).map((d) => (
              <option key={d.job_type}>{d.job_type}</option>
            ))}
          </select>
        </label>
        <label>
          Submitted
          <select
            value={range}
            onChange={(e) => {
              const chosen = e.target.value;
              setRange(chosen);
              setSince(chosen ? new Date(Date.now() - (RANGE_MS[chosen] ?? 0)).toISOString() : '');
              setCursors([undefined]);
            }}
          >
            {RANGES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="grow">
          Search
          <input type="search" value={text} placeholder="job id (start) or exact type" onChange={(e) => setText(e.target.value)} />
        </label>
      </form>
      <ErrorNote error={jobs.error} />
      <Table className="jobs" caption="Job requests, newest first" columns={COLUMNS}>
        {shown.map((job) => (
          <tr key={job.id} data-job-id={job.id}>
            <td>
              <a href={href('jobs', job.id)} className="mono">
                {job.id.slice(0, 8)}
              </a>
            </td>
            <td>{job.job_type}</td>
            <td>
              <StateBadge state={job.state} />
            </td>
            <td>{job.priority}</td>
            <td>{when(job.submitted_at)}</td>
            <td>{duration(job.started_at, job.ended_at)}</td>
            <td className="reason">
              <WaitReason id={job.id} state={job.state} fallback={job.reason ?? ''} />
            </td>
          </tr>
        ))}
        {shown.length === 0 && !jobs.isPending && <EmptyRow columns={COLUMNS.length}>No job matches these filters.</EmptyRow>}
      </Table>
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={page === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span aria-live="polite">Page {page}</span>
        <button type="button" disabled={next === undefined} onClick={() => setCursors([...cursors, next])}>
          Older →
        </button>
      </nav>
    </section>
  );
}
