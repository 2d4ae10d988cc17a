export interface Match {
  readonly index: number;
  readonly phrase: string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A case-insensitive pattern for any of the phrases, matched on word boundaries where a phrase
 * starts or ends with a letter or digit ("page" does not match "pages"; "escalat" is written as a stem by "escalat*").
 */
export function phrasePattern(phrases: readonly string[]): RegExp | undefined {
  // Rules search many entries with the same configured list: compile each list once.
  if (compiled.has(phrases)) return compiled.get(phrases);
  const alternatives = phrases
    .filter((p) => p.trim() !== '')
    .map((phrase) => {
      const stem = phrase.endsWith('*');
      const body = escapeRegExp(stem ? phrase.slice(0, -1) : phrase);
      const lead = /^\w/.test(phrase) ? '\\b' : '';
      const tail = stem ? '\\w*' : /\w$/.test(phrase) ? '\\b' : '';
      return `${lead}${body}${tail}`;
    });
  const pattern = alternatives.length === 0 ? undefined : new RegExp(alternatives.join('|'), 'giu');
  compiled.set(phrases, pattern);
  return pattern;
}

const compiled = new WeakMap<readonly string[], RegExp | undefined>();

export function findPhrase(text: string, phrases: readonly string[]): Match | undefined {
  const pattern = phrasePattern(phrases);
  if (pattern) pattern.lastIndex = 0;
  const match = pattern?.exec(text);
  return match ? { index: match.index, phrase: match[0] } : undefined;
}

export function findAllPhrases(text: string, phrases: readonly string[]): Match[] {
  const pattern = phrasePattern(phrases);
  return pattern ? [...text.matchAll(pattern)].map((m) => ({ index: m.index, phrase: m[0] })) : [];
}

/** Lower-case words of three letters or more, without stop words: what two sentences share in substance. */
export function contentWords(text: string): Set<string> {
  const stop = new Set([
    'the',
    'and',
    'for',
    'with',
    'that',
    'this',
    'from',
    'are',
    'was',
    'not',
    'only',
    'all',
    'every',
    'each',
    'its',
    'our',
    'than',
  ]);
  return new Set((text.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []).filter((w) => !stop.has(w)));
}

/** Jaccard similarity of two word sets. */
export function similarity(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const word of a) if (b.has(word)) shared++;
  return shared / (a.size + b.size - shared);
}
