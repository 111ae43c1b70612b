/**
 * The default sweep (hourly, under a lease): open invoices past their due
 * date become `overdue` and put their live licence `in_arrears`; invoices
 * overdue for the fund's days-to-default become `defaulted` and so does
 * their licence. Every change records its licensing event (keyed, so the
 * fund ledger of issue 6 can post from them) and is reported to both
 * parties once.
 *
 * Safe to run twice and concurrently: each batch is one transaction that
 * re-reads its invoices by status and updates them conditionally, so a
 * second run finds nothing to do and two concurrent runs never both move
 * the same invoice (the loser's transaction conflicts, retries, and finds
 * the work done). Batches are bounded (BATCH_SIZE invoices, about a second
 * each) so no transaction nears the store's 60-second limit, and 100,000
 * invoices take a hundred bulk updates, not 100,000 transactions. (Bigger
 * batches measured slower on the embedded store: reads inside a transaction
 * grow dearer with its pending writes; see test/bench/licensing.bench.ts.)
 */
import mongoose, { type ClientSession, type Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { assertInvoiceTransition, type InvoiceStatus } from '../domain/licence-states.js';
import type { Ctx } from '../services/context.js';
import type { LicensingEventInput } from '../services/licensing-events.js';
import { moveLicencesInBulk, recordLicensingEvents, type MovedLicence } from '../services/licensing-bulk.js';
import { sendLicensingNotices, type Notice } from '../services/licensing-notices.js';
import type { Mailer } from '../services/mail.js';

export const DAY_MS = 86_400_000;
const BATCH_SIZE = 1_000;

export interface DefaultSweepDeps {
  mailer: Mailer;
  /** Days overdue before an invoice is in default (config DEFAULT_DAYS_OVERDUE). */
  daysToDefault: number;
  now?: Date;
  publicUrl?: string;
  batchSize?: number;
}

export interface DefaultSweepResult {
  overdue: number;
  defaulted: number;
  licencesInArrears: number;
  licencesDefaulted: number;
  events: number;
  mails: number;
}

type SweptInvoice = { _id: Types.ObjectId; number: string; licence: Types.ObjectId; licensor: Types.ObjectId; licensee: Types.ObjectId; amountFen: number; paidFen: number; dueAt: Date; remindersSent?: string[] };

interface Phase {
  from: InvoiceStatus;
  to: 'overdue' | 'defaulted';
  filter: Record<string, unknown>;
  stamp: 'overdueAt' | 'defaultedAt';
}

const outstanding = (i: { amountFen: number; paidFen: number }) => i.amountFen - i.paidFen;

/** The licence events for `moved`, naming the first of its invoices in this batch (the fact that moved it). */
function licenceEvents(type: 'licence.in_arrears' | 'licence.defaulted', moved: MovedLicence[], byLicence: Map<string, SweptInvoice[]>, at: Date): LicensingEventInput[] {
  return moved.map((l) => {
    const own = byLicence.get(String(l._id))!;
    return {
      type, key: `${type}:${l._id}:${own[0]!._id}`, occurredAt: at, licence: l._id, licensor: l.licensor, licensee: l.licensee, invoice: own[0]!._id,
      amountFen: own.reduce((s, i) => s + outstanding(i), 0), data: { from: l.from, licenceNumber: l.number, invoices: own.map((i) => i.number) },
    };
  });
}

/** One batch in one transaction; returns what it changed (empty when another run got there first). */
async function sweepBatch(ctx: Ctx, phase: Phase, ids: Types.ObjectId[], now: Date, session: ClientSession) {
  const invoices = await Invoice.find({ _id: { $in: ids }, ...phase.filter }).select('number licence licensor licensee amountFen paidFen dueAt remindersSent').session(session).lean<SweptInvoice[]>();
  if (!invoices.length) return { invoices, arrears: [] as MovedLicence[], defaulted: [] as MovedLicence[], events: 0 };
  const invoiceIds = invoices.map((i) => i._id);
  await Invoice.updateMany(
    { _id: { $in: invoiceIds }, status: phase.from },
    // remindersSent: this notice stands for the licensee's overdue reminder (invoice-reminders.ts), which then is not sent again.
    { $set: { status: phase.to, [phase.stamp]: now }, $addToSet: { remindersSent: phase.to } },
    { session },
  );
  const type = `invoice.${phase.to}` as const;
  const events: LicensingEventInput[] = invoices.map((i) => ({
    type, key: `${type}:${i._id}`, occurredAt: now, licence: i.licence, licensor: i.licensor, licensee: i.licensee,
    invoice: i._id, amountFen: outstanding(i), data: { number: i.number, dueAt: i.dueAt, amountFen: i.amountFen, paidFen: i.paidFen },
  }));
  // One audit entry per batch naming every invoice it moved: each invoice's own record of the change is its keyed licensing event above.
  await AuditEvent.create([{
    at: now, action: type, targetType: 'Invoice', targetId: `batch:${invoiceIds[0]}`, requestId: ctx.meta.requestId,
    summary: { from: phase.from, to: phase.to, count: invoices.length, invoices: invoiceIds.map(String), numbers: invoices.map((i) => i.number) },
  }], { session });
  const byLicence = new Map<string, SweptInvoice[]>();
  for (const i of invoices) byLicence.set(String(i.licence), [...(byLicence.get(String(i.licence)) ?? []), i]);
  const licenceIds = [...byLicence.values()].map((own) => own[0]!.licence);
  const reason = phase.to === 'overdue' ? 'invoice overdue' : 'invoice in default';
  // A licence defaulting straight from good standing (its invoice went overdue and defaulted in one run) passes through arrears, as the table requires.
  const arrears = await moveLicencesInBulk(ctx, licenceIds, 'in_arrears', { at: now, reason }, session);
  events.push(...licenceEvents('licence.in_arrears', arrears, byLicence, now));
  const defaulted = phase.to === 'defaulted' ? await moveLicencesInBulk(ctx, licenceIds, 'defaulted', { at: now, reason }, session) : [];
  events.push(...licenceEvents('licence.defaulted', defaulted, byLicence, now));
  return { invoices, arrears, defaulted, events: await recordLicensingEvents(events, session) };
}

export async function runDefaultSweep(deps: DefaultSweepDeps): Promise<DefaultSweepResult> {
  const now = deps.now ?? new Date();
  const batchSize = deps.batchSize ?? BATCH_SIZE;
  const ctx: Ctx = { actor: null, meta: { requestId: `default-sweep:${now.toISOString()}`, ip: '' } };
  const phases: Phase[] = [
    { from: 'open', to: 'overdue', stamp: 'overdueAt', filter: { status: 'open', dueAt: { $lt: now } } },
    { from: 'overdue', to: 'defaulted', stamp: 'defaultedAt', filter: { status: 'overdue', dueAt: { $lte: new Date(now.getTime() - deps.daysToDefault * DAY_MS) } } },
  ];
  const result: DefaultSweepResult = { overdue: 0, defaulted: 0, licencesInArrears: 0, licencesDefaulted: 0, events: 0, mails: 0 };
  const notices: Notice[] = [];
  const licenceNumbers = new Map<string, string>();
  for (const phase of phases) {
    assertInvoiceTransition(phase.from, phase.to);
    for (;;) {
      const ids = (await Invoice.find(phase.filter).select('_id').limit(batchSize).lean()).map((i) => i._id);
      if (!ids.length) break;
      const done = await mongoose.connection.transaction((session) => sweepBatch(ctx, phase, ids, now, session));
      // Nothing moved: a concurrent run holds these invoices and will finish them; this run leaves the phase to it.
      if (!done.invoices.length) break;
      result[phase.to] += done.invoices.length;
      result.licencesInArrears += done.arrears.length;
      result.licencesDefaulted += done.defaulted.length;
      result.events += done.events;
      for (const i of done.invoices) {
        for (const side of ['licensor', 'licensee'] as const) {
          // The licensee's overdue reminder (invoice-reminders.ts) may have gone out already: it is the same news, told once.
          if (phase.to === 'overdue' && side === 'licensee' && i.remindersSent?.includes('overdue')) continue;
          notices.push({ org: i[side], side, kind: phase.to === 'overdue' ? 'invoice_overdue' : 'invoice_defaulted', licenceNumber: String(i.licence), invoiceNumber: i.number, amountFen: outstanding(i), dueAt: i.dueAt });
        }
      }
    }
  }
  // Mails name the licence by its number; one lookup for every licence mentioned.
  const mentioned = [...new Set(notices.map((n) => n.licenceNumber))];
  for (let i = 0; i < mentioned.length; i += 5_000) {
    for (const l of await Licence.find({ _id: { $in: mentioned.slice(i, i + 5_000) } }).select('number').lean()) licenceNumbers.set(String(l._id), l.number);
  }
  for (const n of notices) n.licenceNumber = licenceNumbers.get(n.licenceNumber) ?? n.licenceNumber;
  result.mails = await sendLicensingNotices(deps.mailer, deps.publicUrl ?? '', notices, { daysToDefault: deps.daysToDefault });
  return result;
}
