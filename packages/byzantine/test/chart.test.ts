import { describe, expect, it } from 'vitest';
import { type BenchRow, renderBenchChart } from '../src/index.js';

const row = (engine: 'fast' | 'actors', rounds: number, generals: number, processMs?: number): BenchRow => ({
  engine,
  generals,
  rounds,
  traitors: 0,
  messages: generals ** (rounds + 1),
  algorithmMs: generals / 10,
  messagesPerSecond: 1,
  processMs,
  ic1: true,
  ic2: true,
});

const polylines = (svg: string) =>
  [...svg.matchAll(/<polyline [^>]*stroke="([^"]+)" stroke-width="[^"]+"(?: stroke-dasharray="([^"]+)")?/g)].map((m) => [m[1], m[2] ?? '']);

describe('renderBenchChart', () => {
  const rows = [10, 100].flatMap((n) => [row('fast', 1, n, 300), row('actors', 1, n, 700), row('fast', 2, n), row('actors', 2, n)]);
  const svg = renderBenchChart(rows, 'test & run');

  it('gives each number of rounds one colour, shared by both panels, and each timing its own line style', () => {
    const lines = polylines(svg);
    // m=1: four time lines (two engines x algorithm/whole process); m=2: two; plus one message line per m.
    expect(lines).toHaveLength(8);
    const colours = new Map<string, Set<string>>();
    for (const [colour, dash] of lines) colours.set(colour!, (colours.get(colour!) ?? new Set()).add(dash!));
    expect(colours.size).toBe(2);
    expect([...colours.values()].map((dashes) => dashes.size).sort()).toEqual([2, 4]);
  });

  it('labels the legend by what the reader needs to match, and escapes text', () => {
    for (const label of ['fast algorithm', 'actors algorithm', 'fast whole process', 'actors whole process', 'm=1, OM(1)', 'm=2, OM(2)']) {
      expect(svg).toContain(`>${label}</text>`);
    }
    expect(svg).toContain('test &amp; run');
    expect(svg).not.toContain('test & run');
  });

  it('refuses to draw nothing', () => {
    expect(() => renderBenchChart([])).toThrow(RangeError);
  });
});
