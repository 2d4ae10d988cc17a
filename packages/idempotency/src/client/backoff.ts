/** Retry-After as milliseconds: delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** 409 (in progress), 429 and 5xx mean "later"; 501 and 505 will never change, nor will 400 or 422. */
export function retryableStatus(status: number): boolean {
  return status === 409 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}
