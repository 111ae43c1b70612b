/**
 * What each licensing event posts to the fund ledger (the subscriber's
 * mapping), inside the subscriber's transaction. One SyncTx per attempt of a
 * batch: it queues the batch's ledger commands and posts them together (one
 * postInTransaction call, so the journal head moves once per batch rather
 * than once per event), flushing early only when a command needs the seq of
 * one still queued (a void reversing an accrual of the same batch).
 *
 * Mapping (transfer keys `event:<event key>`, a second transfer `…#2`;
 * maker null = the system; effectiveAt = when the event occurred):
 * - invoice.issued → ACCRUAL Dr receivable(licence) / Cr revenue(licensor).
 * - payment.received → PAYMENT (or RECOVERY when a DEFAULT moved the invoice
 *   to overdue, see subscriber-recovery.ts): cash passes clearing and is
 *   settled to the licensor, so clearing is back at zero within the
 *   transfer; an overpayment is the licensee's credit.
 * - invoice.defaulted → DEFAULT Dr overdue / Cr receivable, the outstanding amount.
 * - invoice.voided → REVERSAL of the invoice's ACCRUAL.
 * - licence.granted → the cover decision (cover.ts), no transfer.
 * - anything else → no transfer (write-offs are posted by the claims work).
 * An event about an invoice whose `invoice.issued` is still unposted (it can
 * carry a later occurredAt, e.g. a backdated lapse) posts that one first, so
 * nothing is ever settled or reversed before it was billed.
 */
import type { ClientSession } from 'mongoose';
import type { LicensingEventAttrs } from '../../../models/licensing-event.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { Licence } from '../../../models/licence.js';
import { LicensingEvent } from '../../../models/licensing-event.js';
import { Organization } from '../../../models/organization.js';
import { Patent } from '../../../models/patent.js';
import { Payment } from '../../../models/payment.js';
import { acct, type TransferCode } from '../../domain/ledger-chart.js';
import type { JournalEntry, TransferRefs } from '../../domain/ledger-record.js';
import { AppError } from '../../errors.js';
import { auditRow, type AuditRow } from '../audit.js';
import type { Ctx } from '../context.js';
import { decideCover, loadLossBook, type GrantedLicence, type LossBook } from './cover.js';
import { postInTransaction, type LedgerCommand } from './ledger.js';
import { afterRecovery, recoverClaim, supersedeWriteOff } from './subscriber-recovery.js';

export type SyncEvent = LicensingEventAttrs & { _id: import('mongoose').Types.ObjectId };

type LicenceFacts = GrantedLicence & { patent: unknown; number: string };

/** One attempt at posting a batch: what it has queued, learned and decided so far. */
export interface SyncTx {
  session: ClientSession;
  ctx: Ctx;
  now: Date;
  queue: LedgerCommand[];
  /** Fresh transfers written (replays not counted), covers decided, events handled (to stamp). */
  transfers: number;
  covers: number;
  handled: Set<string>;
  stamp: SyncEvent[];
  audits: AuditRow[];
  licences: Map<string, LicenceFacts>;
  region: Map<string, string>;
  field: Map<string, string | null>;
  /** Invoice → seq of its (unreversed) ACCRUAL; null while queued. */
  accruals: Map<string, number | null>;
  /** Invoices whose outstanding amount a DEFAULT moved to overdue (not reversed). */
  defaulted: Set<string>;
  book: LossBook | null;
}

export function newSyncTx(session: ClientSession, ctx: Ctx, now: Date): SyncTx {
  return {
    session, ctx, now, queue: [], transfers: 0, covers: 0, handled: new Set(), stamp: [], audits: [],
    licences: new Map(), region: new Map(), field: new Map(), accruals: new Map(), defaulted: new Set(), book: null,
  };
}

const hex = (v: unknown) => (v ? String(v) : null);

/** Reads, once per batch, the licences, organisations, patents and ledger facts the batch's events need. */
export async function prefetch(tx: SyncTx, events: SyncEvent[]): Promise<void> {
  const s = tx.session;
  const licenceIds = [...new Set(events.map((e) => String(e.licence)))];
  const licences = await Licence.find({ _id: { $in: licenceIds } }).select('number kind licensor licensee patent effectiveAt snapshot.licenseeSizeClass').session(s).lean();
  for (const l of licences) tx.licences.set(String(l._id), l as unknown as LicenceFacts);
  const orgIds = [...new Set(events.map((e) => String(e.licensor)))];
  for (const o of await Organization.find({ _id: { $in: orgIds } }).select('region').session(s).lean()) tx.region.set(String(o._id), o.region);
  const patentIds = [...new Set(licences.map((l) => String(l.patent)))];
  for (const p of await Patent.find({ _id: { $in: patentIds } }).select('fields').session(s).lean()) tx.field.set(String(p._id), p.fields?.[0] ?? null);
  const prior = await LedgerTransfer.find({ 'refs.licence': { $in: licenceIds }, code: { $in: ['ACCRUAL', 'DEFAULT', 'REVERSAL'] } })
    .select('seq code reverses refs.invoice').session(s).lean();
  const reversed = new Set(prior.filter((t) => t.code === 'REVERSAL').map((t) => t.reverses));
  for (const t of prior) {
    const invoice = t.refs?.invoice;
    if (!invoice || reversed.has(t.seq)) continue;
    if (t.code === 'ACCRUAL') tx.accruals.set(invoice, t.seq);
    if (t.code === 'DEFAULT') tx.defaulted.add(invoice);
  }
}

/** What every transfer of `ev` refers to: the licence, its parties and the console's dimensions. */
export function refsOf(tx: SyncTx, ev: SyncEvent): Partial<TransferRefs> {
  const licence = tx.licences.get(String(ev.licence));
  return {
    licence: hex(ev.licence), invoice: hex(ev.invoice), payment: hex(ev.payment), event: hex(ev._id),
    institution: hex(ev.licensor), licensee: hex(ev.licensee),
    province: tx.region.get(String(ev.licensor)) ?? null, field: licence ? (tx.field.get(String(licence.patent)) ?? null) : null,
  };
}

export function transferKey(ev: SyncEvent, n: number): string {
  return n === 1 ? `event:${ev.key}` : `event:${ev.key}#${n}`;
}

/** Queues a posted transfer from `ev`, keeping the loss-rate sums current for covered licences. */
export function queueTransfer(tx: SyncTx, ev: SyncEvent, n: number, code: TransferCode, entries: JournalEntry[], extra: Partial<TransferRefs> = {}, memo = ''): void {
  tx.queue.push({ kind: 'transfer', key: transferKey(ev, n), code, phase: 'posted', entries, refs: { ...refsOf(tx, ev), ...extra }, memo, maker: null, effectiveAt: ev.occurredAt });
  const book = tx.book;
  if (!book || !book.covered.has(String(ev.licence))) return;
  for (const e of entries) {
    if (e.side !== 'debit') continue;
    if (e.account === acct.receivable(ev.licence)) book.accruedFen += e.amountFen;
    if (e.account === acct.overdue(ev.licence)) book.defaultedFen += e.amountFen;
  }
}

/** Posts everything queued; learns the seqs of the accruals just written. */
export async function flush(tx: SyncTx): Promise<void> {
  if (!tx.queue.length) return;
  const commands = tx.queue;
  tx.queue = [];
  for (const r of await postInTransaction(commands, tx.session)) {
    if (!r.replayed) tx.transfers++;
    if (r.code === 'ACCRUAL' && r.phase === 'posted' && r.refs.invoice) tx.accruals.set(r.refs.invoice, r.seq);
  }
}

async function lossBook(tx: SyncTx): Promise<LossBook> {
  if (!tx.book) {
    // The sums are read from account totals: what is still queued must be in them first.
    await flush(tx);
    tx.book = await loadLossBook(tx.session);
  }
  return tx.book;
}

/** An event about an invoice needs its accrual first; posts an unposted `invoice.issued` of it ahead of its turn. */
async function ensureAccrued(tx: SyncTx, invoice: unknown): Promise<void> {
  if (!invoice || tx.accruals.has(String(invoice))) return;
  const issued = await LicensingEvent.findOne({ key: `invoice.issued:${invoice}`, postedAt: null }).session(tx.session).lean<SyncEvent>();
  if (issued && !tx.handled.has(String(issued._id))) await postEvent(tx, issued);
}

const amountOf = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);

/** Applied and overpaid parts of a payment: from the event, else (older events) from the payment itself. */
async function paymentParts(tx: SyncTx, ev: SyncEvent): Promise<{ applied: number; overpaid: number }> {
  const data = (ev.data ?? {}) as Record<string, unknown>;
  let applied = amountOf(data.appliedFen);
  let overpaid = amountOf(data.overpaidFen);
  if (applied === null) {
    const payment = ev.payment ? await Payment.findById(ev.payment).select('amountFen appliedFen').session(tx.session).lean() : null;
    applied = payment ? payment.appliedFen : ev.amountFen;
    overpaid = ev.amountFen - applied;
  }
  if (overpaid === null) overpaid = ev.amountFen - applied;
  if (applied < 0 || overpaid < 0 || applied + overpaid !== ev.amountFen) {
    throw new AppError(409, 'fund.subscriber.payment_inconsistent', { amountFen: ev.amountFen, appliedFen: applied });
  }
  return { applied, overpaid };
}

async function postPayment(tx: SyncTx, ev: SyncEvent): Promise<void> {
  await ensureAccrued(tx, ev.invoice);
  const { applied, overpaid } = await paymentParts(tx, ev);
  const recovery = applied > 0 && tx.defaulted.has(String(ev.invoice));
  const entries: JournalEntry[] = [];
  const cashIn = (x: number, from: string) => {
    entries.push({ account: acct.clearing(), side: 'debit', amountFen: x }, { account: from, side: 'credit', amountFen: x });
    entries.push({ account: acct.settled(ev.licensor), side: 'debit', amountFen: x }, { account: acct.clearing(), side: 'credit', amountFen: x });
  };
  if (recovery) await supersedeWriteOff(tx, ev);
  if (applied > 0) cashIn(applied, recovery ? acct.overdue(ev.licence) : acct.receivable(ev.licence));
  if (overpaid > 0) cashIn(overpaid, acct.licenseeCredit(ev.licensee));
  if (!entries.length) return;
  queueTransfer(tx, ev, 1, recovery ? 'RECOVERY' : 'PAYMENT', entries);
  if (!recovery) return;
  const share = await recoverClaim(tx, ev, applied);
  if (share) {
    // The fund's capital comes back, and as much of its subrogated right is released (the memo pair).
    queueTransfer(tx, ev, 2, 'RECOVERY', [
      { account: acct.bank(), side: 'debit', amountFen: share.fen }, { account: acct.pool(), side: 'credit', amountFen: share.fen },
      { account: acct.recoveryOffset(), side: 'debit', amountFen: share.fen }, { account: acct.recoveryRights(share.claim), side: 'credit', amountFen: share.fen },
    ], { claim: share.claim }, `recovery of ${applied} fen: the fund's share of ${share.fen} fen released from claim ${share.number}`);
  }
  await afterRecovery(tx, ev);
}

async function postVoid(tx: SyncTx, ev: SyncEvent): Promise<void> {
  await ensureAccrued(tx, ev.invoice);
  const invoice = String(ev.invoice);
  if (!tx.accruals.has(invoice)) throw new AppError(409, 'fund.subscriber.accrual_missing', { invoice });
  if (tx.accruals.get(invoice) === null) await flush(tx);
  const reason = String((ev.data as { reason?: unknown } | undefined)?.reason ?? '');
  tx.queue.push({ kind: 'reverse', key: transferKey(ev, 1), reverses: tx.accruals.get(invoice)!, memo: `invoice voided${reason ? `: ${reason}` : ''}`, maker: null, checker: null, effectiveAt: ev.occurredAt });
  tx.accruals.delete(invoice);
}

async function postGranted(tx: SyncTx, ev: SyncEvent): Promise<void> {
  const licence = tx.licences.get(String(ev.licence));
  if (!licence) throw new AppError(409, 'fund.subscriber.licence_missing', { licence: String(ev.licence) });
  // Postings of this licence still queued must be in its account totals before it may join the loss-rate sums.
  if (tx.book && tx.queue.some((c) => c.kind === 'transfer' && c.refs?.licence === String(ev.licence))) await flush(tx);
  const decided = await decideCover(licence, ev.occurredAt, tx.now, tx.session, () => lossBook(tx));
  if (!decided) return;
  tx.covers++;
  tx.audits.push(auditRow(tx.ctx, 'fund.cover_decided', { type: 'Licence', id: String(ev.licence) }, { number: licence.number, event: ev.key, ...decided }));
}

/** Queues (or performs) what `ev` posts and marks it handled; a refusal throws. */
export async function postEvent(tx: SyncTx, ev: SyncEvent): Promise<void> {
  tx.handled.add(String(ev._id));
  switch (ev.type) {
    case 'invoice.issued':
      if (ev.amountFen > 0) {
        queueTransfer(tx, ev, 1, 'ACCRUAL', [
          { account: acct.receivable(ev.licence), side: 'debit', amountFen: ev.amountFen }, { account: acct.revenue(ev.licensor), side: 'credit', amountFen: ev.amountFen }]);
        tx.accruals.set(String(ev.invoice), null);
      }
      break;
    case 'payment.received':
      await postPayment(tx, ev);
      break;
    case 'invoice.defaulted':
      await ensureAccrued(tx, ev.invoice);
      if (ev.amountFen > 0) {
        queueTransfer(tx, ev, 1, 'DEFAULT', [
          { account: acct.overdue(ev.licence), side: 'debit', amountFen: ev.amountFen }, { account: acct.receivable(ev.licence), side: 'credit', amountFen: ev.amountFen }]);
        tx.defaulted.add(String(ev.invoice));
      }
      break;
    case 'invoice.voided':
      await postVoid(tx, ev);
      break;
    case 'licence.granted':
      await postGranted(tx, ev);
      break;
    default:
      // invoice.overdue, licence.in_arrears/defaulted/terminated/ended/lapsed, invoice.written_off: no money moves here.
      break;
  }
  tx.stamp.push(ev);
}
