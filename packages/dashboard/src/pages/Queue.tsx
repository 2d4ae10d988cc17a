import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { Chart } from '../components/Chart.js';
import { ErrorNote } from '../components/StateBadge.js';
import { EmptyRow, Table } from '../components/Table.js';
import { parseMetrics, type Sample, sum } from '../metrics.js';

const WINDOW = 150;

/**
 * Queue depth by priority and tag, the oldest wait, throughput, and the scheduler's decisions with
 * what held work back, sampled from the queen's /metrics every 2 s.
 */
export function QueuePage() {
  const metrics = useQuery({ queryKey: ['metrics'], queryFn: async () => parseMetrics(await api.metrics()), refetchInterval: 2000 });
  const [history, setHistory] = useState<{ t: number; done: number; failed: number; waiting: number }[]>([]);
  useEffect(() => {
    const samples = metrics.data;
    if (!samples) return;
    setHistory((old) => [
      ...old.slice(-WINDOW),
      {
        t: Date.now() / 1000,
        done: sum(samples, 'myrmex_task_transitions_total', { to: 'COMPLETED' }),
        failed: sum(samples, 'myrmex_task_transitions_total', { to: 'FAILED' }),
        waiting: sum(samples, 'myrmex_queue_depth', { kind: 'task' }),
      },
    ]);
  }, [metrics.data]);
  const rate = (key: 'done' | 'failed') =>
    history.map((point, i) => {
      const before = history[i - 1];
      return before ? Math.max(0, (point[key] - before[key]) / Math.max(point.t - before.t, 0.001)) : 0;
    });
  const samples: Sample[] = metrics.data ?? [];
  const depth = samples.filter((s) => s.name === 'myrmex_queue_depth' && s.value > 0);
  const waits = samples.filter((s) => s.name === 'myrmex_queue_oldest_wait_seconds' && s.value > 0);
  const holds = samples.filter((s) => s.name === 'myrmex_scheduler_decisions_total' && s.labels.kind === 'hold' && s.value > 0);
  const passes = sum(samples, 'myrmex_scheduler_passes_total');
  const passSeconds = sum(samples, 'myrmex_scheduler_pass_duration_seconds_sum');
  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title">Queue and scheduling</h1>
      <ErrorNote error={metrics.error} />
      <div className="cards">
        <div className="card stat">
          <span className="big">{sum(samples, 'myrmex_queue_depth', { kind: 'task' })}</span> tasks waiting
        </div>
        <div className="card stat">
          <span className="big">{sum(samples, 'myrmex_queue_depth', { kind: 'job' })}</span> due jobs not yet admitted
        </div>
        <div className="card stat">
          <span className="big">{sum(samples, 'myrmex_queue_oldest_wait_seconds', { kind: 'task' }).toFixed(1)} s</span> oldest task wait
        </div>
        <div className="card stat">
          <span className="big">{sum(samples, 'myrmex_jobs', { state: 'EXECUTING' })}</span> jobs executing
        </div>
      </div>
      <h2>Throughput (tasks per second)</h2>
      <Chart
        title="Tasks completed and failed per second, and tasks waiting"
        series={['completed/s', 'failed/s', 'waiting']}
        data={[history.map((p) => p.t), rate('done'), rate('failed'), history.map((p) => p.waiting)]}
      />
      <h2>Waiting work by priority and tag</h2>
      <Table columns={['Kind', 'Priority', 'Tag', 'Tenant', 'Waiting']}>
        {depth.map((s) => (
          <tr key={`${s.labels.kind}${s.labels.priority}${s.labels.tag}${s.labels.tenant}`}>
            <td>{s.labels.kind}</td>
            <td>{s.labels.priority}</td>
            <td>{s.labels.tag || <span className="muted">untagged</span>}</td>
            <td>{s.labels.tenant ?? 'default'}</td>
            <td>{s.value}</td>
          </tr>
        ))}
        {depth.length === 0 && <EmptyRow columns={5}>Nothing is waiting.</EmptyRow>}
      </Table>
      <h2>Oldest wait by tenant</h2>
      <Table columns={['Kind', 'Tenant', 'Oldest wait']} caption="How long the oldest waiting task or job of each tenant has waited">
        {waits.map((s) => (
          <tr key={`${s.labels.kind}${s.labels.tenant}`}>
            <td>{s.labels.kind}</td>
            <td>{s.labels.tenant}</td>
            <td>{s.value.toFixed(1)} s</td>
          </tr>
        ))}
        {waits.length === 0 && <EmptyRow columns={3}>Nothing is waiting.</EmptyRow>}
      </Table>
      <h2>Scheduling decisions</h2>
      <p>
        {passes} scheduler passes ({sum(samples, 'myrmex_scheduler_passes_total', { outcome: 'error' })} failed),{' '}
        {passes === 0 ? '—' : `${((passSeconds / passes) * 1000).toFixed(1)} ms`} each on average;{' '}
        {sum(samples, 'myrmex_scheduler_decisions_total', { kind: 'admit' })} jobs admitted,{' '}
        {sum(samples, 'myrmex_scheduler_decisions_total', { kind: 'start' })} attempts started,{' '}
        {sum(samples, 'myrmex_scheduler_decisions_total', { kind: 'preempt' })} preempted since this queen started. A job's own page says
        why it waits.
      </p>
      <Table columns={['Held back by', 'Times']} caption="Jobs and tasks the scheduler held back, by the rule that held them">
        {holds.map((s) => (
          <tr key={s.labels.plugin}>
            <td className="mono">{s.labels.plugin || 'unnamed'}</td>
            <td>{s.value}</td>
          </tr>
        ))}
        {holds.length === 0 && <EmptyRow columns={2}>Nothing was held back.</EmptyRow>}
      </Table>
    </section>
  );
}
