import { z } from 'zod';
import { defineRule, type Report } from '../rule.js';
import { findPhrase } from '../text.js';
import { phrases } from './options.js';

export const whysStopAtBlame = defineRule({
  id: 'whys-stop-at-blame',
  severity: 'error',
  summary: 'A chain of whys ends at "human error", "process failure", "legacy system" or a person\'s mistake.',
  why: 'Humans, processes and old systems are involved in every incident; naming them explains nothing and invites blame instead of change.',
  hint: 'Ask once more: why was the mistake possible, and what change to the system would make it impossible or harmless?',
  options: z
    .object({
      blame: phrases([
        'human error',
        'operator error',
        'user error',
        'engineer error',
        'process failure',
        'legacy system',
        'legacy code',
        'made a mistake',
        'careless*',
        'should have known',
        'the previous team',
        'did not follow',
        'failed to follow',
      ]),
    })
    .strict(),
  check(context, options) {
    const reports: Report[] = [];
    (context.doc.rootCause?.branches ?? []).forEach((branch, b) => {
      const last = branch.whys.at(-1);
      if (!last) return;
      const blame = findPhrase(`${last.question} ${last.answer}`, options.blame);
      if (blame) {
        reports.push({
          message: `the chain "${branch.title ?? 'root cause'}" stops at "${blame.phrase}"`,
          at: context.at(`/rootCause/branches/${b}/whys/${branch.whys.length - 1}`),
        });
      }
    });
    return reports;
  },
});
