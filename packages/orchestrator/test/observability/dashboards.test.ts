import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { METRIC_NAMES } from '../../src/index.js';
import { servers } from './helpers.js';

const docs = new URL('../../../../docs/observability/', import.meta.url);
const grafana = JSON.parse(readFileSync(new URL('grafana-dashboard.json', docs), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { query: unknown }[] };
};
const alerts = parse(readFileSync(new URL('prometheus-alerts.yml', docs), 'utf8')) as {
  groups: { name: string; rules: { alert: string; expr: string; for?: string; labels?: { severity?: string } }[] }[];
};

/** Metric names in a PromQL expression: identifiers followed by `{`, `[`, `)` or a space that are not functions or labels. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:myrmex|nodejs|process)_[a-z0-9_]+)\b/g)].map((m) => m[1] as string);
}

describe('the Grafana dashboard and Prometheus alert rules', () => {
  const start = servers();

  it('reference only metrics a queen exports', async () => {
    const { server } = await start();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
    const exists = (name: string) => {
      if (types.has(name)) return true;
      const base = name.replace(/_(bucket|count|sum)$/, '');
      return base !== name && types.get(base) === 'histogram';
    };
    const exprs = [
      ...grafana.panels.flatMap((panel) => panel.targets.map((t) => ({ where: `panel '${panel.title}'`, expr: t.expr }))),
      ...grafana.templating.list.map((v) => ({ where: 'a template variable', expr: String(v.query) })),
      ...alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
    ];
    const referenced = exprs.flatMap(({ where, expr }) => metricsIn(expr).map((name) => ({ where, name })));
    expect(referenced.length).toBeGreaterThan(20);
    expect(referenced.filter(({ name }) => !exists(name))).toEqual([]);
    // Every metric the module declares is on the dashboard, so none is exported unseen.
    const shown = new Set(referenced.map(({ name }) => name.replace(/_(bucket|count|sum)$/, '')));
    expect(METRIC_NAMES.filter((name) => !shown.has(name))).toEqual([]);
  });

  it('alert on queue depth, wait time, lost ants and failure rate, each with a duration and severity', () => {
    const rules = alerts.groups.flatMap((g) => g.rules);
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
    }
    const byMetric = (name: string) => rules.filter((r) => r.expr.includes(name)).map((r) => r.alert);
    expect(byMetric('myrmex_queue_depth')).not.toEqual([]);
    expect(byMetric('myrmex_queue_oldest_wait_seconds')).not.toEqual([]);
    expect(byMetric('myrmex_ants{status="lost"}')).not.toEqual([]);
    expect(byMetric('myrmex_job_transitions_total{to="FAILED"}')).not.toEqual([]);
  });
});
