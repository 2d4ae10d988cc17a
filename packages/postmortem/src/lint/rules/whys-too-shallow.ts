import { z } from 'zod';
import { defineRule, type Report } from '../rule.js';
import { type BranchKind, branchKind, labelledBranchKinds } from './branches.js';

export const whysTooShallow = defineRule({
  id: 'whys-too-shallow',
  severity: 'error',
  summary: 'The primary chain has fewer than five whys, or there is no detection or mitigation branch.',
  why: 'Analysis that stops at the proximate cause fixes one bug; the systemic causes and the slow detection and mitigation recur.',
  hint: 'Keep asking why until you reach a change to how the organisation works, and add branches asking why detection and mitigation took as long as they did.',
  options: z
    .object({
      minWhys: z.number().int().positive().default(5),
      branches: z.array(z.enum(['detection', 'mitigation'])).default(['detection', 'mitigation']),
    })
    .strict(),
  check(context, options) {
    const rootCause = context.doc.rootCause;
    if (!rootCause) return [];
    const kinds = rootCause.branches.map(branchKind);
    const primaryIndex = Math.max(0, kinds.indexOf('primary'));
    const primary = rootCause.branches[primaryIndex];
    const reports: Report[] = [];
    const count = primary?.whys.length ?? 0;
    if (count < options.minWhys) {
      reports.push({
        message: `the primary chain has ${count} whys, fewer than ${options.minWhys}`,
        at: context.at(`/rootCause/branches/${primaryIndex}`, '/sections/rootCause'),
      });
    }
    const present = [...kinds, ...labelledBranchKinds(rootCause)];
    const missing = options.branches.filter((kind: BranchKind) => !present.includes(kind));
    if (missing.length > 0)
      reports.push({ message: `the root cause analysis has no ${missing.join(' or ')} branch`, at: context.at('/sections/rootCause') });
    return reports;
  },
});
