import type { PostMortem } from '../../model/schema.js';
import { normaliseZone } from '../time.js';

/** The zone the timeline declares ("All times UTC."), else the front matter's `timezone`. */
export function declaredZone(doc: PostMortem): string | undefined {
  const intro = doc.timeline?.intro ?? '';
  const match = /all times (?:are |in )?((?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?|[A-Z]{2,5}|[+-]\d{2}:?\d{2})\b/i.exec(intro);
  const zone = match?.[1] ?? doc.frontMatter.timezone;
  return zone ? normaliseZone(zone) : undefined;
}
