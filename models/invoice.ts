/**
 * A royalty statement (invoice) under a licence: an amount in fen due on a
 * date. Payments add to `paidFen`; the status follows the transition table
 * in server/domain/licence-states.ts. Amounts never change once issued; a
 * mistake is voided and re-issued.
 */
import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { INVOICE_STATUSES } from '../server/domain/licence-states.js';

export const INVOICE_KINDS = ['entry_fee', 'lump_sum', 'instalment', 'royalty'] as const;
export type InvoiceKind = (typeof INVOICE_KINDS)[number];

const invoiceSchema = new Schema(
  {
    number: { type: String, required: true },
    licence: { type: Schema.Types.ObjectId, ref: 'Licence', required: true },
    licensor: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    licensee: { type: Schema.Types.ObjectId, ref: 'Organization', required: true },
    kind: { type: String, enum: INVOICE_KINDS, required: true },
    /** Royalty invoices: the revenue report they bill; instalments: which one (1-based). */
    revenueReport: { type: Schema.Types.ObjectId, ref: 'RevenueReport', default: null },
    instalment: { type: Number, default: null },
    amountFen: { type: Number, required: true, min: 1, validate: Number.isSafeInteger },
    paidFen: { type: Number, default: 0, min: 0, validate: Number.isSafeInteger },
    /** Paid beyond the amount (credited back or kept as credit; never silently absorbed). */
    overpaidFen: { type: Number, default: 0, min: 0 },
    issuedAt: { type: Date, required: true },
    dueAt: { type: Date, required: true },
    status: { type: String, enum: INVOICE_STATUSES, default: 'open' },
    paidAt: { type: Date, default: null },
    overdueAt: { type: Date, default: null },
    defaultedAt: { type: Date, default: null },
    remindersSent: { type: [String], default: [] },
    /** Unique per licence: the same invoice is never issued twice (e.g. a royalty for one report). */
    key: { type: String, required: true },
  },
  { timestamps: true },
);

invoiceSchema.index({ number: 1 }, { unique: true });
invoiceSchema.index({ key: 1 }, { unique: true });
invoiceSchema.index({ licence: 1, dueAt: 1 });
invoiceSchema.index({ licensee: 1, status: 1, dueAt: 1 });
invoiceSchema.index({ licensor: 1, status: 1, dueAt: 1 });
invoiceSchema.index({ status: 1, dueAt: 1 });

export type InvoiceAttrs = InferSchemaType<typeof invoiceSchema>;
export const Invoice = mongoose.model('Invoice', invoiceSchema);
