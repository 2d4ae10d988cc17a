import fc from 'fast-check';
import type { ActionItem, Branch, FrontMatter, PostMortem, TimelineEntry } from '../../src/index.js';

/**
 * Canonical documents: what `render` writes and a person could have written. Prose is plain sentences
 * (Markdown structure inside prose is the parser's job in the fuzz tests, not the law's).
 */
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const words = (min: number, max: number) => fc.array(word, { minLength: min, maxLength: max }).map((w) => w.join(' '));
const sentence = words(1, 7).map((w) => `${capital(w)}.`);
const paragraph = fc.array(sentence, { minLength: 1, maxLength: 3 }).map((s) => s.join(' '));
const prose = fc.array(paragraph, { maxLength: 3 }).map((p) => p.join('\n\n'));
const name = fc.array(word.map(capital), { minLength: 1, maxLength: 3 }).map((w) => w.join(' '));
const two = (n: number) => String(n).padStart(2, '0');
const day = fc
  .record({ y: fc.integer({ min: 2020, max: 2030 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }) })
  .map(({ y, m, d }) => `${y}-${two(m)}-${two(d)}`);
const clock = fc
  .record({ h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }) })
  .map(({ h, m }) => `${two(h)}:${two(m)}`);
const instant = fc.tuple(day, clock, fc.constantFrom('Z', '+02:00', '-08:00')).map(([d, c, z]) => `${d}T${c}:00${z}`);

const frontMatter: fc.Arbitrary<FrontMatter> = fc.record(
  {
    title: fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
    status: fc.constantFrom('draft', 'in-review', 'published', 'closed'),
    severity: fc.constantFrom('SEV-1', 'SEV-2', 'SEV-3'),
    service: word,
    incident_start: instant,
    impact_start: instant,
    detected_at: instant,
    mitigated_at: instant,
    resolved_at: instant,
    timezone: fc.constantFrom('UTC', 'PST', 'Europe/Berlin'),
    authors: fc.array(name, { maxLength: 3 }),
    owner_team: name,
    reviewers: fc.record({ bar_raiser: name, members: fc.array(name, { maxLength: 2 }) }, { requiredKeys: [] }),
    draft_created_at: instant,
    published_at: instant,
    security_sensitive: fc.boolean(),
    distribution: fc.constantFrom('restricted', 'internal', 'public'),
    customer_communication: fc.string(),
    tags: fc.array(word, { maxLength: 4 }),
  },
  { requiredKeys: ['title', 'status'] },
);

const entry: fc.Arbitrary<TimelineEntry> = fc.record(
  { date: day, time: clock, zone: fc.constantFrom('UTC', 'PST', 'Z', '+02:00'), text: sentence, milestone: fc.boolean() },
  { requiredKeys: ['time', 'text', 'milestone'] },
);

const question = words(1, 6).map((w) => `Why ${w}?`);
const branch = (title: fc.Arbitrary<string | null>): fc.Arbitrary<Branch> =>
  fc
    .record({
      title,
      intro: prose,
      ordered: fc.boolean(),
      whys: fc.array(fc.record({ question, answer: fc.oneof(sentence, fc.constant('')) }), { maxLength: 7 }),
      outro: prose,
      dotted: fc.boolean(),
    })
    .map(({ title, intro, ordered, whys, outro, dotted }) => ({
      title,
      intro,
      ordered: ordered && whys.length > 0,
      whys: whys.map((why, i) => ({ ...why, number: ordered ? String(i + 1) : dotted ? `2.${i + 1}` : null })),
      outro: whys.length > 0 ? outro : '',
    }));

const action: fc.Arbitrary<ActionItem> = fc.record({
  id: fc.nat({ max: 99 }).map(String),
  description: fc.oneof(
    sentence,
    sentence.map((s) => `${s} | piped`),
  ),
  owner: fc.oneof(name, fc.constant('')),
  deadline: fc.oneof(day, fc.constant('')),
  priority: fc.constantFrom('High', 'Medium', 'Low', ''),
  lessons: fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 3 }),
  status: fc.constantFrom('open', 'done', 'in progress', ''),
  link: fc.oneof(
    word.map((w) => `https://tracker.example.com/${w}`),
    fc.constant(''),
  ),
});

/** A list section whose outro exists only when the list does (without a list, all text is the intro). */
const listed = <T>(items: fc.Arbitrary<T[]>) =>
  fc
    .record({ intro: prose, items, outro: prose })
    .map(({ intro, items, outro }) => ({ intro, items, outro: items.length > 0 ? outro : '' }));

export const postMortem: fc.Arbitrary<PostMortem> = fc.record(
  {
    frontMatter,
    extraFrontMatter: fc.dictionary(
      word.map((w) => `x_${w}`),
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(word, { maxLength: 3 })),
      { maxKeys: 3 },
    ),
    preamble: fc.oneof(
      fc.constant(''),
      words(1, 5).map((w) => `# ${capital(w)}`),
    ),
    summary: prose,
    context: prose,
    timeline: listed(fc.array(entry, { maxLength: 8 })).map(({ intro, items, outro }) => ({ intro, entries: items, outro })),
    metrics: listed(
      fc.array(fc.record({ alt: words(0, 4), src: word.map((w) => `img/${w}.png`), caption: fc.oneof(sentence, fc.constant('')) }), {
        maxLength: 3,
      }),
    ).map(({ intro, items, outro }) => ({ intro, figures: items, outro })),
    customerImpact: prose,
    rootCause: fc
      .tuple(fc.option(branch(fc.constant(null)), { nil: undefined }), fc.array(branch(words(1, 4).map(capital)), { maxLength: 3 }))
      .map(([head, rest]) => ({ branches: [...(head && (head.intro !== '' || head.whys.length > 0) ? [head] : []), ...rest] })),
    responseAnalysis: fc.record({
      intro: prose,
      parts: fc.array(fc.record({ title: words(1, 3).map(capital), body: prose }), { maxLength: 4 }),
    }),
    postIncident: prose,
    lessons: fc
      .record({ intro: prose, ordered: fc.boolean(), texts: fc.array(sentence, { maxLength: 5 }), outro: prose })
      .map(({ intro, ordered, texts, outro }) => ({
        intro,
        ordered: ordered && texts.length > 0,
        items: texts.map((text, i) => ({ number: ordered ? i + 1 : null, text })),
        outro: texts.length > 0 ? outro : '',
      })),
    actions: fc.record({ intro: prose, items: fc.array(action, { maxLength: 5 }), outro: prose }),
    review: prose,
    otherSections: fc.array(fc.record({ title: word.map((w) => `Appendix ${w}`), body: prose }), { maxLength: 2 }),
  },
  { requiredKeys: ['frontMatter', 'extraFrontMatter', 'preamble', 'otherSections'] },
);
