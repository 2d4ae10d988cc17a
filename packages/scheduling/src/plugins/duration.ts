import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, from a number (ms) or a string such as "30s", "5m", "1h30m". */
export const duration = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const parts = [...value.trim().matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value.replace(/\s+/g, '')) {
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a duration (use e.g. 500ms, 30s, 5m, 1h30m)` });
    return z.NEVER;
  }
  return parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * UNITS[unit!]!, 0);
});

export const resources = z.record(z.string(), z.number().nonnegative());
export const weights = z.record(z.string(), z.number().positive());
