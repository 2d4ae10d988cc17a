import { defineRule } from '../rule.js';
import { eachAction } from './each-action.js';
import { none } from './options.js';

export const actionNoOwner = defineRule({
  id: 'action-no-owner',
  severity: 'error',
  summary: 'An action item has no owner.',
  why: 'An action nobody owns is a wish.',
  hint: 'Name the person responsible for completing it.',
  options: none,
  check: (context) => eachAction(context, 'owner', (action) => (action.owner.trim() === '' ? 'has no owner' : undefined)),
});
