/**
 * Job list cursors: where a page of jobs (newest first) ended, so the next page starts right after
 * it with an index walk, however deep (an offset would walk every row before it). Opaque to
 * clients: base64url of a small JSON object, so it can carry more later.
 */
export function encodeJobCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ s: seq })).toString('base64url');
}

/** The submission sequence a cursor points after, or undefined when the text is not a cursor this code made. */
export function decodeJobCursor(cursor: string): number | undefined {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s?: unknown };
    return Number.isSafeInteger(value?.s) && (value.s as number) > 0 ? (value.s as number) : undefined;
  } catch {
    return undefined;
  }
}
