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

export async function recordLicensingEvent(e: LicensingEventInput, session: ClientSession): Promise<boolean> {
  if (await LicensingEvent.exists({ key: e.key }).session(session)) return false;
  await LicensingEvent.create([{ ...e, amountFen: e.amountFen ?? 0, data: e.data ?? {} }], { session });
  return true;
}
