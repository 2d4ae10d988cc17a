import type { BenchRow } from './bench.js';

const WIDTH = 1000;
const HEIGHT = 440;
const PANEL = { width: 420, height: 300, top: 80 };
/** One colour per number of rounds m, so a reader matches lines across both panels by colour alone. */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

/** Line style says what was timed; colour says m. */
const STYLES = {
  'fast algorithm': { dash: '', width: 2 },
  'actors algorithm': { dash: '7 4', width: 2 },
  'fast whole process': { dash: '2 3', width: 1.5 },
  'actors whole process': { dash: '9 3 2 3', width: 1.5 },
} as const;
type StyleName = keyof typeof STYLES;

const colourOf = (rounds: number) => PALETTE[(rounds - 1) % PALETTE.length]!;

interface Series {
  readonly label: string;
  readonly colour: string;
  readonly style: StyleName;
  readonly points: readonly (readonly [number, number])[];
}

interface Panel {
  readonly title: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly left: number;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Powers of ten covering [min, max], for log-scale ticks. */
function decades(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  return ticks;
}

function formatTick(value: number): string {
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(value);
}

function renderPanel({ title, yLabel, series, left }: Panel, xTicks: number[]): string {
  const ys = series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => y > 0);
  const yTicks = decades(Math.min(...ys), Math.max(...ys));
  const [x0, x1] = [Math.log10(xTicks[0]!), Math.log10(xTicks[xTicks.length - 1]!)];
  const [y0, y1] = [Math.log10(yTicks[0]!), Math.log10(yTicks[yTicks.length - 1]!)];
  const sx = (x: number) => left + ((Math.log10(x) - x0) / (x1 - x0 || 1)) * PANEL.width;
  const sy = (y: number) => PANEL.top + PANEL.height - ((Math.log10(Math.max(y, 10 ** y0)) - y0) / (y1 - y0 || 1)) * PANEL.height;
  const bottom = PANEL.top + PANEL.height;
  const parts = [
    `<text x="${left + PANEL.width / 2}" y="${PANEL.top - 20}" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${left}" y="${PANEL.top}" width="${PANEL.width}" height="${PANEL.height}" fill="none" stroke="#444"/>`,
    ...xTicks.map(
      (x) =>
        `<line x1="${sx(x)}" y1="${PANEL.top}" x2="${sx(x)}" y2="${bottom}" stroke="#ddd"/><text x="${sx(x)}" y="${bottom + 16}" text-anchor="middle">${formatTick(x)}</text>`,
    ),
    ...yTicks.map(
      (y) =>
        `<line x1="${left}" y1="${sy(y)}" x2="${left + PANEL.width}" y2="${sy(y)}" stroke="#ddd"/><text x="${left - 6}" y="${sy(y) + 4}" text-anchor="end">${formatTick(y)}</text>`,
    ),
    `<text x="${left + PANEL.width / 2}" y="${bottom + 36}" text-anchor="middle">generals (n, log scale)</text>`,
    `<text transform="translate(${left - 48} ${PANEL.top + PANEL.height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  ];
  for (const s of series) {
    const { dash, width } = STYLES[s.style];
    const points = s.points.filter(([, y]) => y > 0);
    parts.push(
      `<polyline fill="none" stroke="${s.colour}" stroke-width="${width}"${dash === '' ? '' : ` stroke-dasharray="${dash}"`} points="${points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [x, y] of points)
      parts.push(
        `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.colour}"><title>${escapeXml(`${s.label}: n=${x}, ${Number(y.toPrecision(4))}`)}</title></circle>`,
      );
  }
  return parts.join('\n');
}

/**
 * An SVG with two log-log panels against the number of generals: algorithm time (and
 * whole-process time when measured) per engine and m, and messages per m.
 */
export function renderBenchChart(rows: readonly BenchRow[], subtitle = ''): string {
  if (rows.length === 0) throw new RangeError('renderBenchChart: no rows to draw');
  const generals = rows.map((r) => r.generals);
  const xTicks = decades(Math.min(...generals), Math.max(...generals));
  const series = (rounds: number, style: StyleName, value: (row: BenchRow) => number | undefined, engine?: string): Series => ({
    label: `m=${rounds} ${style}`,
    colour: colourOf(rounds),
    style,
    points: rows
      .filter((row) => row.rounds === rounds && (engine === undefined || row.engine === engine) && value(row) !== undefined)
      .map((row) => [row.generals, value(row)!] as const)
      .sort((a, b) => a[0] - b[0]),
  });
  const roundsSeen = [...new Set(rows.map((row) => row.rounds))].sort((a, b) => a - b);
  const timeSeries = roundsSeen
    .flatMap((m) =>
      (['fast', 'actors'] as const).flatMap((engine) => [
        series(m, `${engine} algorithm`, (r) => r.algorithmMs, engine),
        series(m, `${engine} whole process`, (r) => r.processMs, engine),
      ]),
    )
    .filter((s) => s.points.length > 0);
  const messageSeries = roundsSeen.map((m) => ({ ...series(m, 'fast algorithm', (r) => r.messages), label: `OM(${m})` }));
  const legendTop = PANEL.top + PANEL.height + 56;
  const swatch = (x: number, y: number, colour: string, style: StyleName, label: string) => {
    const { dash, width } = STYLES[style];
    return `<line x1="${x}" y1="${y - 4}" x2="${x + 28}" y2="${y - 4}" stroke="${colour}" stroke-width="${width}"${dash === '' ? '' : ` stroke-dasharray="${dash}"`}/><text x="${x + 34}" y="${y}">${escapeXml(label)}</text>`;
  };
  const styleLegend = (Object.keys(STYLES) as StyleName[])
    .filter((style) => timeSeries.some((s) => s.style === style))
    .map((style, i) => swatch(70 + (i % 2) * 210, legendTop + Math.floor(i / 2) * 16, '#333', style, style));
  const colourLegend = roundsSeen.map((m, i) => swatch(560 + (i % 4) * 105, legendTop, colourOf(m), 'fast algorithm', `m=${m}, OM(${m})`));
  const height = HEIGHT + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>Byzantine generals OM(m): time and messages against the number of generals${subtitle === '' ? '' : ` (${escapeXml(subtitle)})`}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">Byzantine generals OM(m): time and messages against n</text>`,
    subtitle === '' ? '' : `<text x="${WIDTH / 2}" y="36" text-anchor="middle">${escapeXml(subtitle)}</text>`,
    renderPanel(
      { title: 'time (ms): line style = engine and what was timed', yLabel: 'milliseconds', series: timeSeries, left: 70 },
      xTicks,
    ),
    renderPanel({ title: 'messages: colour = rounds m (both panels)', yLabel: 'messages', series: messageSeries, left: 560 }, xTicks),
    ...styleLegend,
    ...colourLegend,
    '</svg>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}
