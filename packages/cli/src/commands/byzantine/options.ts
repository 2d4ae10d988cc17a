import { UsageError } from '../../context.js';

/** Parses a whole decimal integer or fails with a one-line usage error naming the flag. */
export function integerFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`${flag} must be an integer, got '${raw}'`);
  return Number(raw);
}

/** Parses `2,5` into [2, 5]; an empty string is no traitors. */
export function idListFlag(flag: string, raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((part) => integerFlag(flag, part.trim())!);
}

export function choiceFlag<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${raw}'`);
  return raw as T;
}
