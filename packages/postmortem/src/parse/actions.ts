import type { RootContent, Table } from 'mdast';
import type { Position } from '../model/positions.js';
import type { ActionItem, PostMortem } from '../model/schema.js';
import type { Diagnostic } from './diagnostics.js';
import { around, type Block } from './sections.js';
import { end, type Source, start } from './source.js';

type Column = keyof ActionItem;

/** The canonical header, in order, and what people also call each column. */
export const ACTION_COLUMNS: readonly { key: Column; header: string; aliases: readonly string[] }[] = [
  { key: 'id', header: '#', aliases: ['#', 'no', 'no.', 'number', 'id', 'item'] },
  {
    key: 'description',
    header: 'Description',
    aliases: ['description', 'action', 'action item', 'what', 'task', 'follow up', 'corrective action'],
  },
  { key: 'owner', header: 'Owner', aliases: ['owner', 'assignee', 'who'] },
  { key: 'deadline', header: 'Deadline', aliases: ['deadline', 'due', 'due date', 'due by', 'target date'] },
  { key: 'priority', header: 'Priority', aliases: ['priority'] },
  { key: 'lessons', header: 'Lessons', aliases: ['lessons', 'lesson', 'lessons addressed', 'addresses'] },
  { key: 'status', header: 'Status', aliases: ['status', 'state'] },
  { key: 'link', header: 'Link', aliases: ['link', 'links', 'ticket', 'tracking', 'bug', 'issue', 'jira'] },
];

const isTable = (node: RootContent): node is Table => node.type === 'table';

/** Lesson references in a cell: "1, 2", "#1 #3", "L2", "Lesson 4". */
export function lessonNumbers(cell: string): number[] {
  return [...cell.matchAll(/\d+/g)].map((m) => Number(m[0]));
}

export function parseActions(
  source: Source,
  block: Block,
  positions: Map<string, Position>,
  diagnostics: Diagnostic[],
): NonNullable<PostMortem['actions']> {
  const { node: table, intro, outro } = around(source, block, isTable);
  if (!table) {
    if (intro !== '') {
      diagnostics.push({
        code: 'action-table-malformed',
        message: 'the Action items section has no table',
        ...source.position(block.from),
      });
    }
    return { intro, items: [], outro };
  }
  positions.set('/actions/table', source.position(start(table)));
  const cellText = (cell: Table['children'][number]['children'][number]) =>
    source.text
      .slice(start(cell), end(cell))
      .trim()
      .replace(/^\|/, '')
      .replace(/(?<!\\)\|$/, '')
      .trim()
      .replace(/\\\|/g, '|');
  const [header, ...rows] = table.children;
  const headers = (header?.children ?? []).map((cell) => cellText(cell).toLowerCase());
  const indexOf = new Map<Column, number>();
  for (const column of ACTION_COLUMNS) {
    const index = headers.findIndex((h) => column.aliases.includes(h));
    if (index >= 0) indexOf.set(column.key, index);
  }
  const missing = ACTION_COLUMNS.filter((c) => !indexOf.has(c.key)).map((c) => c.header);
  if (missing.length > 0) {
    diagnostics.push({
      code: 'action-table-malformed',
      message: `the action table lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      missingColumns: missing,
      ...source.position(start(table)),
    });
  }
  const items = rows.map((row, i): ActionItem => {
    const at = source.position(start(row));
    positions.set(`/actions/items/${i}`, at);
    if (row.children.length !== headers.length) {
      diagnostics.push({
        code: 'action-table-malformed',
        message: `action row ${i + 1} has ${row.children.length} cells, the header has ${headers.length}`,
        ...at,
      });
    }
    const cell = (key: Column): string => {
      const index = indexOf.get(key);
      const node = index === undefined ? undefined : row.children[index];
      if (node) positions.set(`/actions/items/${i}/${key}`, source.position(start(node)));
      return node ? cellText(node) : '';
    };
    return {
      id: cell('id'),
      description: cell('description'),
      owner: cell('owner'),
      deadline: cell('deadline'),
      priority: cell('priority'),
      lessons: lessonNumbers(cell('lessons')),
      status: cell('status'),
      link: cell('link'),
    };
  });
  return { intro, items, outro };
}
