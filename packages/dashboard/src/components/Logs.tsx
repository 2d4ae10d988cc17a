import { useEffect, useMemo, useRef, useState } from 'react';
import type { LogLine } from '../api.js';
import { ScrollBox } from './ScrollBox.js';

/** A job's log: the stored lines, then live ones from the follow stream; search highlights, follow keeps the end in view. */
export function Logs({ id, live }: { id: string; live: boolean }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState('');
  const [task, setTask] = useState('');
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setLines([]);
    // One stream gives the stored lines then the live ones, each once (ids are seqs); it ends with the job.
    const source = new EventSource(`api/jobs/requests/${encodeURIComponent(id)}/logs?follow=true`);
    const pending: LogLine[] = [];
    let frame = 0;
    source.addEventListener('log', (event) => {
      pending.push(JSON.parse((event as MessageEvent).data) as LogLine);
      frame ||= requestAnimationFrame(() => {
        frame = 0;
        const batch = pending.splice(0);
        setLines((old) => [...old, ...batch]);
      });
    });
    source.addEventListener('end', () => source.close());
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) source.close();
    });
    return () => {
      source.close();
      cancelAnimationFrame(frame);
    };
  }, [id]);
  const tasks = useMemo(() => [...new Set(lines.map((l) => l.task_type))], [lines]);
  const shown = useMemo(() => {
    const needle = search.toLowerCase();
    return lines.filter((l) => (task === '' || l.task_type === task) && (needle === '' || l.text.toLowerCase().includes(needle)));
  }, [lines, search, task]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scrolls to the end after every change of the lines shown
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [shown, follow]);
  return (
    <div className="logs">
      <div className="filters">
        <label>
          Task
          <select value={task} onChange={(e) => setTask(e.target.value)}>
            <option value="">All</option>
            {tasks.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label className="grow">
          Search the log
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow {live ? '(live)' : ''}
        </label>
      </div>
      <ScrollBox ref={box} className="log-box" label="Log lines" aria-live={follow ? 'polite' : 'off'}>
        {shown.map((l) => (
          <div key={l.seq} className={`log-${l.stream}`}>
            <span className="muted">
              {l.task_type}#{l.attempt}
            </span>{' '}
            {highlight(l.text, search)}
          </div>
        ))}
        {shown.length === 0 && <span className="muted">{lines.length === 0 ? 'No output yet.' : 'No line matches.'}</span>}
      </ScrollBox>
    </div>
  );
}

function highlight(text: string, needle: string) {
  if (needle === '') return text;
  const at = text.toLowerCase().indexOf(needle.toLowerCase());
  if (at < 0) return text;
  return (
    <>
      {text.slice(0, at)}
      <mark>{text.slice(at, at + needle.length)}</mark>
      {text.slice(at + needle.length)}
    </>
  );
}
