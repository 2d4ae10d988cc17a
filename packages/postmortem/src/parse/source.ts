import type { Nodes, RootContent } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmTableFromMarkdown } from 'mdast-util-gfm-table';
import { gfmTable } from 'micromark-extension-gfm-table';
import { LineIndex, type Position } from '../model/positions.js';

export interface Slice {
  readonly text: string;
  readonly at: Position;
}

/** The Markdown body with its syntax tree; every piece of text the model keeps is cut from here, so nothing is re-serialised. */
export class Source {
  readonly tree;
  private readonly lines: LineIndex;

  constructor(readonly text: string) {
    this.tree = fromMarkdown(text, { extensions: [gfmTable()], mdastExtensions: [gfmTableFromMarkdown()] });
    this.lines = new LineIndex(text);
  }

  position(offset: number): Position {
    return this.lines.at(offset);
  }

  /** The text between two offsets without surrounding whitespace, and where it starts. */
  trimmed(from: number, to: number): Slice {
    const raw = this.text.slice(from, Math.max(from, to));
    const lead = raw.length - raw.trimStart().length;
    return { text: raw.trim(), at: this.position(from + lead) };
  }

  /**
   * The content of a container node (list item, blockquote) with its continuation indentation removed,
   * so a multi-line item reads as the author wrote it.
   */
  content(node: { children: readonly RootContent[] }): Slice | undefined {
    const first = node.children[0];
    const last = node.children.at(-1);
    if (!first || !last) return undefined;
    const indent = column(first) - 1;
    const raw = this.text.slice(start(first), end(last));
    const text = raw
      .split('\n')
      .map((line, i) => (i === 0 ? line : line.replace(new RegExp(`^ {0,${indent}}`), '')))
      .join('\n')
      .trim();
    return { text, at: this.position(start(first)) };
  }
}

export const start = (node: Nodes): number => node.position?.start.offset ?? 0;
export const end = (node: Nodes): number => node.position?.end.offset ?? 0;
const column = (node: Nodes): number => node.position?.start.column ?? 1;
