import { z } from 'zod';
import { PostmortemInputError } from '../input.js';

export const STATUSES = ['draft', 'in-review', 'published', 'closed'] as const;
export const DISTRIBUTIONS = ['restricted', 'internal', 'public'] as const;

/** An instant with an explicit UTC offset: a post-mortem read in another time zone must not shift. */
export const Instant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/, 'an ISO 8601 date-time with an offset');

const Name = z.string().min(1);

/** The templates a document may declare it follows (`template:`); each has a lint preset of the same name. */
export const TEMPLATES = ['google-sre', 'pagerduty', 'atlassian', 'aws-coe'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

/** One reviewer in the list form: a name, or a person with flags (`{ name, bar_raiser: true }`). */
const Reviewer = z.union([
  Name,
  z.object({ name: Name, bar_raiser: z.boolean().optional(), team: Name.optional(), role: Name.optional() }).strict(),
]);

/**
 * Every field is optional in the model so a draft or a broken document still parses;
 * the parser reports the required ones (title, status) and the reviewer the rest.
 */
export const FrontMatterSchema = z.object({
  title: Name.optional(),
  status: z.enum(STATUSES).optional(),
  severity: Name.optional(),
  service: Name.optional(),
  incident_start: Instant.optional(),
  impact_start: Instant.optional(),
  detected_at: Instant.optional(),
  mitigated_at: Instant.optional(),
  resolved_at: Instant.optional(),
  timezone: Name.optional(),
  authors: z.array(Name).optional(),
  owner_team: Name.optional(),
  // Either `{ bar_raiser, members }` or a list of people, the bar raiser flagged `bar_raiser: true`.
  reviewers: z.union([z.object({ bar_raiser: Name.optional(), members: z.array(Name).optional() }).strict(), z.array(Reviewer)]).optional(),
  template: z.enum(TEMPLATES).optional(),
  draft_created_at: Instant.optional(),
  published_at: Instant.optional(),
  security_sensitive: z.boolean().optional(),
  distribution: z.enum(DISTRIBUTIONS).optional(),
  customer_communication: z.string().optional(),
  tags: z.array(Name).optional(),
});
export type FrontMatter = z.infer<typeof FrontMatterSchema>;
/** The reviewers whichever way they were written: the bar raisers, then everyone else. */
export function reviewersOf(frontMatter: FrontMatter): { barRaisers: string[]; others: string[] } {
  const reviewers = frontMatter.reviewers;
  if (reviewers === undefined) return { barRaisers: [], others: [] };
  if (!Array.isArray(reviewers)) return { barRaisers: reviewers.bar_raiser ? [reviewers.bar_raiser] : [], others: reviewers.members ?? [] };
  const people = reviewers.map((r) => (typeof r === 'string' ? { name: r, bar_raiser: false } : r));
  return {
    barRaisers: people.filter((p) => p.bar_raiser === true).map((p) => p.name),
    others: people.filter((p) => p.bar_raiser !== true).map((p) => p.name),
  };
}

export const FRONT_MATTER_KEYS = Object.keys(FrontMatterSchema.shape) as (keyof FrontMatter)[];
export const REQUIRED_FRONT_MATTER: readonly (keyof FrontMatter)[] = ['title', 'status'];

export const TimelineEntrySchema = z.object({
  /** YYYY-MM-DD when the entry carries a date. */
  date: z.string().optional(),
  /** HH:MM or HH:MM:SS; null when the item does not start with a time (reported by the parser). */
  time: z.string().nullable(),
  /** The zone written on the entry itself (PST, UTC, +02:00). */
  zone: z.string().optional(),
  text: z.string(),
  /** Written in bold: a major milestone or customer-facing event. */
  milestone: z.boolean(),
});
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

export const FigureSchema = z.object({ alt: z.string(), src: z.string(), caption: z.string() });
export type Figure = z.infer<typeof FigureSchema>;

export const WhySchema = z.object({
  /** "4" in an ordered list, "2.1" when written as a prefix; null when the why is an unnumbered bullet. */
  number: z.string().nullable(),
  question: z.string(),
  answer: z.string(),
});
export type Why = z.infer<typeof WhySchema>;

export const BranchSchema = z.object({
  /** The H3 heading of the branch; null for whys written directly under the section heading. */
  title: z.string().nullable(),
  intro: z.string(),
  ordered: z.boolean(),
  whys: z.array(WhySchema),
  outro: z.string(),
});
export type Branch = z.infer<typeof BranchSchema>;

export const LessonSchema = z.object({ number: z.number().int().nullable(), text: z.string() });
export type Lesson = z.infer<typeof LessonSchema>;

export const ActionItemSchema = z.object({
  id: z.string(),
  description: z.string(),
  owner: z.string(),
  deadline: z.string(),
  priority: z.string(),
  lessons: z.array(z.number().int()),
  status: z.string(),
  link: z.string(),
});
export type ActionItem = z.infer<typeof ActionItemSchema>;

export const SubsectionSchema = z.object({ title: z.string(), body: z.string() });
export type Subsection = z.infer<typeof SubsectionSchema>;

export const PostMortemSchema = z.object({
  frontMatter: FrontMatterSchema,
  /** Front-matter keys this model does not know, kept so rendering loses nothing. */
  extraFrontMatter: z.record(z.string(), z.json()),
  /** Everything between the front matter and the first section (usually the H1). */
  preamble: z.string(),
  summary: z.string().optional(),
  context: z.string().optional(),
  timeline: z.object({ intro: z.string(), entries: z.array(TimelineEntrySchema), outro: z.string() }).optional(),
  metrics: z.object({ intro: z.string(), figures: z.array(FigureSchema), outro: z.string() }).optional(),
  customerImpact: z.string().optional(),
  rootCause: z.object({ branches: z.array(BranchSchema) }).optional(),
  responseAnalysis: z.object({ intro: z.string(), parts: z.array(SubsectionSchema) }).optional(),
  postIncident: z.string().optional(),
  lessons: z.object({ intro: z.string(), ordered: z.boolean(), items: z.array(LessonSchema), outro: z.string() }).optional(),
  actions: z.object({ intro: z.string(), items: z.array(ActionItemSchema), outro: z.string() }).optional(),
  review: z.string().optional(),
  otherSections: z.array(SubsectionSchema),
});
export type PostMortem = z.infer<typeof PostMortemSchema>;

/** The JSON Schema (draft 2020-12) of the document model, generated from the same zod schema the code validates with. */
export function postMortemJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PostMortemSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** Checks a model handed in from outside; the error names the first bad field (`timeline.entries.3.time: ...`). */
export function assertPostMortem(doc: unknown, where: string): asserts doc is PostMortem {
  const checked = PostMortemSchema.safeParse(doc);
  if (checked.success) return;
  const issue = checked.error.issues[0];
  throw new PostmortemInputError(`${where}: ${issue?.path.join('.') || 'the document'}: ${issue?.message ?? 'invalid'}`);
}

/** Checks an instant handed in from outside. */
export function assertInstant(value: unknown, where: string): asserts value is string {
  if (!Instant.safeParse(value).success)
    throw new PostmortemInputError(`${where} must be an ISO 8601 date-time with an offset, got ${JSON.stringify(value)}`);
}
