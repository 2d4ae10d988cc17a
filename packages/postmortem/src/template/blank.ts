import { assertInstant, type PostMortem } from '../model/schema.js';

export interface TemplateOptions {
  /** When the draft is created: an ISO date-time with offset. */
  readonly now: string;
  readonly title?: string;
}

const DAY = 86_400_000;
const dateOnly = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * A post-mortem with every section and a prompt in each, in the shape the reviewer expects.
 * Prompts are in braces; the reviewer flags what is left unfilled.
 */
export function blankPostMortem(options: TemplateOptions): PostMortem {
  assertInstant(options.now, 'blankPostMortem: now');
  const title = options.title ?? '{Customers unable to ... for N minutes in REGION}';
  return {
    frontMatter: {
      title,
      status: 'draft',
      severity: 'SEV-2',
      timezone: 'UTC',
      draft_created_at: options.now,
      security_sensitive: false,
      distribution: 'internal',
      tags: [],
    },
    extraFrontMatter: {},
    preamble: `# ${title}`,
    summary:
      '{One sentence on what the service does. When it happened (with time zone), how many customers were affected and how, for how long (first impact to full recovery), the high-level cause, how it was resolved, and what customers were told.}',
    context: '{A short architecture overview, links to dashboards and deployment records, and every acronym spelled out.}',
    timeline: {
      intro: 'All times UTC.',
      entries: [
        { time: '00:00', text: '{The first trigger: a deployment, a configuration change, a traffic spike}', milestone: true },
        { time: '00:00', text: '{Detection: the alert or report}', milestone: true },
        { time: '00:00', text: '{Escalation}', milestone: true },
        { time: '00:00', text: '{Mitigation}', milestone: true },
        { time: '00:00', text: '{Resolution: back to baseline}', milestone: true },
      ],
      outro: '',
    },
    metrics: { intro: '{Graphs over the same time range, axes labelled with units, key events marked.}', figures: [], outro: '' },
    customerImpact: '{Counts, percentages, durations and money. If numbers are estimates, say how they were estimated.}',
    rootCause: {
      branches: [
        {
          title: 'Primary chain (1.x)',
          intro: '',
          ordered: true,
          whys: [{ number: '1', question: '{Why did customers see ...?}', answer: '{Because ...}' }],
          outro: '',
        },
        {
          title: 'Detection (2.x)',
          intro: '',
          ordered: false,
          whys: [{ number: '2.1', question: '{Why did detection take as long as it did?}', answer: '{Because ...}' }],
          outro: '',
        },
        {
          title: 'Mitigation (3.x)',
          intro: '',
          ordered: false,
          whys: [{ number: '3.1', question: '{Why did mitigation take as long as it did?}', answer: '{Because ...}' }],
          outro: '',
        },
      ],
    },
    responseAnalysis: {
      intro: '',
      parts: [
        { title: 'Detection', body: '{How was it discovered? How could it have been detected in half the time?}' },
        { title: 'Diagnosis', body: '{How long from "something is wrong" to "we know what is wrong"? What would have made it faster?}' },
        { title: 'Mitigation', body: '{How long from diagnosis to recovery? What would have made it faster?}' },
        { title: 'Blast radius', body: '{What share of customers and systems was affected? How could it have been halved?}' },
      ],
    },
    postIncident: '{How the root cause was found after the incident, which techniques helped, and how long it took.}',
    lessons: { intro: '', ordered: true, items: [{ number: 1, text: '{A principle other teams can apply}' }], outro: '' },
    actions: {
      intro: '',
      items: [
        {
          id: '1',
          description: '{A specific change}',
          owner: '{one person}',
          deadline: dateOnly(Date.parse(options.now) + 30 * DAY),
          priority: 'High',
          lessons: [1],
          status: 'open',
          link: '',
        },
      ],
      outro: '',
    },
    review: '{Who reviewed it, when, and the bar raiser from another team.}',
    otherSections: [],
  };
}
