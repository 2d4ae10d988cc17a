export interface BarGroup {
  readonly label: string;
  readonly bars: ReadonlyArray<{ readonly label: string; readonly value: number }>;
}

const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#9c755f'];

function xml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A grouped bar chart as a standalone SVG document: one group per database, one bar per strategy. */
export function groupedBarChart(title: string, unit: string, groups: readonly BarGroup[]): string {
  const series = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0);
  // Log scale: SQLite in-process and servers over loopback differ by an order of magnitude.
  const low = 10 ** Math.floor(Math.log10(Math.min(...values, 10)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)));
  const barWidth = 34;
  const groupGap = 40;
  const left = 70;
  const top = 50;
  const height = 300;
  const groupWidth = series.length * barWidth;
  const width = left + groups.length * (groupWidth + groupGap) + 20;
  const y = (v: number) =>
    top + height - ((Math.log10(Math.max(v, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * height;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + height + 110}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${xml(title)}</text>`,
  ];
  for (let decade = low; decade <= high; decade *= 10) {
    for (const step of decade === high ? [1] : [1, 2, 5]) {
      const v = decade * step;
      parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y(v)}" y2="${y(v)}" stroke="${step === 1 ? '#bbb' : '#eee'}"/>`);
      parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
    }
  }
  parts.push(`<text transform="translate(16 ${top + height / 2}) rotate(-90)" text-anchor="middle">${xml(unit)} (log scale)</text>`);
  groups.forEach((group, g) => {
    const x0 = left + groupGap / 2 + g * (groupWidth + groupGap);
    group.bars.forEach((bar) => {
      const s = series.indexOf(bar.label);
      const x = x0 + s * barWidth;
      parts.push(
        `<rect x="${x}" y="${y(bar.value)}" width="${barWidth - 4}" height="${top + height - y(bar.value)}" fill="${COLOURS[s % COLOURS.length]}"/>`,
      );
      parts.push(
        `<text x="${x + (barWidth - 4) / 2}" y="${y(bar.value) - 4}" text-anchor="middle" font-size="10">${Math.round(bar.value)}</text>`,
      );
    });
    parts.push(
      `<text x="${x0 + groupWidth / 2}" y="${top + height + 18}" text-anchor="middle" font-weight="bold">${xml(group.label)}</text>`,
    );
  });
  series.forEach((label, s) => {
    const x = left + (s % 4) * 150;
    const yy = top + height + 45 + Math.floor(s / 4) * 18;
    parts.push(`<rect x="${x}" y="${yy - 10}" width="12" height="12" fill="${COLOURS[s % COLOURS.length]}"/>`);
    parts.push(`<text x="${x + 18}" y="${yy}">${xml(label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
