import type { Position } from '../model/positions.js';
import type { PostMortem } from '../model/schema.js';
import { around, type Block } from './sections.js';
import { type Source, start } from './source.js';
import { isList } from './timeline.js';

export function parseLessons(source: Source, block: Block, positions: Map<string, Position>): NonNullable<PostMortem['lessons']> {
  const { node: list, intro, outro } = around(source, block, isList);
  const ordered = list?.ordered === true;
  const first = list?.start ?? 1;
  const items = (list?.children ?? []).map((item, i) => {
    positions.set(`/lessons/items/${i}`, source.position(start(item)));
    return { number: ordered ? first + i : null, text: source.content(item)?.text ?? '' };
  });
  return { intro, ordered, items, outro };
}
