import { freshAll } from '@myrmex/test-utils';
import { afterAll, expect, it } from 'vitest';
import { type Kind, targets } from './support/databases.js';
import { ALLOWED } from './support/hermitage/expected.js';
import { scenarios } from './support/hermitage/scenarios.js';
import { Script } from './support/hermitage/script.js';
import {
  type Level,
  type Monitor,
  mysqlMonitor,
  mysqlSession,
  pgMonitor,
  pgSession,
  type Session,
  sqliteMonitor,
  sqliteSession,
} from './support/hermitage/sessions.js';

type Cell = { anomaly: boolean; how: 'none' | 'wait' | 'abort' };
const matrix = new Map<string, Map<string, Cell>>();

async function open(kind: Kind, url: string): Promise<{ sessions: Record<'T1' | 'T2' | 'T3', Session>; monitor: Monitor }> {
  if (kind === 'postgres') {
    const [T1, T2, T3, monitor] = await Promise.all([pgSession(url), pgSession(url), pgSession(url), pgMonitor(url)]);
    return { sessions: { T1, T2, T3 }, monitor };
  }
  if (kind === 'mariadb') {
    const [T1, T2, T3, monitor] = await Promise.all([mysqlSession(url), mysqlSession(url), mysqlSession(url), mysqlMonitor(url)]);
    return { sessions: { T1, T2, T3 }, monitor };
  }
  return { sessions: { T1: sqliteSession(url), T2: sqliteSession(url), T3: sqliteSession(url) }, monitor: sqliteMonitor(url) };
}

/** Every scenario at one level, on its own table and its own three connections. */
async function runLevel(kind: Kind, url: string, level: Level): Promise<Map<string, Cell>> {
  const { sessions, monitor } = await open(kind, url);
  const table = `h_${level.toLowerCase().replace(/[^a-z]+/g, '_')}`;
  const cells = new Map<string, Cell>();
  try {
    await monitor.exec(`CREATE TABLE ${table} (id INT PRIMARY KEY, value INT)`);
    for (const scenario of scenarios) {
      await monitor.exec(`DELETE FROM ${table}`);
      await monitor.exec(`INSERT INTO ${table} (id, value) VALUES (1, 10), (2, 20)`);
      const script = new Script(kind, level, table, sessions, monitor);
      const anomaly = await scenario.run(script);
      cells.set(scenario.id, { anomaly, how: anomaly ? 'none' : script.aborts > 0 ? 'abort' : script.blockedAny ? 'wait' : 'none' });
    }
  } finally {
    await Promise.all([...Object.values(sessions), monitor].map((s) => s.close().catch(() => undefined)));
  }
  return cells;
}

function render(): string {
  const ids = scenarios.map((s) => s.id);
  const lines = [`| database / level | ${ids.join(' | ')} |`, `|---|${ids.map(() => ':-:').join('|')}|`];
  for (const [row, cells] of matrix) {
    const marks = ids.map((id) => {
      const cell = cells.get(id);
      if (!cell) return '?';
      return cell.anomaly ? '—' : cell.how === 'none' ? '✓' : `✓ ${cell.how}`;
    });
    lines.push(`| ${row} | ${marks.join(' | ')} |`);
  }
  return lines.join('\n');
}

afterAll(() => {
  if (matrix.size > 0) console.log(`\nHermitage matrix (✓ prevented, with how; — anomaly occurred)\n${render()}\n`);
});

for (const target of targets) {
  target.describe(`Hermitage on ${target.kind}`, () => {
    const db = freshAll(target.fresh);
    const levels = Object.keys(ALLOWED[target.kind]) as Level[];
    it(`prevents exactly what it should at ${levels.join(', ')}`, async () => {
      const results = await Promise.all(levels.map((level) => runLevel(target.kind, db.current.url, level)));
      const observed: Record<string, string[]> = {};
      const expected: Record<string, string[]> = {};
      levels.forEach((level, i) => {
        const cells = results[i]!;
        matrix.set(`${target.kind} ${level}`, cells);
        observed[level] = [...cells].filter(([, c]) => c.anomaly).map(([id]) => id);
        expected[level] = [...(ALLOWED[target.kind][level] ?? [])];
      });
      expect(observed).toEqual(expected);
    });
  });
}
