import { stringify } from 'yaml';
import { type ActionItem, assertPostMortem, type Branch, FRONT_MATTER_KEYS, type PostMortem, type TimelineEntry } from '../model/schema.js';
import { headingOf, type SectionKey } from '../model/sections.js';
import { ACTION_COLUMNS } from '../parse/actions.js';

/** Writes the model back as Markdown with front matter, in the canonical section order; `parse` reads it back to the same model. */
export function render(doc: PostMortem): string {
  assertPostMortem(doc, 'render');
  const blocks: string[] = [`---\n${frontMatterYaml(doc)}---`];
  if (doc.preamble) blocks.push(doc.preamble);
  const section = (key: SectionKey, ...parts: string[]) =>
    blocks.push([`## ${headingOf(key)}`, ...parts.filter((p) => p !== '')].join('\n\n'));

  if (doc.summary !== undefined) section('summary', doc.summary);
  if (doc.context !== undefined) section('context', doc.context);
  if (doc.timeline) section('timeline', doc.timeline.intro, bullets(doc.timeline.entries.map(entryLine)), doc.timeline.outro);
  if (doc.metrics) {
    const figures = doc.metrics.figures.map((f) => `![${f.alt}](${f.src})${f.caption ? `\n*${f.caption}*` : ''}`);
    section('metrics', doc.metrics.intro, ...figures, doc.metrics.outro);
  }
  if (doc.customerImpact !== undefined) section('customerImpact', doc.customerImpact);
  if (doc.rootCause) section('rootCause', ...doc.rootCause.branches.map(branchText));
  if (doc.responseAnalysis) {
    section('responseAnalysis', doc.responseAnalysis.intro, ...doc.responseAnalysis.parts.map((p) => joinBlocks(`### ${p.title}`, p.body)));
  }
  if (doc.postIncident !== undefined) section('postIncident', doc.postIncident);
  if (doc.lessons) {
    const { ordered, items } = doc.lessons;
    const lines = items.map((lesson, i) => item(ordered ? `${(items[0]?.number ?? 1) + i}.` : '-', lesson.text));
    section('lessons', doc.lessons.intro, lines.join('\n'), doc.lessons.outro);
  }
  if (doc.actions) section('actions', doc.actions.intro, actionTable(doc.actions.items), doc.actions.outro);
  if (doc.review !== undefined) section('review', doc.review);
  for (const other of doc.otherSections) blocks.push(joinBlocks(`## ${other.title}`, other.body));
  return `${blocks.join('\n\n')}\n`;
}

function frontMatterYaml(doc: PostMortem): string {
  const ordered: Record<string, unknown> = {};
  for (const key of FRONT_MATTER_KEYS) if (doc.frontMatter[key] !== undefined) ordered[key] = doc.frontMatter[key];
  Object.assign(ordered, doc.extraFrontMatter);
  return Object.keys(ordered).length === 0 ? '' : stringify(ordered, { lineWidth: 0 });
}

const joinBlocks = (...parts: string[]) => parts.filter((p) => p !== '').join('\n\n');

/** A list item whose continuation lines are indented under its first character, so they stay inside the item. */
function item(marker: string, text: string): string {
  const pad = ' '.repeat(marker.length + 1);
  return `${marker} ${text.split('\n').join(`\n${pad}`)}`;
}

const bullets = (lines: string[]) => lines.map((line) => item('-', line)).join('\n');

export function entryLine(entry: TimelineEntry): string {
  const text = entry.milestone ? `**${entry.text}**` : entry.text;
  if (entry.time === null) return text;
  return `${entry.date ? `${entry.date} ` : ''}${entry.time}${entry.zone ? ` ${entry.zone}` : ''} - ${text}`;
}

function branchText(branch: Branch): string {
  const firstNumber = Number(branch.whys[0]?.number);
  const base = branch.ordered && Number.isInteger(firstNumber) ? firstNumber : 1;
  const whys = branch.whys.map((why, i) => {
    const ordinal = String(base + i);
    const marker = branch.ordered ? `${ordinal}.` : '-';
    // An ordered item's number is its marker; only a different (dotted) number is written as a prefix.
    const label = why.number === null || (branch.ordered && why.number === ordinal) ? '' : `${why.number} `;
    return item(marker, `${label}${why.question}${why.answer ? `\n-> ${why.answer}` : ''}`);
  });
  return joinBlocks(branch.title === null ? '' : `### ${branch.title}`, branch.intro, whys.join('\n'), branch.outro);
}

function actionTable(items: readonly ActionItem[]): string {
  const escapePipes = (text: string) => text.replace(/\|/g, '\\|');
  const row = (cells: string[]) => `| ${cells.map(escapePipes).join(' | ')} |`;
  const cells = (a: ActionItem) => ACTION_COLUMNS.map((c) => (c.key === 'lessons' ? a.lessons.join(', ') : a[c.key]));
  return [
    row(ACTION_COLUMNS.map((c) => c.header)),
    `|${ACTION_COLUMNS.map(() => ' --- ').join('|')}|`,
    ...items.map((a) => row(cells(a))),
  ].join('\n');
}
