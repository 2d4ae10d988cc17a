/**
 * Durations as Formicary writes them (`30s`, `5m`, `1h30m`, `250ms`) or as integer seconds.
 * Units must appear in descending order, each at most once, so every duration has one spelling
 * per value once normalised by {@link formatDuration}.
 */

/** `setTimeout` silently fires at once beyond 2^31-1 ms, so no duration may exceed it. */
export const MAX_DURATION_MS = 2 ** 31 - 1;
export const MAX_DURATION_SECONDS = Math.floor(MAX_DURATION_MS / 1000);

/** Also the JSON Schema pattern, so editors and the validator agree. */
export const DURATION_PATTERN = '^(?=\\d)(?:(\\d+)h)?(?:(\\d+)m(?!s))?(?:(\\d+)s)?(?:(\\d+)ms)?$';
const DURATION = new RegExp(DURATION_PATTERN);

export const DURATION_HINT = 'a duration such as 30s, 5m, 1h30m, 250ms or integer seconds';

const UNIT_MS = [3_600_000, 60_000, 1000, 1] as const;

/** Milliseconds for `30s`, `5m`, `1h30m`, `250ms` or a non-negative integer number of seconds. */
export function parseDuration(value: string | number): number {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new TypeError(`invalid duration: expected a string or a number, got ${typeof value}`);
  }
  const ms = unboundedMs(value);
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  if (ms === undefined) throw new RangeError(`invalid duration ${shown}: expected ${DURATION_HINT}`);
  if (ms > MAX_DURATION_MS) throw new RangeError(`invalid duration ${shown}: at most ${formatDuration(MAX_DURATION_MS)}`);
  return ms;
}

/** The milliseconds a well-formed duration spells, however long; undefined when malformed. */
export function unboundedMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value * 1000 : undefined;
  const match = DURATION.exec(value);
  if (match === null) return undefined;
  return UNIT_MS.reduce((ms, unit, index) => ms + Number(match[index + 1] ?? 0) * unit, 0);
}

/** The shortest canonical spelling; `parseDuration(formatDuration(ms)) === ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`cannot format duration ${ms}: expected a non-negative integer of ms`);
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  (['h', 'm', 's', 'ms'] as const).forEach((suffix, index) => {
    const unit = UNIT_MS[index]!;
    const count = Math.floor(rest / unit);
    if (count > 0) text += `${count}${suffix}`;
    rest -= count * unit;
  });
  return text;
}
