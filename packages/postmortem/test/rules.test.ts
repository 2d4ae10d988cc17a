import { describe, expect, it } from 'vitest';
import { lint, resolveConfig } from '../src/index.js';
import { variant } from './support/fixtures.js';

/** The ids of the rules a document triggers, under an optional organisation configuration. */
function rulesOf(text: string, rules?: Record<string, unknown>): string[] {
  return [...new Set(lint(text, resolveConfig(rules ? { rules } : undefined)).map((f) => f.rule))];
}

const ROW2 =
  '| 2 | Alert at 80% PgBouncer server connection use for every service behind PgBouncer | Maya Lindqvist | 2026-11-27 | Medium | 1 | open |';

describe('title-names-cause', () => {
  it('flags a title that names no customer-facing effect', () => {
    expect(rulesOf(variant(['title: Shoppers unable', 'title: Release 4.18.0 of order-api in EU-WEST #']))).toEqual(['title-names-cause']);
  });
  it('accepts a title made of the configured impact words', () => {
    const title = variant(['title: Shoppers unable to place orders for 41 minutes in EU-WEST', 'title: Checkout wobbles for 41 minutes']);
    expect(rulesOf(title)).toEqual(['title-names-cause']);
    expect(rulesOf(title, { 'title-names-cause': { impactWords: ['wobbles'] } })).toEqual([]);
  });
});

describe('summary-incomplete', () => {
  it('lists every missing element', () => {
    const text = variant(
      [' The failures were caused by a release', ' The failures followed a release'],
      ['41 minutes of customer impact', 'the morning'],
    );
    const finding = lint(text).find((f) => f.rule === 'summary-incomplete');
    expect(finding?.message).toBe('the summary does not state: duration, cause');
  });
  it('only requires what the organisation requires', () => {
    const text = variant([' We posted two status page\nupdates and briefed the support team at 09:30 UTC.', '']);
    expect(rulesOf(text, { 'summary-incomplete': { require: ['cause', 'impact'] } })).toEqual([]);
  });
});

describe('impact-vague', () => {
  it('flags an impact without numbers, on its line', () => {
    const text = variant([
      '18,400 order submissions failed between 09:14 and 09:55 UTC, 96% of all attempts in EU-WEST, about\nEUR 610,000 in baskets. 2,100 shoppers retried successfully after 09:55 UTC.',
      'Order submissions failed between 09:14 and 09:55 UTC.',
    ]);
    const findings = lint(text).filter((f) => f.rule === 'impact-vague');
    expect(findings.map((f) => f.message)).toEqual(['the customer impact gives no numbers']);
    expect(findings[0]?.line).toBe(
      text.split('\n').indexOf('Order submissions failed between 09:14 and 09:55 UTC. Other regions were not affected.') + 1,
    );
  });
  it('reports the line of a vague phrase inside a multi-line paragraph', () => {
    const text = variant(['EUR 610,000 in baskets.', 'EUR 610,000 in baskets, a significant loss.']);
    const finding = lint(text).find((f) => f.rule === 'impact-vague');
    expect(finding?.line).toBe(text.split('\n').findIndex((line) => line.includes('a significant loss')) + 1);
  });
});

describe('timeline rules', () => {
  it('treats UTC, GMT, Z and +00:00 as one zone', () => {
    expect(rulesOf(variant(['- 09:17 - Error rate', '- 09:17 +00:00 - Error rate'], ['- 09:19 - **Auto', '- 09:19 GMT - **Auto']))).toEqual(
      [],
    );
  });
  it('compares entries with each other when the timeline declares no zone', () => {
    const text = variant(
      ['All times UTC.\n', ''],
      ['timezone: UTC\n', ''],
      ['- 09:17 - Error rate', '- 09:17 CET - Error rate'],
      ['- 09:19 - **Auto', '- 09:19 EST - **Auto'],
    );
    expect(rulesOf(text)).toEqual(['timeline-mixed-timezones']);
  });
  it('accepts a long gap that an entry explains, and a threshold the organisation raised', () => {
    const gap = ['- 09:58 - On-call engineer posts the all-clear', '- 10:15 - On-call engineer posts the all-clear'] as [string, string];
    expect(rulesOf(variant(gap))).toEqual(['timeline-gap']);
    expect(
      rulesOf(
        variant(
          ['- 10:15 - On-call engineer posts the all-clear', '- 10:15 - After monitoring, the on-call engineer posts the all-clear'].map(
            (s, i) => (i === 0 ? gap[0] : s),
          ) as [string, string],
        ),
      ),
    ).toEqual([]);
    expect(rulesOf(variant(gap), { 'timeline-gap': { maxMinutes: 30 } })).toEqual([]);
  });
  it('counts a gap across midnight', () => {
    const text = variant(
      ['- 09:55 - **Order error rate', '- 23:55 - **Order error rate'],
      ['- 09:58 - On-call engineer posts', '- 00:20 - On-call engineer posts'],
    );
    const messages = lint(text)
      .filter((f) => f.rule === 'timeline-gap')
      .map((f) => f.message);
    expect(messages).toContain('25 minutes pass between 23:55 and 00:20 without an explanation');
  });
  it('flags names from the organisation list as well as the document', () => {
    const text = variant(['- 09:30 - Support lead briefs', '- 09:30 - Grace briefs']);
    expect(rulesOf(text)).toEqual([]);
    expect(rulesOf(text, { 'timeline-names-people': { names: ['Grace Hopper', 'Grace'] } })).toEqual(['timeline-names-people']);
  });
  it('does not take a first name out of a word ("Mayan" is not Maya)', () => {
    expect(rulesOf(variant(['- 09:30 - Support lead briefs', '- 09:30 - Mayan support lead briefs']))).toEqual([]);
  });
  it('names each missing milestone', () => {
    const text = variant(
      ['escalates to SEV-1 and pages the incident commander', 'opens a bridge call'],
      ['Incident commander decides', 'Team decides'],
    );
    expect(lint(text).find((f) => f.rule === 'timeline-missing-milestones')?.message).toBe('the timeline has no escalation entry');
  });
  it('lets the organisation say what counts as an alert', () => {
    const text = variant([
      '- 09:12 - **Release 4.18.0 of order-api starts rolling out to the canary hosts**',
      '- 09:12 - **Pager duty bot opens ticket**',
    ]);
    expect(rulesOf(text)).toEqual([]);
    expect(rulesOf(text, { 'timeline-starts-late': { alertWords: ['ticket'] } })).toEqual(['timeline-starts-late']);
  });
});

describe('root cause rules', () => {
  it('asks for more whys when the organisation sets a higher bar', () => {
    expect(rulesOf(variant(), { 'whys-too-shallow': { minWhys: 7 } })).toEqual(['whys-too-shallow']);
  });
  it('flags a missing mitigation branch', () => {
    const text = variant(['### Mitigation (3.x)', '### Other factors'], ['- 3.1 Why', '- 4.1 Why'], ['- 3.2 Why', '- 4.2 Why']);
    expect(lint(text).find((f) => f.rule === 'whys-too-shallow')?.message).toBe('the root cause analysis has no mitigation branch');
  });
  it('classifies an untitled branch by the numbers of its whys', () => {
    expect(rulesOf(variant(['### Mitigation (3.x)', '### Why recovery was slow']))).toEqual([]);
  });
  it('finds blame in the last why only', () => {
    expect(
      rulesOf(
        variant(['-> A production rollback needs a second approver, who was in a meeting.', '-> Process failure, on the face of it.']),
      ),
    ).toEqual([]);
    expect(rulesOf(variant(['No one owns test-data fidelity', 'The legacy system means no one owns test-data fidelity']))).toEqual([
      'whys-stop-at-blame',
    ]);
  });
});

describe('lesson rules', () => {
  it('uses the configured similarity threshold', () => {
    const text = variant([
      '3. Emergency rollbacks must be faster and cheaper than the releases they undo.',
      '3. The incident commander should approve rollbacks quickly.',
    ]);
    expect(rulesOf(text)).toEqual([]);
    expect(rulesOf(text, { 'lesson-restates-action': { threshold: 0.25 } })).toEqual(['lesson-restates-action']);
  });
  it('flags lessons written as prose', () => {
    const text = variant(['1. Every constrained', 'Every constrained'], ['2. Test data', 'Test data'], ['3. Emergency', 'Emergency']);
    expect(rulesOf(text)).toEqual(['lessons-not-numbered']);
  });
});

describe('action rules', () => {
  it('flags a deadline that is not a date', () => {
    expect(lint(variant([ROW2, ROW2.replace('2026-11-27', 'end of Q4')])).map((f) => f.message)).toEqual([
      'action 2: deadline "end of Q4" is not a date (YYYY-MM-DD)',
    ]);
  });
  it('measures the deadline from the draft when unpublished, with the configured limit', () => {
    const text = variant(['published_at: 2026-11-06T10:00:00Z\n', ''], ['status: published', 'status: in-review']);
    expect(rulesOf(text)).toEqual([]);
    expect(rulesOf(text, { 'action-deadline-too-far': { maxDays: 30 } })).toEqual(['action-deadline-too-far']);
  });
  it('flags a priority outside the configured set, and accepts a custom set', () => {
    const text = variant([ROW2, ROW2.replace('Medium', 'P2')]);
    expect(rulesOf(text)).toEqual(['action-no-priority']);
    expect(rulesOf(text, { 'action-no-priority': { priorities: ['High', 'Medium', 'Low', 'P2'] } })).toEqual([]);
  });
  it('flags the owning team and configured team names', () => {
    expect(rulesOf(variant([ROW2, ROW2.replace('Maya Lindqvist', 'Checkout Platform')]))).toEqual(['action-owner-is-team']);
    const text = variant([ROW2, ROW2.replace('Maya Lindqvist', 'Hydra')]);
    expect(rulesOf(text)).toEqual([]);
    expect(rulesOf(text, { 'action-owner-is-team': { teams: ['Hydra'] } })).toEqual(['action-owner-is-team']);
  });
  it('flags a reference to a lesson that does not exist', () => {
    expect(lint(variant([ROW2, ROW2.replace('| Medium | 1 |', '| Medium | 1, 9 |')])).map((f) => f.message)).toEqual([
      'action 2: refers to lesson 9, which does not exist',
    ]);
  });
  it('accepts "Look into" only when it is not the first words', () => {
    expect(rulesOf(variant([ROW2, ROW2.replace('Alert at 80%', 'Look into alerting at 80%')]))).toEqual(['action-investigate']);
    expect(rulesOf(variant([ROW2, ROW2.replace('Alert at 80%', 'Alert (after we look into it) at 80%')]))).toEqual([]);
  });
});

describe('review rules', () => {
  it('does not ask a draft for a bar raiser, but flags a bar raiser who is an author', () => {
    expect(rulesOf(variant(['  bar_raiser: Priya Raman\n', ''], ['status: published', 'status: draft']))).toEqual([]);
    expect(lint(variant(['bar_raiser: Priya Raman', 'bar_raiser: Maya Lindqvist'])).map((f) => f.message)).toEqual([
      'the bar raiser Maya Lindqvist is also an author',
    ]);
  });
  it('uses the configured minimum draft time', () => {
    expect(rulesOf(variant(), { 'review-draft-too-short': { minHours: 72 } })).toEqual(['review-draft-too-short']);
  });
  it('accepts a security-sensitive post-mortem with restricted distribution', () => {
    expect(
      rulesOf(variant(['security_sensitive: false', 'security_sensitive: true'], ['distribution: internal', 'distribution: restricted'])),
    ).toEqual([]);
  });
});

describe('section-missing', () => {
  it('treats an empty section as missing and honours the required list', () => {
    const text = variant([
      'Reviewed on 5 November 2026 by the authors, the Checkout Platform team and the bar raiser from the\nStorage team. Open questions from the review are answered in the Root cause analysis.\n',
      '',
    ]);
    expect(lint(text).map((f) => f.message)).toEqual(['the section "Review" is empty']);
    expect(rulesOf(text, { 'section-missing': { required: ['summary'] } })).toEqual([]);
  });

  it('recognises numbered headings, headings with a remark in parentheses, and common variants', () => {
    const text = variant(
      ['## Summary', '## 1. Summary'],
      ['## Timeline', '## 3) Timeline (all times UTC)'],
      ['## Root cause analysis', '## IV. Root causes'],
      ['## Lessons learned', '## Lessons learnt'],
    );
    expect(lint(text)).toEqual([]);
    expect(rulesOf(variant(['## Timeline', '## Timeline of events']))).toContain('section-missing');
  });
});

describe('severity overrides', () => {
  it('turns a rule off or changes its severity', () => {
    const text = variant([ROW2, ROW2.replace('Maya Lindqvist', 'SRE team')]);
    expect(rulesOf(text, { 'action-owner-is-team': 'off' })).toEqual([]);
    expect(lint(text, resolveConfig({ rules: { 'action-owner-is-team': { severity: 'note' } } }))[0]?.severity).toBe('note');
  });
});

describe('metrics-missing-units', () => {
  it('flags a graph without a caption, and accepts the units the organisation uses', () => {
    const bare = variant(['\n*Figure 1: order submission errors, percent of attempts per minute, EU-WEST.*', '']);
    expect(lint(bare).map((f) => f.message)).toEqual(['the graph img/order-error-rate.png has no caption']);
    const custom = variant(['count out of 200', 'slots out of 200']);
    expect(rulesOf(custom)).toEqual(['metrics-missing-units']);
    expect(rulesOf(custom, { 'metrics-missing-units': { units: ['slots', 'percent'] } })).toEqual([]);
  });
});

describe('response-analysis-incomplete', () => {
  it('names the missing phases, and only those the organisation requires', () => {
    const text = variant(['### Diagnosis', '### Findings'], ['### Blast radius', '### Scope']);
    expect(lint(text).map((f) => f.message)).toEqual(['the incident response analysis has no diagnosis, blast radius subsection']);
    expect(rulesOf(text, { 'response-analysis-incomplete': { phases: ['detection', 'mitigation'] } })).toEqual([]);
  });
});

describe('timeline-no-timezone', () => {
  it('is satisfied by a zone on the entries, the front matter or the timeline', () => {
    const bare = variant(['All times UTC.\n\n', ''], ['timezone: UTC\n', '']);
    expect(rulesOf(bare)).toEqual(['timeline-no-timezone']);
    expect(rulesOf(variant(['All times UTC.\n\n', '']))).toEqual([]);
    expect(
      rulesOf(variant(['All times UTC.\n\n', ''], ['timezone: UTC\n', ''], ['- 09:12 - **Release', '- 09:12 UTC - **Release'])),
    ).toEqual([]);
  });
});

describe('messages say what is wrong', () => {
  it('a timeline entry with a time but no " - " is told it lacks the separator', () => {
    const text = variant(['- 09:17 - Error rate', '- 09:17 Error rate']);
    const finding = lint(text).find((f) => f.rule === 'timeline-entry-malformed');
    expect(finding?.message).toMatch(
      /^timeline entry "09:17 Error rate.*" lacks the " - " between its time and what happened \(write "09:17 - Error rate/,
    );
    expect(finding?.message).not.toMatch(/does not start with a time/);
  });
  it('an entry without a time still says it does not start with one', () => {
    const finding = lint(variant(['- 09:17 - Error rate', '- Error rate'])).find((f) => f.rule === 'timeline-entry-malformed');
    expect(finding?.message).toMatch(/^timeline entry "Error rate.*" does not start with a time/);
  });
  it('no message prints a question mark for a missing time', () => {
    const text = variant(['- 09:17 - Error rate', '- Maya Lindqvist saw the error rate']);
    const messages = lint(text).map((f) => f.message);
    expect(messages.some((m) => m.startsWith('the entry "Maya Lindqvist saw the error'))).toBe(true);
    expect(messages.filter((m) => m.includes(' at ?'))).toEqual([]);
  });
});
