/**
 * Records a licensing event (models/licensing-event.ts) inside the caller's
 * transaction: a fact recorded twice (same key) is a no-op, so a retried
 * sweep or a redelivered webhook never produces two events.
 */
import type { ClientSession, Types } from 'mongoose';
import { LicensingEvent, type LicensingEventType } from '../../models/licensing-event.js';

export interface LicensingEventInput {
  type: LicensingEventType;
  key: string;
  occurredAt: Date;
  licence: Types.ObjectId;
  licensor: Types.ObjectId;
  licensee: Types.ObjectId;
  invoice?: Types.ObjectId | null;
  payment?: Types.ObjectId | null;
  amountFen?: number;
  data?: Record<string, unknown>;
}

/**
 * True if the event was new. One upsert keyed by the unique `key` (rather
 * than a read then an insert): a concurrent transaction recording the same
 * key meets the key's lock, retries, and then finds it.
 */
export async function recordLicensingEvent(e: LicensingEventInput, session: ClientSession): Promise<boolean> {
  const { key, ...rest } = e;
  const r = await LicensingEvent.updateOne(
    { key },
    { $setOnInsert: { ...rest, amountFen: e.amountFen ?? 0, data: e.data ?? {} } },
    { upsert: true, session },
  );
  return r.upsertedCount === 1;
}
