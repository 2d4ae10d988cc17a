import { expectString } from '../input.js';
import type { Position, SourceMap } from '../model/positions.js';
import type { PostMortem } from '../model/schema.js';
import { parseActions } from './actions.js';
import type { Diagnostic } from './diagnostics.js';
import { parseFrontMatter } from './front-matter.js';
import { parseLessons } from './lessons.js';
import { parseMetrics } from './metrics.js';
import { type KnownBlock, sectionsOf, splitAtHeadings } from './sections.js';
import { Source, start } from './source.js';
import { readSuppressions, type Suppression } from './suppressions.js';
import { parseTimeline } from './timeline.js';
import { parseRootCause } from './whys.js';

export interface Parsed {
  readonly doc: PostMortem;
  /** Where every part of `doc` was written. */
  readonly positions: SourceMap;
  /** What could not be read as intended; the model holds the best reading. */
  readonly diagnostics: readonly Diagnostic[];
  /** The inline `postmortem-disable-next-line` comments that are well formed. */
  readonly suppressions?: readonly Suppression[];
}

/** Parses a post-mortem. It never throws on any text: problems become diagnostics with line and column. */
export function parse(text: string): Parsed {
  expectString(text, 'parse', 'the text');
  const normal = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const front = parseFrontMatter(normal);
  const positions = new Map<string, Position>(front.positions);
  const diagnostics: Diagnostic[] = [...front.diagnostics];
  // The front matter is replaced by as many empty lines, so every Markdown position is a document position.
  const source = new Source('\n'.repeat(front.lineCount) + normal.slice(front.bodyOffset));
  const { preamble, known, other } = sectionsOf(source);

  const doc: PostMortem = {
    frontMatter: front.frontMatter,
    extraFrontMatter: front.extra as PostMortem['extraFrontMatter'],
    preamble: preamble ? source.trimmed(preamble.from, preamble.to).text : '',
    otherSections: other.map((block) => ({ title: block.title ?? '', body: source.trimmed(block.from, block.to).text })),
  };
  for (const block of known) {
    positions.set(`/sections/${block.key}`, source.position(block.heading ? start(block.heading) : block.from));
    const prose = () => {
      const slice = source.trimmed(block.from, block.to);
      positions.set(`/${block.key}`, slice.at);
      return slice.text;
    };
    readSection(block, prose);
  }
  const inline = readSuppressions(normal);
  diagnostics.push(...inline.diagnostics);
  return { doc, positions, diagnostics, suppressions: inline.suppressions };

  function readSection(block: KnownBlock, prose: () => string): void {
    switch (block.key) {
      case 'summary':
      case 'context':
      case 'customerImpact':
      case 'postIncident':
      case 'review':
        doc[block.key] = prose();
        return;
      case 'timeline':
        doc.timeline = parseTimeline(source, block, positions, diagnostics);
        return;
      case 'metrics':
        doc.metrics = parseMetrics(source, block, positions);
        return;
      case 'rootCause':
        doc.rootCause = parseRootCause(source, block, positions);
        return;
      case 'lessons':
        doc.lessons = parseLessons(source, block, positions);
        return;
      case 'actions':
        doc.actions = parseActions(source, block, positions, diagnostics);
        return;
      case 'responseAnalysis': {
        const blocks = splitAtHeadings(source, block.nodes, 3, block.from, block.to);
        const intro = blocks[0]?.title === null ? blocks.shift() : undefined;
        doc.responseAnalysis = {
          intro: intro ? source.trimmed(intro.from, intro.to).text : '',
          parts: blocks.map((part) => ({ title: part.title ?? '', body: source.trimmed(part.from, part.to).text })),
        };
        blocks.forEach((part, i) => {
          if (part.heading) positions.set(`/responseAnalysis/parts/${i}`, source.position(start(part.heading)));
        });
        return;
      }
    }
  }
}
