import type { Position } from '../model/positions.js';
import type { Branch, PostMortem, Why } from '../model/schema.js';
import { around, type Block, splitAtHeadings } from './sections.js';
import { type Source, start } from './source.js';
import { isList } from './timeline.js';

const ARROW = /\s*(?:->|→|=>)\s*/;
const DOTTED = /^(\d+(?:\.\d+)+)\.?\s+/;
const NUMBERED = /^(\d+(?:\.\d+)*)[.)]?\s+/;

/** Splits a why into question and answer (after an arrow, or on the following lines) and its written number. */
export function parseWhy(text: string, ordinal: number | null): Why {
  const prefix = (ordinal === null ? NUMBERED : DOTTED).exec(text);
  const body = prefix ? text.slice(prefix[0].length) : text;
  const arrow = ARROW.exec(body);
  const [question, answer] = arrow
    ? [body.slice(0, arrow.index), body.slice(arrow.index + arrow[0].length)]
    : [body.split('\n')[0] ?? '', body.split('\n').slice(1).join(' ')];
  return {
    number: prefix?.[1] ?? (ordinal === null ? null : String(ordinal)),
    question: question.trim(),
    answer: answer.replace(/\s*\n\s*/g, ' ').trim(),
  };
}

/** The Five Whys: one branch per H3 (primary, detection, mitigation), each a list of question → answer. */
export function parseRootCause(source: Source, block: Block, positions: Map<string, Position>): NonNullable<PostMortem['rootCause']> {
  const groups = splitAtHeadings(source, block.nodes, 3, block.from, block.to);
  const branches = groups.map((group, b): Branch => {
    positions.set(`/rootCause/branches/${b}`, source.position(group.heading ? start(group.heading) : group.from));
    const { node: list, intro, outro } = around(source, group, isList);
    const first = list?.start ?? 1;
    const whys = (list?.children ?? []).map((item, i) => {
      positions.set(`/rootCause/branches/${b}/whys/${i}`, source.position(start(item)));
      return parseWhy(source.content(item)?.text ?? '', list?.ordered ? first + i : null);
    });
    return { title: group.title, intro, ordered: list?.ordered === true, whys, outro };
  });
  return { branches };
}
