import { defineRule, type Report } from '../rule.js';
import { none } from './options.js';

export const whysNotNumbered = defineRule({
  id: 'whys-not-numbered',
  severity: 'warning',
  summary: 'The Five Whys are bullets, not numbered (1., 2. or 1.1, 2.1 for branches).',
  why: 'Reviewers refer to whys by number ("why #4 stops too early"); bullets make every discussion of the analysis imprecise.',
  hint: 'Use a numbered list for the primary chain and 2.x / 3.x prefixes for the detection and mitigation branches.',
  options: none,
  check(context) {
    const reports: Report[] = [];
    (context.doc.rootCause?.branches ?? []).forEach((branch, b) => {
      const i = branch.whys.findIndex((why) => why.number === null);
      if (i >= 0)
        reports.push({
          message: `branch "${branch.title ?? 'root cause'}" has unnumbered whys`,
          at: context.at(`/rootCause/branches/${b}/whys/${i}`),
        });
    });
    return reports;
  },
});
