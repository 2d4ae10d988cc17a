// A trip saga whose steps and compensations are messages: each request step writes a command to the saga service's
// outbox (once per idempotency key, through an inbox, so a step re-run after a crash writes nothing new), waits for
// the vendor's reply event, and a compensation writes a cancel command. Vendors consume commands from the broker and
// reply through their own outbox.
import type { Inbox } from '../../src/inbox/index.js';
import type { Outbox } from '../../src/outbox/index.js';
import type { SagaDefinition, SagaStep } from '../../src/saga/index.js';
import type { AnyManager } from '../support/databases.js';

export const VENDORS = ['flight', 'hotel', 'car'] as const;
export const title = (vendor: string) => vendor[0]!.toUpperCase() + vendor.slice(1);

/** Writes `type` for `vendor` as a command of this saga, unless this key wrote it already. */
function command(tm: AnyManager, outbox: Outbox, inbox: Inbox, key: string, type: string, sagaId: string, vendor: string) {
  return tm.run(() =>
    inbox.handle(key, () =>
      outbox.publish({ id: key, aggregateType: 'trip', aggregateId: sagaId, type, topic: 'commands', payload: { sagaId, vendor } }),
    ),
  );
}

export function messagingTrip(tm: AnyManager, outbox: Outbox, inbox: Inbox): SagaDefinition {
  const steps: SagaStep[] = [];
  for (const vendor of VENDORS) {
    steps.push({
      name: `${vendor}-request`,
      execute: (ctx) => command(tm, outbox, inbox, ctx.idempotencyKey, `Reserve${title(vendor)}`, ctx.sagaId, vendor),
      compensate: (ctx) => command(tm, outbox, inbox, `${ctx.idempotencyKey}:cancel`, `Cancel${title(vendor)}`, ctx.sagaId, vendor),
    });
    steps.push({ name: `${vendor}-reply`, awaitEvent: `${title(vendor)}Replied` });
    steps.push({
      name: `${vendor}-check`,
      execute: (ctx) => {
        if ((ctx.results[`${vendor}-reply`] as { refused?: boolean }).refused) throw new Error(`${vendor} refused the booking`);
        return true;
      },
    });
  }
  return { name: 'trip-messages', steps };
}

/** The vendors' tables: one row per saga and vendor; `status` reserved, refused or cancelled. */
export async function createReservations(tm: AnyManager): Promise<void> {
  await tm.execute(
    'CREATE TABLE IF NOT EXISTS reservations (saga_id varchar(200) NOT NULL, vendor varchar(20) NOT NULL, status varchar(20) NOT NULL, changes integer NOT NULL, PRIMARY KEY (saga_id, vendor))',
  );
}
