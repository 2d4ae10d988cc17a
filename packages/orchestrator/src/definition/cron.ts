import { Cron } from 'croner';

/**
 * `cron_trigger` text: 5 fields (minute precision), 6 (seconds first) or 7 (seconds first, year
 * last: Formicary's `0 * * * * * *`), optionally after `TZ=<IANA zone> ` or `CRON_TZ=<zone> `
 * (default UTC). Quartz-style steps such as `0/30` are read as `0-59/30`.
 */
const ZONE_PREFIX = /^(?:CRON_)?TZ=(\S+)\s+/;

/** The schedule a `cron_trigger` describes; throws an Error saying what is wrong with the text. */
export function cronSchedule(trigger: string): Cron {
  const zone = ZONE_PREFIX.exec(trigger.trim());
  const pattern = zone ? trigger.trim().slice(zone[0].length) : trigger.trim();
  const cron = new Cron(pattern, { paused: true, timezone: zone?.[1] ?? 'UTC', sloppyRanges: true });
  // croner checks the zone only when it computes a date: ask once, so a bad zone fails here.
  cron.nextRun(new Date(0));
  return cron;
}

/** The latest slot at or before `at` (undefined when the pattern has none, e.g. a year long past). */
export function cronSlotAt(cron: Cron, at: Date): Date | undefined {
  return cron.previousRuns(1, new Date(at.getTime() + 1))[0];
}

/** The message validation gives for a `cron_trigger` croner cannot read, or undefined when it can. */
export function cronProblem(trigger: string): string | undefined {
  try {
    cronSchedule(trigger);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `not a cron schedule (5 fields, or 6-7 with seconds first and year last; TZ=<zone> prefix): ${message}`;
  }
}
