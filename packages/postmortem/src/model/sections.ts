/** The sections a post-mortem has, in the order they are rendered, with the headings people write for them. */
export const SECTIONS = [
  { key: 'summary', heading: 'Summary', aliases: ['summary', 'executive summary', 'incident summary', 'overview'] },
  {
    key: 'context',
    heading: 'Service context and glossary',
    aliases: ['service context and glossary', 'service context', 'glossary', 'context'],
  },
  { key: 'timeline', heading: 'Timeline', aliases: ['timeline'] },
  { key: 'metrics', heading: 'Metrics', aliases: ['metrics', 'graphs'] },
  { key: 'customerImpact', heading: 'Customer impact', aliases: ['customer impact', 'impact', 'user impact'] },
  {
    key: 'rootCause',
    heading: 'Root cause analysis',
    aliases: ['root cause analysis', 'root cause', 'root causes', 'five whys', 'whys', 'contributing factors'],
  },
  {
    key: 'responseAnalysis',
    heading: 'Incident response analysis',
    aliases: ['incident response analysis', 'incident response', 'incident questions'],
  },
  { key: 'postIncident', heading: 'Post-incident analysis', aliases: ['post incident analysis', 'postincident analysis'] },
  { key: 'lessons', heading: 'Lessons learned', aliases: ['lessons learned', 'lessons learnt', 'lessons', 'how d we do'] },
  {
    key: 'actions',
    heading: 'Action items',
    aliases: ['action items', 'actions', 'corrective actions', 'follow up actions', 'follow up tasks'],
  },
  { key: 'review', heading: 'Review', aliases: ['review'] },
] as const;

export type SectionKey = (typeof SECTIONS)[number]['key'];
export const SECTION_KEYS: readonly SectionKey[] = SECTIONS.map((s) => s.key);

export function normaliseHeading(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The section a heading names. Templates number their headings ("3. Timeline") and people add a
 * remark ("Timeline (all times UTC)"); neither changes which section it is.
 */
export function sectionForHeading(text: string): SectionKey | undefined {
  const normal = normaliseHeading(text.replace(/^\s*(?:\d+(?:\.\d+)*[.)]?|[ivx]+[.)])\s+/i, '').replace(/\s*\([^)]*\)\s*$/, ''));
  return SECTIONS.find((s) => (s.aliases as readonly string[]).includes(normal))?.key;
}

export function headingOf(key: SectionKey): string {
  return SECTIONS.find((s) => s.key === key)?.heading ?? key;
}
