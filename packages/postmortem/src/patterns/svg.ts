import { expectAnalysis } from '../input.js';
import type { PatternAnalysis } from './analyse.js';

const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A stacked bar chart: one bar per month, one colour per square, with axis, ticks and legend. Self-contained SVG.
 * A post-mortem can show several patterns, so bars count patterns found, and each month says how many documents it has.
 */
export function patternChart(analysis: PatternAnalysis, options: { width?: number; height?: number } = {}): string {
  expectAnalysis(analysis, 'patternChart');
  const margin = { top: 40, right: 270, bottom: 48, left: 48 };
  // Wide enough that each month's two labels ("2026-11", "12 post-mortems") never run into the next month's.
  const width = options.width ?? Math.max(780, margin.left + margin.right + 100 * analysis.periods.length);
  const height = options.height ?? 360;
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const totals = analysis.periods.map((p) => analysis.squares.reduce((sum, s) => sum + (s.byPeriod[p] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const step = Math.max(1, Math.ceil(max / 5));
  const top = Math.ceil(max / step) * step;
  const y = (value: number) => Math.round((margin.top + plotH - (value / top) * plotH) * 10) / 10;
  const slot = analysis.periods.length === 0 ? plotW : plotW / analysis.periods.length;
  const barW = Math.max(4, Math.min(48, slot * 0.6));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    '<title>Post-mortem patterns per month</title>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="24" font-size="14" font-weight="bold">Post-mortem patterns per month (${analysis.documents} documents)</text>`,
  ];
  for (let tick = 0; tick <= top; tick += step) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(tick)}" y2="${y(tick)}" stroke="#dddddd"/>`,
      `<text x="${margin.left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`,
    );
  }
  analysis.periods.forEach((period, i) => {
    const x = margin.left + i * slot + (slot - barW) / 2;
    let base = 0;
    analysis.squares.forEach((s, k) => {
      const count = s.byPeriod[period] ?? 0;
      if (count === 0) return;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(base + count).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(base) - y(base + count)).toFixed(1)}" fill="${COLOURS[k % COLOURS.length]}"><title>${xml(`${s.square.label}, ${period}: ${count}`)}</title></rect>`,
      );
      base += count;
    });
    const documents = analysis.documentsByPeriod[period] ?? 0;
    parts.push(
      `<text x="${(x + barW / 2).toFixed(1)}" y="${margin.top + plotH + 18}" text-anchor="middle">${xml(period)}</text>`,
      `<text x="${(x + barW / 2).toFixed(1)}" y="${margin.top + plotH + 34}" text-anchor="middle" fill="#555555">${documents} ${documents === 1 ? 'post-mortem' : 'post-mortems'}</text>`,
    );
  });
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333333"/>`,
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333333"/>`,
    `<text x="14" y="${margin.top + plotH / 2}" transform="rotate(-90 14 ${margin.top + plotH / 2})" text-anchor="middle">patterns found</text>`,
  );
  analysis.squares.forEach((s, k) => {
    const ly = margin.top + k * 20;
    const lx = margin.left + plotW + 20;
    parts.push(
      `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${COLOURS[k % COLOURS.length]}"/>`,
      `<text x="${lx + 18}" y="${ly + 10}">${xml(`${s.square.label} (${s.total})`)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
