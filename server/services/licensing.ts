/**
 * Licences born from offers: an open licence taken by written notice (no
 * approval, Patent Law Art. 51), a pay-later application that the holder's
 * TTO decides, leaving in the free period, and recording the filing (备案).
 * Negotiated licences, the free-period trigger and the read side live in
 * licensing-negotiation.ts, licensing-payment-due.ts and licensing-queries.ts
 * and are re-exported here, so callers import licensing from one place.
 *
 * Every state change goes through moveLicence or createLicence (history +
 * audit in the same transaction); every decision is audited as well.
 */
import mongoose from 'mongoose';
import { Invoice } from '../../models/invoice.js';
import { Organization } from '../../models/organization.js';
import { assertInvoiceTransition } from '../domain/licence-states.js';
import { addMonths, beijingDate } from '../domain/patent-term.js';
import { SME_SIZE_STANDARD } from '../domain/sme-size.js';
import { AppError, ConflictError, ValidationError } from '../errors.js';
import { DEFAULT_FREE_MONTHS } from '../domain/offer-terms.js';
import { recordAudit } from './audit.js';
import { requireRole, requireVerified, type Actor, type Ctx } from './context.js';
import { moveLicence } from './licence-transitions.js';
import {
  billFixedFees, checkText, contractDates, createLicence, createRequestedLicence, NOT_GRANTED, partiesAndSnapshot, partyLicence, recordGranted, refuseSecondLicence, takeableOffer,
  UPFRONT_DUE_DAYS,
} from './licensing-common.js';
import { recordLicensingEvent } from './licensing-events.js';
import { licenceMail, mailOrganization, openNoticeStatement, type LicensingNotify } from './licensing-texts.js';

export * from './licensing-negotiation.js';
export * from './licensing-payment-due.js';
export * from './licensing-queries.js';
export { openNoticeStatement, type LicensingNotify } from './licensing-texts.js';

const SME_CLASSES = ['micro', 'small', 'medium'];

/**
 * Takes an open licence: the enterprise's confirmation of the declared terms
 * is its written notice, recorded with who, when and from which address. The
 * licence is granted at once. With something due up front it is `notified`
 * until paid (afterInvoiceSettled then activates it), else `active`.
 */
export async function takeOpenLicence(ctx: Ctx, offerId: string, input: { confirm: boolean }, now = new Date()) {
  const actor = requireRole(ctx, 'sme');
  requireVerified(actor);
  if (input.confirm !== true) throw new ValidationError({ confirm: { key: 'licence.open.confirm_required' } });
  const { offer, patent, terms } = await takeableOffer(offerId, 'open', now);
  const { licensor, licensee, snapshot } = await partiesAndSnapshot(actor, offer, patent);
  const statement = openNoticeStatement({
    licenseeNameZh: licensee.nameZh, licenseeNameEn: licensee.nameEn, licenseeUscc: licensee.uscc, licensorNameZh: licensor.nameZh,
    licensorNameEn: licensor.nameEn, applicationNumber: patent.applicationNumber, patentTitleZh: patent.titleZh,
    announcementNo: offer.announcementNo ?? '', termMonths: terms.termMonths,
  });
  return mongoose.connection.transaction(async (session) => {
    // Read again inside the transaction: a withdrawal that committed meanwhile wins.
    await takeableOffer(offerId, 'open', now, session);
    await refuseSecondLicence(patent._id, actor.orgId, session);
    const licence = await createLicence(ctx, {
      kind: 'open', offer: offer._id, patent: patent._id, licensor: offer.holder, licensee: actor.orgId, terms, snapshot,
      notice: { by: actor.userId, at: now, ip: ctx.meta.ip, statement }, ...contractDates(now, terms, patent.expiryDate),
    }, 'notified', 'written notice of acceptance', now, session);
    const invoices = await billFixedFees(licence, terms, now, UPFRONT_DUE_DAYS, session);
    if (invoices === 0) await moveLicence(ctx, licence, 'active', { at: now, reason: 'nothing due up front' }, session);
    await recordGranted(licence, now, session);
    await recordAudit(ctx, 'licence.open_taken', { type: 'Licence', id: licence._id }, { number: licence.number, offer: String(offer._id), invoices, ip: ctx.meta.ip }, session);
    return licence;
  });
}

/** Only SMEs (2011 classification) may use first and pay later; anyone else is told which rule refuses them. */
async function requireSme(actor: Actor): Promise<void> {
  const org = await Organization.findById(actor.orgId).select('enterprise.sizeClass').lean();
  const size = org?.enterprise?.sizeClass ?? null;
  if (size && SME_CLASSES.includes(size)) return;
  throw new AppError(422, size ? 'licence.deferred.not_sme' : 'licence.deferred.size_unknown', { standard: SME_SIZE_STANDARD });
}

/** An SME applies for a pay-later offer; the holder's TTO is told by e-mail and decides. */
export async function applyDeferred(ctx: Ctx, offerId: string, input: { message: string }, notify?: LicensingNotify, now = new Date()) {
  const actor = requireRole(ctx, 'sme');
  requireVerified(actor);
  const message = checkText('message', input.message ?? '', { min: 0, max: 2000 });
  const taken = await takeableOffer(offerId, 'deferred', now);
  const { offer, patent } = taken;
  await requireSme(actor);
  const { snapshot } = await partiesAndSnapshot(actor, offer, patent);
  const licence = await createRequestedLicence(ctx, actor, {
    offerId, kind: 'deferred', taken, snapshot, statement: message, state: 'applied', reason: 'pay-later application', auditAction: 'licence.applied', now,
  });
  await mailOrganization(notify, offer.holder, `先使用后付费申请 ${licence.number} / Pay-later application`, licenceMail(
    notify, licence._id,
    `${snapshot.licenseeNameZh} 申请以先使用后付费方式实施专利 ${snapshot.applicationNumber}《${snapshot.patentTitleZh}》，请审批。${message ? `\n留言：${message}` : ''}`,
    `${snapshot.licenseeNameZh} applies for a use-first-pay-later licence of patent ${snapshot.applicationNumber}. Please decide.`,
  ));
  return licence;
}

/**
 * The holder's TTO approves (the free period starts now) or rejects with a
 * reason. Decided once: the state machine refuses a second decision (409).
 */
export async function decideApplication(ctx: Ctx, licenceId: string, approve: boolean, reason: string, notify?: LicensingNotify, now = new Date()) {
  const actor = requireRole(ctx, 'tto');
  const why = checkText('reason', reason ?? '', { min: approve ? 0 : 4, max: 500 });
  const licence = await mongoose.connection.transaction(async (session) => {
    const l = await partyLicence(actor, licenceId, 'licensor', session);
    if (l.state !== 'applied') throw new ConflictError('licence.decision.already');
    if (approve) {
      const terms = l.terms as { termMonths: number; freeMonths?: number | null };
      const dates = contractDates(now, terms, l.snapshot!.patentExpiry);
      l.set({ ...dates, freePeriodEndsAt: addMonths(now, terms.freeMonths ?? DEFAULT_FREE_MONTHS) });
      await moveLicence(ctx, l, 'active_free', { at: now, reason: why || 'application approved' }, session);
      await recordGranted(l, now, session);
    } else {
      await moveLicence(ctx, l, 'rejected', { at: now, reason: why }, session);
    }
    await recordAudit(ctx, 'licence.application_decided', { type: 'Licence', id: l._id }, { number: l.number, approve, reason: why }, session);
    return l;
  });
  await mailOrganization(notify, licence.licensee, `许可申请 ${licence.number} ${approve ? '已批准' : '未获批准'} / Application ${approve ? 'approved' : 'rejected'}`, licenceMail(
    notify, licence._id,
    approve ? `您的先使用后付费申请已批准，免费期至 ${licence.freePeriodEndsAt?.toISOString().slice(0, 10)}。` : `您的先使用后付费申请未获批准。理由：${why}`,
    approve ? `Your pay-later application was approved; the free period runs until ${licence.freePeriodEndsAt?.toISOString().slice(0, 10)}.` : `Your pay-later application was rejected. Reason: ${why}`,
  ));
  return licence;
}

/**
 * The SME leaves during its free period and owes nothing: any unpaid
 * invoice (none should exist yet) is voided in the same transaction.
 */
export async function terminateInFreePeriod(ctx: Ctx, licenceId: string, reason: string, now = new Date()) {
  const actor = requireRole(ctx, 'sme');
  const why = checkText('reason', reason ?? '', { min: 0, max: 500 });
  return mongoose.connection.transaction(async (session) => {
    const licence = await partyLicence(actor, licenceId, 'licensee', session);
    if (licence.state !== 'active_free') throw new ConflictError('licence.terminate.not_free');
    for (const invoice of await Invoice.find({ licence: licence._id, status: 'open' }).session(session)) {
      assertInvoiceTransition('open', 'void');
      invoice.status = 'void';
      await invoice.save({ session });
      await recordLicensingEvent({
        type: 'invoice.voided', key: `invoice.voided:${invoice._id}`, occurredAt: now, licence: licence._id, licensor: licence.licensor,
        licensee: licence.licensee, invoice: invoice._id, amountFen: invoice.amountFen - invoice.paidFen, data: { reason: 'terminated in free period' },
      }, session);
    }
    await moveLicence(ctx, licence, 'terminated_by_licensee', { at: now, reason: why || 'left during the free period' }, session);
    await recordLicensingEvent({
      type: 'licence.terminated', key: `licence.terminated:${licence._id}`, occurredAt: now, licence: licence._id,
      licensor: licence.licensor, licensee: licence.licensee, data: { number: licence.number, owed: 0 },
    }, session);
    return licence;
  });
}

/** The licensor's TTO records the filing (备案) with CNIPA: its date and reference, once. */
export async function recordFiling(ctx: Ctx, licenceId: string, input: { filedAt: Date | null; filingRef: string }, now = new Date()) {
  const actor = requireRole(ctx, 'tto');
  const ref = checkText('filingRef', input.filingRef ?? '', { min: 1, max: 60 });
  return mongoose.connection.transaction(async (session) => {
    const licence = await partyLicence(actor, licenceId, 'licensor', session);
    if (NOT_GRANTED.includes(licence.state as never) || !licence.effectiveAt) throw new ConflictError('licence.filing.not_granted');
    if (licence.filedAt) throw new ConflictError('licence.filing.already');
    const filedAt = input.filedAt;
    // A filing cannot predate the contract (Beijing calendar) nor lie in the future.
    if (!filedAt || filedAt < beijingDate(licence.effectiveAt) || filedAt > beijingDate(now)) {
      throw new ValidationError({ filedAt: { key: 'licence.filing.date_invalid' } });
    }
    licence.filedAt = filedAt;
    licence.filingRef = ref;
    await licence.save({ session });
    await recordAudit(ctx, 'licence.filed', { type: 'Licence', id: licence._id }, { number: licence.number, filedAt: filedAt.toISOString().slice(0, 10), filingRef: ref }, session);
    return licence;
  });
}
