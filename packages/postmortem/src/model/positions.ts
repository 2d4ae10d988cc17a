/** 1-based line and column, as editors and SARIF count them. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * Where each part of a parsed document came from, keyed by a JSON-pointer-like path into the model
 * (`/frontMatter/title`, `/timeline/entries/3`, `/actions/items/2/owner`).
 */
export type SourceMap = ReadonlyMap<string, Position>;

export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  at(offset: number): Position {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (this.starts[low] ?? 0) + 1 };
  }
}

/** The position of `index` inside a text whose first character sits at `start`. */
export function positionWithin(start: Position, text: string, index: number): Position {
  const before = text.slice(0, Math.max(0, index));
  const lines = before.split('\n');
  if (lines.length === 1) return { line: start.line, column: start.column + before.length };
  return { line: start.line + lines.length - 1, column: (lines.at(-1)?.length ?? 0) + 1 };
}
