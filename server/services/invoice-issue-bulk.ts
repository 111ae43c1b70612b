/**
 * Issues many invoices in one transaction — a quarter's royalty run, a
 * licence's instalment schedule — with exactly the rules and records of
 * issueInvoice (invoice-issue.ts): the same checks, `INV-<year>-<seq>`
 * numbers from the same counters, the same unique key per fact billed (an
 * invoice already issued is returned, not issued twice) and one
 * `invoice.issued` event each. It costs a handful of database round trips
 * per batch instead of six per invoice, which is what lets 10,000 licences
 * be billed in seconds.
 */
import type { ClientSession } from 'mongoose';
import { Counter } from '../../models/counter.js';
import { Invoice } from '../../models/invoice.js';
import { ValidationError } from '../errors.js';
import { MAX_INVOICE_FEN, type InvoiceInput } from './invoice-issue.js';
import { recordLicensingEvents } from './licensing-bulk.js';

type InvoiceDoc = InstanceType<typeof Invoice>;

/** Validates every input first: one bad amount refuses the whole batch, before anything is written. */
function check(inputs: InvoiceInput[]): void {
  for (const input of inputs) {
    if (!Number.isSafeInteger(input.amountFen) || input.amountFen < 1 || input.amountFen > MAX_INVOICE_FEN) {
      throw new ValidationError({ amount: { key: 'invoice.amount.invalid' } });
    }
    if (input.dueAt < input.issuedAt) throw new ValidationError({ dueAt: { key: 'invoice.due.before_issue' } });
  }
}

/** Returns one invoice per input (the existing one where that fact was already billed), in input order. */
export async function issueInvoicesInBulk(inputs: InvoiceInput[], session: ClientSession): Promise<InvoiceDoc[]> {
  check(inputs);
  const keyOf = (input: InvoiceInput) => `${input.licence._id}:${input.key}`;
  const existing = new Map((await Invoice.find({ key: { $in: inputs.map(keyOf) } }).session(session)).map((i) => [i.key, i]));
  const fresh = [...new Map(inputs.filter((i) => !existing.has(keyOf(i))).map((i) => [keyOf(i), i])).values()];
  // Numbers per issue year, a block of them from each year's counter.
  const nextNumber = new Map<number, number>();
  for (const year of new Set(fresh.map((i) => i.issuedAt.getUTCFullYear()))) {
    const count = fresh.filter((i) => i.issuedAt.getUTCFullYear() === year).length;
    const counter = await Counter.findOneAndUpdate({ _id: `invoice-${year}` }, { $inc: { value: count } }, { upsert: true, returnDocument: 'after', session });
    nextNumber.set(year, counter!.value - count + 1);
  }
  const docs = fresh.map((input) => {
    const year = input.issuedAt.getUTCFullYear();
    const n = nextNumber.get(year)!;
    nextNumber.set(year, n + 1);
    return {
      number: `INV-${year}-${String(n).padStart(7, '0')}`, key: keyOf(input), licence: input.licence._id, licensor: input.licence.licensor, licensee: input.licence.licensee,
      kind: input.kind, amountFen: input.amountFen, issuedAt: input.issuedAt, dueAt: input.dueAt, revenueReport: input.revenueReport ?? null, instalment: input.instalment ?? null,
    };
  });
  const created = docs.length ? await Invoice.insertMany(docs, { session }) : [];
  await recordLicensingEvents(created.map((invoice, i) => ({
    type: 'invoice.issued', key: `invoice.issued:${invoice._id}`, occurredAt: fresh[i]!.issuedAt, licence: invoice.licence, licensor: invoice.licensor, licensee: invoice.licensee,
    invoice: invoice._id, amountFen: invoice.amountFen, data: { kind: invoice.kind, number: invoice.number, licenceNumber: fresh[i]!.licence.number },
  })), session);
  for (const invoice of created) existing.set(invoice.key, invoice);
  return inputs.map((input) => existing.get(keyOf(input))!);
}
