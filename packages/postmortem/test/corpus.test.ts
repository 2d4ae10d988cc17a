import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lint, resolveConfig } from '../src/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'corpus', 'good');
const corpus = new Map(readdirSync(dir).map((file) => [file, readFileSync(join(dir, file), 'utf8')]));

/** The corpus document with each `[from, to]` applied once; fails loudly when `from` is not there exactly once. */
function flawed(file: string, ...edits: [string, string][]): string {
  let text = corpus.get(file) ?? '';
  for (const [from, to] of edits) {
    if (text.split(from).length !== 2) throw new Error(`"${from}" is not in ${file} exactly once`);
    text = text.replace(from, to);
  }
  return text;
}

const rulesOf = (text: string) => [...new Set(lint(text).map((f) => `${f.rule}`))].sort();

describe('a corpus of good post-mortems in several common shapes lints clean', () => {
  it('has at least six documents', () => {
    expect(corpus.size).toBeGreaterThanOrEqual(6);
  });
  it.each([...corpus.keys()])('%s', (file) => {
    const text = corpus.get(file)!;
    expect(lint(text).map((f) => `${f.line}: ${f.rule}: ${f.message}`)).toEqual([]);
  });
});

describe('every rule still fires on flawed variants of the new shapes', () => {
  const summaryCause =
    ' A new geofence file shipped at 17:02 listed the\nLisbon zone twice, so the matcher rejected every request that fell inside both copies.';
  const detectionParagraph = /\*\*Detection \(2\.x\)\.\*\*[\s\S]*?since traffic tripled\.\n/.exec(corpus.get('plain-sentences.md')!)![0];
  const mitigationParagraph = /\*\*Mitigation \(3\.x\)\.\*\*[\s\S]*?reads\.\n/.exec(corpus.get('plain-sentences.md')!)![0];
  const suppression = corpus
    .get('restricted-with-suppression.md')!
    .split('\n')
    .find((line) => line.startsWith('<!-- postmortem-disable'))!;

  it.each<[string, string, [string, string][], string[]]>([
    ['plain-sentences.md', 'no reviewer flagged bar_raiser', [['    bar_raiser: true\n', '']], ['review-missing-bar-raiser']],
    [
      'plain-sentences.md',
      'the bar raiser is the author',
      [['- name: Lukas Brandt', '- name: Inês Carvalho']],
      ['review-missing-bar-raiser'],
    ],
    ['plain-sentences.md', 'the summary states no cause', [[summaryCause, '']], ['summary-incomplete']],
    [
      'plain-sentences.md',
      'the summary states no resolution',
      [[' The on-call engineer put\nthe previous geofence file back at 17:38 and bookings worked again two minutes later.', '']],
      ['summary-incomplete'],
    ],
    [
      'plain-sentences.md',
      'the detection paragraph asks no why',
      [[detectionParagraph, '**Detection (2.x).** The alert was slow.\n']],
      ['whys-too-shallow'],
    ],
    ['plain-sentences.md', 'no mitigation paragraph', [[mitigationParagraph, '']], ['whys-too-shallow']],
    ['plain-sentences.md', 'an entry without " - "', [['- 17:21 - On-call', '- 17:21 On-call']], ['timeline-entry-malformed']],
    ['plain-sentences.md', 'a deadline before the incident', [['| 2026-10-24 |', '| 2025-10-24 |']], ['action-deadline-before-incident']],
    ['google-sre.md', 'no Trigger section', [['## Trigger\n', '## Cause of the surge\n']], ['section-missing']],
    [
      'google-sre.md',
      'vague impact',
      [
        ['About 31 million search requests failed', 'Some users could not search'],
        ['4.2 million against', 'a lot against'],
      ],
      ['impact-vague'],
    ],
    [
      'google-sre.md',
      'a team owns an action',
      [['| prevent | Daniel Sato |', '| prevent | Search Serving team |']],
      ['action-owner-is-team'],
    ],
    [
      'google-sre.md',
      'an action to investigate',
      [['| Shed load on memory', '| Investigate shedding load on memory']],
      ['action-investigate'],
    ],
    ['google-sre.md', 'an entry without a time', [['- 20:14 Team decides', '- Team decides']], ['timeline-entry-malformed']],
    [
      'google-sre.md',
      'an action table without owners',
      [['| Action Item | Type | Owner | Bug |', '| Action Item | Type | Who | Bug |'.replace('Who', 'Person')]],
      ['action-no-owner', 'action-table-malformed'],
    ],
    ['pagerduty.md', 'no What Happened section', [['## What Happened\n', '## Narrative\n']], ['section-missing']],
    ['pagerduty.md', 'an action without a deadline', [['| 2026-08-21 |', '|  |']], ['action-no-deadline']],
    [
      'pagerduty.md',
      'an unexplained 45-minute gap',
      [
        ['- 14:48 - Migration progress shows 40%; waiting continues\n', ''],
        ['- 15:03 - Estimate revised to 50 more minutes; monitoring the rebuild continues\n', ''],
      ],
      ['timeline-gap'],
    ],
    ['atlassian.md', 'four whys', [['5. Why was the rollout not gated', '- Why was the rollout not gated']], ['whys-too-shallow']],
    ['atlassian.md', 'no Leadup section', [['## Leadup\n', '## Before\n']], ['section-missing']],
    [
      'atlassian.md',
      'a summary without a time zone',
      [
        ['Between 02:12 and 02:59 UTC on', 'Between 02:12 and 02:59 on'],
        ['flag change at 02:10 UTC', 'flag change at 02:10'],
      ],
      ['summary-incomplete'],
    ],
    ['aws-coe.md', 'no Diagnosis question', [['### Diagnosis\n', '### Notes\n']], ['response-analysis-incomplete']],
    ['aws-coe.md', 'an action without a priority', [['| High | 2026-08-07 |', '|  | 2026-08-07 |']], ['action-no-priority']],
    [
      'aws-coe.md',
      'a graph without units',
      [
        [
          '*Figure 1: failed uploads, percent of requests per minute, ap-south, 06:00 to 07:30 UTC.*',
          '*Figure 1: failed uploads in ap-south.*',
        ],
      ],
      ['metrics-missing-units'],
    ],
    [
      'restricted-with-suppression.md',
      'a security incident shared internally',
      [['distribution: restricted', 'distribution: internal']],
      ['security-sensitive-shared'],
    ],
    [
      'restricted-with-suppression.md',
      'a suppression without a reason',
      [[suppression, '<!-- postmortem-disable-next-line whys-stop-at-blame -->']],
      ['suppression-invalid', 'whys-stop-at-blame'],
    ],
    [
      'restricted-with-suppression.md',
      'a suppression of an unknown rule',
      [[suppression, suppression.replace('whys-stop-at-blame', 'whys-stop-at-blam')]],
      ['suppression-invalid', 'whys-stop-at-blame'],
    ],
    [
      'restricted-with-suppression.md',
      'a suppression one line too high',
      [[suppression, `${suppression}\n`]],
      ['suppression-unused', 'whys-stop-at-blame'],
    ],
  ])('%s: %s', (file, _what, edits, expected) => {
    expect(rulesOf(flawed(file, ...edits))).toEqual([...expected].sort());
  });

  it('tells a Google-style entry it lacks the separator, unless its preset accepts that style', () => {
    const google = corpus.get('google-sre.md')!.replace('template: google-sre\n', '');
    const messages = lint(google)
      .filter((f) => f.rule === 'timeline-entry-malformed')
      .map((f) => f.message);
    expect(messages[0]).toBe(
      'timeline entry "19:41 The broadcast shows a search for t…" lacks the " - " between its time and what happened (write "19:41 - The broadcast shows a search f")',
    );
    expect(messages.every((m) => !m.includes('does not start with a time'))).toBe(true);
    expect(lint(google, undefined, { preset: 'google-sre' })).toEqual([]);
  });

  it("an organisation's explicit setting wins over the document's preset", () => {
    const text = corpus.get('google-sre.md')!;
    expect(lint(text, resolveConfig({ rules: { 'action-no-deadline': 'error' } })).map((f) => f.rule)).toContain('action-no-deadline');
  });
});
