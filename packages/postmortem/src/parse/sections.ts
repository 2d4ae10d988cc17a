import type { Heading, RootContent } from 'mdast';
import { type SectionKey, sectionForHeading } from '../model/sections.js';
import { end, type Source, start } from './source.js';

/** A run of block nodes under one heading, with the offsets its content spans. */
export interface Block {
  readonly title: string | null;
  readonly heading?: Heading;
  readonly nodes: readonly RootContent[];
  readonly from: number;
  readonly to: number;
}

export interface KnownBlock extends Block {
  readonly key: SectionKey;
}

/** Splits block nodes at headings of one depth; nodes before the first such heading form a block with a null title. */
export function splitAtHeadings(source: Source, nodes: readonly RootContent[], depth: number, from: number, to: number): Block[] {
  const blocks: Block[] = [];
  let current: { title: string | null; heading?: Heading; nodes: RootContent[]; from: number } = { title: null, nodes: [], from };
  const close = (until: number) => {
    if (current.heading || current.nodes.length > 0 || source.trimmed(current.from, until).text !== '')
      blocks.push({ ...current, to: until });
  };
  for (const node of nodes) {
    if (node.type === 'heading' && node.depth === depth) {
      close(start(node));
      current = { title: headingText(source, node), heading: node, nodes: [], from: end(node) };
    } else current.nodes.push(node);
  }
  close(to);
  return blocks;
}

export function headingText(source: Source, heading: Heading): string {
  const first = heading.children[0];
  const last = heading.children.at(-1);
  return first && last ? source.text.slice(start(first), end(last)).trim() : '';
}

/** The body's H2 sections, each tagged with the section it is (or none, for sections this model does not know). */
export function sectionsOf(source: Source): { preamble: Block | undefined; known: KnownBlock[]; other: Block[] } {
  const blocks = splitAtHeadings(source, source.tree.children, 2, 0, source.text.length);
  const preamble = blocks[0]?.title === null ? blocks.shift() : undefined;
  const known: KnownBlock[] = [];
  const other: Block[] = [];
  for (const block of blocks) {
    const key = sectionForHeading(block.title ?? '');
    if (key && !known.some((k) => k.key === key)) known.push({ ...block, key });
    else other.push(block);
  }
  return { preamble, known, other };
}

/** Text before and after the first node that satisfies `is`, inside a block. */
export function around<T extends RootContent>(
  source: Source,
  block: Pick<Block, 'nodes' | 'from' | 'to'>,
  is: (node: RootContent) => node is T,
): { node: T | undefined; intro: string; outro: string; introAt: number } {
  const node = block.nodes.find(is);
  if (!node) return { node, intro: source.trimmed(block.from, block.to).text, outro: '', introAt: block.from };
  return {
    node,
    intro: source.trimmed(block.from, start(node)).text,
    outro: source.trimmed(end(node), block.to).text,
    introAt: block.from,
  };
}
