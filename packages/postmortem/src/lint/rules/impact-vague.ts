import { z } from 'zod';
import { defineRule } from '../rule.js';
import { findAllPhrases } from '../text.js';
import { phrases } from './options.js';

export const impactVague = defineRule({
  id: 'impact-vague',
  severity: 'error',
  summary: 'Customer impact is described with vague words ("some customers", "significant") or without any number.',
  why: 'Unquantified impact cannot be compared between incidents or weighed against the cost of the action items.',
  hint: 'Give counts, percentages, durations and money: "23,000 checkout attempts failed over 23 minutes". If exact numbers are unknown, say why and give an estimate with its caveats.',
  options: z
    .object({
      vague: phrases([
        'some customers',
        'some users',
        'a few',
        'a number of',
        'several',
        'many customers',
        'many users',
        'significant*',
        'various',
        'minor impact',
        'a subset of',
        'some requests',
        'a handful',
      ]),
    })
    .strict(),
  check(context, options) {
    const impact = context.doc.customerImpact;
    if (impact === undefined) return [];
    const reports = findAllPhrases(impact, options.vague).map((match) => ({
      message: `vague impact: "${match.phrase}"`,
      at: context.within('/customerImpact', impact, match.index),
    }));
    const withoutTimes = impact.replace(/\b\d{1,2}:\d{2}(?::\d{2})?\b/g, '');
    if (!/\d/.test(withoutTimes))
      reports.push({ message: 'the customer impact gives no numbers', at: context.at('/customerImpact', '/sections/customerImpact') });
    return reports;
  },
});
