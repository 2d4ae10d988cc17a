import type { TimelineEntry } from '../model/schema.js';

const DAY = 24 * 60;

/** Milliseconds since the epoch of an ISO date-time with offset, or of a YYYY-MM-DD (midnight UTC); undefined if unreadable. */
export function instant(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const value = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Date.parse(text);
  return Number.isNaN(value) ? undefined : value;
}

export const isDate = (text: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(text.trim()) && instant(text) !== undefined;

/** UTC, GMT, Z and +00:00 are one zone; everything else compares as written. */
export function normaliseZone(zone: string): string {
  const upper = zone
    .trim()
    .toUpperCase()
    .replace(/^(?:ALL TIMES (?:ARE |IN )?)/, '');
  if (['UTC', 'GMT', 'Z', '+00:00', '+0000', '-00:00'].includes(upper)) return 'UTC';
  return upper.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
}

/**
 * Minutes of each entry on one axis: entries with a date use it; entries without one follow the
 * previous entry and wrap past midnight. Entries without a time are undefined.
 */
export function entryMinutes(entries: readonly TimelineEntry[]): (number | undefined)[] {
  let previous: number | undefined;
  return entries.map((entry) => {
    const match = entry.time ? /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(entry.time) : null;
    if (!match) return undefined;
    let minutes = Number(match[1]) * 60 + Number(match[2]) + Number(match[3] ?? 0) / 60;
    const day = entry.date ? instant(entry.date) : undefined;
    if (day !== undefined) minutes += day / 60_000;
    else if (previous !== undefined) {
      minutes += Math.floor(previous / DAY) * DAY;
      if (minutes < previous) minutes += DAY;
    }
    previous = minutes;
    return minutes;
  });
}
