import { z } from 'zod';
import { defineRule } from '../rule.js';
import { findPhrase } from '../text.js';
import { eachAction } from './each-action.js';
import { phrases } from './options.js';

export const actionOwnerIsTeam = defineRule({
  id: 'action-owner-is-team',
  severity: 'error',
  summary: 'An action item is owned by a team ("SRE team", the owning team) instead of a person.',
  why: 'When a team owns an action, nobody does; a named person may delegate the work but owns the outcome.',
  hint: 'Name one person as owner.',
  options: z
    .object({
      teamWords: phrases([
        'team',
        'squad',
        'sre',
        'ops',
        'devops',
        'on-call',
        'oncall',
        'engineering',
        'department',
        'group',
        'platform',
        'infra',
        'everyone',
      ]),
      teams: z.array(z.string().min(1)).default([]),
    })
    .strict(),
  check(context, options) {
    const teams = [...options.teams, context.doc.frontMatter.owner_team].filter((t): t is string => !!t).map((t) => t.toLowerCase());
    return eachAction(context, 'owner', (action) => {
      const owner = action.owner.trim();
      if (owner === '') return undefined;
      return teams.includes(owner.toLowerCase()) || findPhrase(owner, options.teamWords)
        ? `owner "${owner}" is a team, not a person`
        : undefined;
    });
  },
});
