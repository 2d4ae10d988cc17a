// A permission-checked, audited, notifying account operation built from facets and profiles.
// Run: npx tsc -b packages/facets && npx tsx examples/facets/account.ts
import { readFileSync } from 'node:fs';
import {
  AuditFacet,
  compose,
  Facet,
  type FacetedObject,
  NotificationFacet,
  PermissionDeniedError,
  PermissionFacet,
  ProfileSet,
  registerStandardFacets,
} from '@myrmex/facets';

interface Account {
  readonly id: string;
  balance: number;
}

/** The account operations; the Account core knows nothing about permissions, audit or notifications. */
class AccountOperations extends Facet<Account> {
  static override readonly requires = [PermissionFacet, AuditFacet, NotificationFacet];

  async withdraw(amount: number, actor: string): Promise<number> {
    const host: FacetedObject<Account> = this.faceted;
    host.require(PermissionFacet).check('account:withdraw');
    if (!(amount > 0)) throw new RangeError('amount must be positive');
    if (amount > this.owner.balance) throw new RangeError(`insufficient funds: balance ${this.owner.balance}, asked ${amount}`);
    this.owner.balance -= amount;
    host.require(AuditFacet).record('account.withdraw', { actor, amount, balance: this.owner.balance });
    await host.require(NotificationFacet).notify('account.withdrawn', { account: this.owner.id, amount, balance: this.owner.balance });
    return this.owner.balance;
  }
}

const registry = registerStandardFacets().register(AccountOperations, { name: 'operations', create: () => new AccountOperations() });
const profiles = ProfileSet.parse(readFileSync(new URL('profiles.yml', import.meta.url), 'utf8'), { source: 'profiles.yml' });

async function attempt(profile: string, actor: string, amount: number): Promise<void> {
  const account = compose<Account>({ id: `acc-${actor}`, balance: 100 }, profiles.resolve(profile), registry);
  const notifications = account.require(NotificationFacet);
  notifications.subscribe('account.withdrawn', (event) => console.log(`  notify: ${JSON.stringify(event)}`));
  notifications.subscribe('account.withdrawn', () => {
    throw new Error('SMS gateway down');
  });
  try {
    const balance = await account.require(AccountOperations).withdraw(amount, actor);
    console.log(`${actor} (${profile}) withdrew ${amount}: balance ${balance}`);
  } catch (error) {
    if (!(error instanceof PermissionDeniedError)) throw error;
    console.log(`${actor} (${profile}) refused: ${error.message}`);
  }
  for (const entry of account.require(AuditFacet).entries()) {
    console.log(`  audit #${entry.seq} ${entry.action} ${JSON.stringify(entry.details)}`);
  }
}

await attempt('teller', 'tom', 30);
await attempt('manager', 'mia', 30);
