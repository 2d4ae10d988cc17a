import { ByzantineInputError, type CustomStrategy } from './config.js';
import { ATTACK, RETREAT } from './values.js';

export interface CollusionPlan {
  /** n, as in the run. */
  readonly generals: number;
  /** The traitors the adversary controls, as in the run. */
  readonly traitors: readonly number[];
  /** The commander's order, as in the run. Default ATTACK. */
  readonly order?: string;
}

/**
 * One adversary choosing every traitor's messages together, with a plan for the whole run
 * rather than one rule per message:
 * - with a loyal commander it attacks IC2: every traitor tells every loyal lieutenant, on every
 *   path, the one value that is not the order, so the m traitors vote as a bloc against it;
 * - with a traitorous commander it attacks IC1: it splits the loyal lieutenants into two halves
 *   and tells one half ATTACK and the other RETREAT, as commander and on every relay.
 * At n = 3m the bloc outvotes the order for every placement of m traitor lieutenants (the
 * paper's bound is tight); at n >= 3m + 1 neither plan breaks OM(m) (Theorem 1).
 */
export function colludingAdversary(plan: CollusionPlan): CustomStrategy {
  if (plan === null || typeof plan !== 'object') throw new ByzantineInputError('plan', 'must be { generals, traitors, order? }');
  const { generals, traitors } = plan;
  if (!Number.isSafeInteger(generals) || generals < 2)
    throw new ByzantineInputError('plan.generals', `must be an integer of at least 2, got ${String(generals)}`);
  if (!Array.isArray(traitors) || traitors.some((t) => !Number.isSafeInteger(t) || t < 0 || t >= generals))
    throw new ByzantineInputError('plan.traitors', `must be a list of general ids in 0..${generals - 1}`);
  const order = plan.order ?? ATTACK;
  const traitor = new Set(traitors);
  const against = order === RETREAT ? ATTACK : RETREAT;
  const loyal = Array.from({ length: generals }, (_, id) => id).filter((id) => id !== 0 && !traitor.has(id));
  const attackHalf = new Set(loyal.slice(0, Math.ceil(loyal.length / 2)));
  const commanderLoyal = !traitor.has(0);
  return {
    name: 'collude',
    send: ({ recipient }) => (commanderLoyal ? against : attackHalf.has(recipient) ? ATTACK : RETREAT),
  };
}
