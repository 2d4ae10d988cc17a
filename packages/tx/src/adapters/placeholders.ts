import type { Driver } from './driver.js';

/** SQL written with `?` markers, turned into the driver's own (`$1, $2...` for pg). */
export function withPlaceholders(driver: Pick<Driver, 'placeholder'>, text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => driver.placeholder(++n));
}
