import type { ActionItem } from '../../model/schema.js';
import type { Report, RuleContext } from '../rule.js';

/** Runs a check over every action item and places its message on the cell it concerns. */
export function eachAction(context: RuleContext, field: keyof ActionItem, check: (action: ActionItem) => string | undefined): Report[] {
  const reports: Report[] = [];
  (context.doc.actions?.items ?? []).forEach((action, i) => {
    const message = check(action);
    if (message)
      reports.push({
        message: `action ${action.id || i + 1}: ${message}`,
        at: context.at(`/actions/items/${i}/${field}`, `/actions/items/${i}`),
      });
  });
  return reports;
}
