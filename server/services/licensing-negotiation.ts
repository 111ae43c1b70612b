/**
 * Negotiated (ordinary, non-exclusive) licences: an enterprise asks about a
 * `negotiated` offer, the holder's TTO answers with proposed terms, and the
 * enterprise accepts them — the licence then takes effect on exactly the
 * proposed terms — or either side declines with a reason.
 *
 * A proposal is a price, not an asking price: it passes the negotiated-offer
 * rules (validateOfferTerms) and must also fill in every amount its fee form
 * uses. Fixed fees are billed on acceptance as for an open licence, but the
 * licence is `active` at once: both sides agreed, so no notice stage applies.
 */
import mongoose from 'mongoose';
import { Patent } from '../../models/patent.js';
import { FEE_FORM_FIELDS, validateOfferTerms } from '../domain/offer-terms.js';
import { ConflictError, ValidationError, type FieldError } from '../errors.js';
import { recordAudit } from './audit.js';
import { requireRole, requireVerified, type Ctx } from './context.js';
import { moveLicence } from './licence-transitions.js';
import {
  billFixedFees, checkText, contractDates, createRequestedLicence, partiesAndSnapshot, partyLicence, recordGranted, takeableOffer,
  UPFRONT_DUE_DAYS,
} from './licensing-common.js';
import { licenceMail, mailOrganization, type LicensingNotify } from './licensing-texts.js';
import { parseOfferForm, type OfferForm, type OfferTermsValues } from './offer-input.js';

/** The enterprise asks to negotiate on a `negotiated` offer; its message goes to the holder's TTO. */
export async function requestNegotiation(ctx: Ctx, offerId: string, message: string, notify?: LicensingNotify, now = new Date()) {
  const actor = requireRole(ctx, 'sme');
  requireVerified(actor);
  const text = checkText('message', message ?? '', { min: 10, max: 2000 });
  const taken = await takeableOffer(offerId, 'negotiated', now);
  const { offer, patent } = taken;
  const { snapshot } = await partiesAndSnapshot(actor, offer, patent);
  const licence = await createRequestedLicence(ctx, actor, {
    offerId, kind: 'negotiated', taken, snapshot, statement: text, state: 'requested', reason: 'negotiation requested', auditAction: 'licence.negotiation_requested', now,
  });
  await mailOrganization(notify, offer.holder, `许可洽谈请求 ${licence.number} / Licence negotiation request`, licenceMail(
    notify, licence._id, `${snapshot.licenseeNameZh} 希望就专利 ${snapshot.applicationNumber}《${snapshot.patentTitleZh}》洽谈许可：\n${text}`,
    `${snapshot.licenseeNameZh} asks to negotiate a licence of patent ${snapshot.applicationNumber}.`,
  ));
  return licence;
}

/** Terms a TTO may propose: valid for a negotiated offer, with every amount of the fee form filled in. */
function proposalOrThrow(form: OfferForm, patent: { expiryDate: Date }, now: Date): OfferTermsValues {
  const parsed = parseOfferForm('negotiated', form);
  if (!parsed.ok) throw new ValidationError(parsed.errors);
  const problems: Record<string, FieldError> = validateOfferTerms('negotiated', parsed.terms, patent, now);
  for (const f of FEE_FORM_FIELDS[parsed.terms.feeForm] ?? []) {
    if (!parsed.terms[f]) problems[f] ??= { key: 'licence.propose.amount_required' };
  }
  if (Object.keys(problems).length) throw new ValidationError(problems);
  return parsed.terms;
}

/** The holder's TTO answers a request with terms. */
export async function proposeTerms(ctx: Ctx, licenceId: string, form: OfferForm, notify?: LicensingNotify, now = new Date()) {
  const actor = requireRole(ctx, 'tto');
  const licence = await mongoose.connection.transaction(async (session) => {
    const l = await partyLicence(actor, licenceId, 'licensor', session);
    if (l.state !== 'requested') throw new ConflictError('licence.propose.not_requested');
    const patent = await Patent.findById(l.patent).session(session).lean();
    const terms = proposalOrThrow(form, { expiryDate: patent?.expiryDate ?? l.snapshot!.patentExpiry }, now);
    l.proposedTerms = terms;
    await moveLicence(ctx, l, 'proposed', { at: now, reason: 'terms proposed' }, session);
    await recordAudit(ctx, 'licence.terms_proposed', { type: 'Licence', id: l._id }, { number: l.number, terms }, session);
    return l;
  });
  await mailOrganization(notify, licence.licensee, `许可条件已提出 ${licence.number} / Terms proposed`, licenceMail(
    notify, licence._id, '专利权人已就您的洽谈请求提出许可条件，请查看并决定是否接受。', 'The patent holder has proposed terms for your request. Please review and accept or decline them.',
  ));
  return licence;
}

/** The enterprise accepts the proposal: the licence takes effect on the proposed terms. */
export async function acceptProposal(ctx: Ctx, licenceId: string, now = new Date()) {
  const actor = requireRole(ctx, 'sme');
  requireVerified(actor);
  return mongoose.connection.transaction(async (session) => {
    const licence = await partyLicence(actor, licenceId, 'licensee', session);
    if (licence.state !== 'proposed' || !licence.proposedTerms) throw new ConflictError('licence.accept.not_proposed');
    const terms = licence.proposedTerms as OfferTermsValues;
    licence.set({ terms, ...contractDates(now, terms, licence.snapshot!.patentExpiry) });
    licence.notice = { statement: licence.notice?.statement ?? '', by: actor.userId, at: now, ip: ctx.meta.ip };
    await moveLicence(ctx, licence, 'active', { at: now, reason: 'proposal accepted' }, session);
    const invoices = await billFixedFees(licence, terms, now, UPFRONT_DUE_DAYS, session);
    await recordGranted(licence, now, session);
    await recordAudit(ctx, 'licence.proposal_accepted', { type: 'Licence', id: licence._id }, { number: licence.number, invoices, ip: ctx.meta.ip }, session);
    return licence;
  });
}

/** Either side ends the negotiation, saying why. */
export async function declineNegotiation(ctx: Ctx, licenceId: string, reason: string, notify?: LicensingNotify, now = new Date()) {
  const actor = requireRole(ctx, 'tto', 'sme');
  const why = checkText('reason', reason ?? '', { min: 4, max: 500 });
  const licence = await mongoose.connection.transaction(async (session) => {
    const l = await partyLicence(actor, licenceId, 'either', session);
    if (l.state !== 'requested' && l.state !== 'proposed') throw new ConflictError('licence.decline.not_open');
    await moveLicence(ctx, l, 'declined', { at: now, reason: why }, session);
    await recordAudit(ctx, 'licence.negotiation_declined', { type: 'Licence', id: l._id }, { number: l.number, by: actor.role, reason: why }, session);
    return l;
  });
  const other = actor.role === 'tto' ? licence.licensee : licence.licensor;
  await mailOrganization(notify, other, `许可洽谈已终止 ${licence.number} / Negotiation declined`, licenceMail(
    notify, licence._id, `对方已终止洽谈。理由：${why}`, `The other side declined the negotiation. Reason: ${why}`,
  ));
  return licence;
}
