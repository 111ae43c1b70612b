/**
 * Issues one invoice inside the caller's transaction, with its number, its
 * unique key (the same invoice is never issued twice) and the
 * `invoice.issued` licensing event. Every path that bills — entry fees, lump
 * sums, instalments, royalties — comes through here.
 */
import type { ClientSession, Types } from 'mongoose';
import { nextValue } from '../../models/counter.js';
import { Invoice, type InvoiceKind } from '../../models/invoice.js';
import { ValidationError } from '../errors.js';
import { recordLicensingEvent } from './licensing-events.js';

export interface InvoiceInput {
  licence: { _id: Types.ObjectId; licensor: Types.ObjectId; licensee: Types.ObjectId; number: string };
  kind: InvoiceKind;
  amountFen: number;
  issuedAt: Date;
  dueAt: Date;
  /** Unique per fact billed, e.g. `entry_fee`, `instalment:3`, `royalty:<reportId>`. */
  key: string;
  revenueReport?: Types.ObjectId | null;
  instalment?: number | null;
}

/** Largest single invoice: RMB 10 billion, far above any licence fee; anything bigger is a mistake. */
export const MAX_INVOICE_FEN = 1_000_000_000_000;

export async function issueInvoice(input: InvoiceInput, session: ClientSession) {
  if (!Number.isSafeInteger(input.amountFen) || input.amountFen < 1 || input.amountFen > MAX_INVOICE_FEN) {
    throw new ValidationError({ amount: { key: 'invoice.amount.invalid' } });
  }
  if (input.dueAt < input.issuedAt) throw new ValidationError({ dueAt: { key: 'invoice.due.before_issue' } });
  const key = `${input.licence._id}:${input.key}`;
  const existing = await Invoice.findOne({ key }).session(session);
  if (existing) return existing;
  const year = input.issuedAt.getUTCFullYear();
  const number = `INV-${year}-${String(await nextValue(`invoice-${year}`, session)).padStart(7, '0')}`;
  const [invoice] = await Invoice.create([{
    number, key, licence: input.licence._id, licensor: input.licence.licensor, licensee: input.licence.licensee, kind: input.kind,
    amountFen: input.amountFen, issuedAt: input.issuedAt, dueAt: input.dueAt, revenueReport: input.revenueReport ?? null, instalment: input.instalment ?? null,
  }], { session });
  await recordLicensingEvent({
    type: 'invoice.issued', key: `invoice.issued:${invoice._id}`, occurredAt: input.issuedAt, licence: input.licence._id,
    licensor: input.licence.licensor, licensee: input.licence.licensee, invoice: invoice._id, amountFen: input.amountFen,
    data: { kind: input.kind, number, licenceNumber: input.licence.number },
  }, session);
  return invoice;
}
