/**
 * A patent that lapses (unpaid annual fee, invalidation, expiry) ends every
 * live licence under it: there is nothing left to licence. Each licence
 * moves to `ended_patent_lapsed` (audited, in its history) with a
 * `licence.lapsed` event, and invoices for use after the lapse are voided
 * with an `invoice.voided` event.
 *
 * What stays payable: everything billed for the time the patent was in
 * force — entry fees and lump sums (the price of a grant that was given),
 * royalty invoices (they bill sales already reported), and any instalment
 * due on or before the lapse, including overdue and defaulted ones. What is
 * voided: instalments still open, unpaid and due after the lapse (they pay
 * for use that can no longer happen). A partly paid instalment is not
 * voided automatically (voiding it would need a refund decision); it stays
 * for the TTO to settle or write off.
 */
import type { ClientSession, Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import type { LegalStatus } from '../../models/patent.js';
import { assertInvoiceTransition, LIVE_LICENCE_STATES } from '../domain/licence-states.js';
import type { Ctx } from './context.js';
import { moveLicence } from './licence-transitions.js';
import { recordLicensingEvent } from './licensing-events.js';
import type { Notice } from './licensing-notices.js';

/** Legal statuses in which a patent no longer exists to be licensed. */
export const LAPSED_LEGAL_STATUSES: readonly LegalStatus[] = ['lapsed', 'invalidated', 'expired'];

export interface LapseResult {
  licences: number;
  voided: number;
  /** What to tell the parties (sent after the transaction commits). */
  notices: Notice[];
}

/**
 * Inside the caller's transaction: ends the live licences of `patentId` as
 * of `at` because of `cause` (the new legal status, or `expired` when the
 * term ran out). Running it again finds no live licence and does nothing.
 */
export async function endLicencesOnPatentLapse(ctx: Ctx, patentId: Types.ObjectId, at: Date, cause: LegalStatus, session: ClientSession): Promise<LapseResult> {
  const result: LapseResult = { licences: 0, voided: 0, notices: [] };
  const licences = await Licence.find({ patent: patentId, state: { $in: LIVE_LICENCE_STATES } }).session(session);
  if (!licences.length) return result;
  assertInvoiceTransition('open', 'void');
  for (const licence of licences) {
    const from = licence.state;
    await moveLicence(ctx, licence, 'ended_patent_lapsed', { at, reason: `patent ${cause}` }, session);
    await recordLicensingEvent({
      type: 'licence.lapsed', key: `licence.lapsed:${licence._id}`, occurredAt: at, licence: licence._id, licensor: licence.licensor, licensee: licence.licensee,
      data: { from, cause, patent: String(patentId), licenceNumber: licence.number },
    }, session);
    result.licences++;
    for (const side of ['licensor', 'licensee'] as const) result.notices.push({ org: licence[side], side, kind: 'licence_lapsed', licenceNumber: licence.number });
    const toVoid = await Invoice.find({ licence: licence._id, kind: 'instalment', status: 'open', paidFen: 0, dueAt: { $gt: at } }).session(session).lean();
    for (const invoice of toVoid) {
      // Conditional: a payment that landed in the meantime keeps the invoice alive.
      const { modifiedCount } = await Invoice.updateOne({ _id: invoice._id, status: 'open', paidFen: 0 }, { $set: { status: 'void' } }, { session });
      if (modifiedCount !== 1) continue;
      await AuditEvent.create([{
        at, actor: ctx.actor?.userId ?? null, actorEmail: ctx.actor?.email ?? '', organization: ctx.actor?.orgId ?? null, action: 'invoice.voided', targetType: 'Invoice',
        targetId: String(invoice._id), summary: { number: invoice.number, from: 'open', to: 'void', reason: `patent ${cause}` }, requestId: ctx.meta.requestId, ip: ctx.meta.ip,
      }], { session });
      await recordLicensingEvent({
        type: 'invoice.voided', key: `invoice.voided:${invoice._id}`, occurredAt: at, licence: licence._id, licensor: licence.licensor, licensee: licence.licensee,
        invoice: invoice._id, amountFen: invoice.amountFen, data: { number: invoice.number, reason: 'patent_lapsed', cause, dueAt: invoice.dueAt },
      }, session);
      result.voided++;
      for (const side of ['licensor', 'licensee'] as const) {
        result.notices.push({ org: licence[side], side, kind: 'invoice_voided', licenceNumber: licence.number, invoiceNumber: invoice.number, amountFen: invoice.amountFen });
      }
    }
  }
  return result;
}
