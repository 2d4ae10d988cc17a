import type { Image, Paragraph, RootContent } from 'mdast';
import type { Position } from '../model/positions.js';
import type { Figure, PostMortem } from '../model/schema.js';
import type { Block } from './sections.js';
import { end, type Source, start } from './source.js';

const isImage = (node: RootContent | undefined): node is Image => node?.type === 'image';
const blank = (node: RootContent) => node.type === 'text' && node.value.trim() === '';

function figureImage(node: RootContent | undefined): Image | undefined {
  if (node?.type !== 'paragraph') return undefined;
  const first = node.children.find((child) => !blank(child));
  return isImage(first) ? first : undefined;
}

function emphasisText(source: Source, paragraph: Paragraph, after: number): string | undefined {
  const emphasis = paragraph.children.find((child) => start(child) >= after && child.type === 'emphasis');
  return emphasis ? source.text.slice(start(emphasis) + 1, end(emphasis) - 1).trim() : undefined;
}

/**
 * Figures are image paragraphs, each with an emphasised caption on the next line or in the next paragraph;
 * the model keeps the first run of them, and the text before and after.
 */
export function parseMetrics(source: Source, block: Block, positions: Map<string, Position>): NonNullable<PostMortem['metrics']> {
  const nodes = block.nodes;
  const first = nodes.findIndex((node) => figureImage(node) !== undefined);
  if (first < 0) return { intro: source.trimmed(block.from, block.to).text, figures: [], outro: '' };
  const figures: Figure[] = [];
  let i = first;
  for (let image = figureImage(nodes[i]); image; image = figureImage(nodes[i])) {
    const paragraph = nodes[i] as Paragraph;
    positions.set(`/metrics/figures/${figures.length}`, source.position(start(paragraph)));
    let caption = emphasisText(source, paragraph, end(image));
    const next = nodes[i + 1];
    if (caption === undefined && next?.type === 'paragraph' && next.children.length === 1 && next.children[0]?.type === 'emphasis') {
      caption = emphasisText(source, next, start(next));
      i++;
    }
    figures.push({ alt: image.alt ?? '', src: image.url, caption: caption ?? '' });
    i++;
  }
  const firstNode = nodes[first];
  const lastNode = nodes[i - 1];
  return {
    intro: source.trimmed(block.from, firstNode ? start(firstNode) : block.from).text,
    figures,
    outro: source.trimmed(lastNode ? end(lastNode) : block.to, block.to).text,
  };
}
