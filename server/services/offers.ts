/**
 * Licence offers on a patent: drafted, published and withdrawn by the
 * holder's TTO. An open-licence declaration passes the eligibility rules of
 * Patent Law Arts. 50–52 first; fees above CNIPA's 2024 guidance are shown
 * to the TTO to confirm; published terms are never edited. The patent's
 * `listing` is recomputed in the same transaction as every change, so the
 * catalogue always agrees with the offers.
 */
import mongoose, { Types, type ClientSession } from 'mongoose';
import { nextValue } from '../../models/counter.js';
import { Offer } from '../../models/offer.js';
import { Patent, type OfferKind } from '../../models/patent.js';
import { openLicenceBlockers } from '../domain/open-licence-eligibility.js';
import { feeWarnings, validateOfferTerms } from '../domain/offer-terms.js';
import { beijingDate } from '../domain/patent-term.js';
import { AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError, type FieldError } from '../errors.js';
import { recordAudit } from './audit.js';
import { requireRole, requireVerified, type Actor, type Ctx } from './context.js';
import { parseOfferForm, type OfferForm, type OfferTermsValues } from './offer-input.js';
import { ownPatent } from './patents.js';

/** Publishing an open licence was refused for these reasons (each a dictionary key), shown as a list. */
export class NotEligibleError extends AppError {
  constructor(readonly reasons: FieldError[]) {
    super(422, 'offer.open.not_eligible');
  }
}

/** Fees above the guidance: the TTO must confirm before publishing. */
export class WarningsNotConfirmedError extends AppError {
  constructor(readonly warnings: FieldError[]) {
    super(422, 'offer.warnings.confirm');
  }
}

const ENDED = ['lapsed', 'invalidated', 'expired'];

async function ownOffer(actor: Actor, id: string, session?: ClientSession) {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('offer.not_found');
  const offer = await Offer.findById(id).session(session ?? null);
  if (!offer) throw new NotFoundError('offer.not_found');
  if (!offer.holder.equals(actor.orgId)) throw new ForbiddenError('patent.not_yours');
  return offer;
}

function termsOrThrow(kind: OfferKind, form: OfferForm, patent: { expiryDate: Date }, now: Date): OfferTermsValues {
  const parsed = parseOfferForm(kind, form);
  if (!parsed.ok) throw new ValidationError(parsed.errors);
  const problems = validateOfferTerms(kind, parsed.terms, patent, now);
  if (Object.keys(problems).length) throw new ValidationError(problems);
  return parsed.terms;
}

/** What an SME pays before using the patent under an offer (the catalogue's "lowest entry fee"). */
export function upfrontFen(kind: OfferKind, t: OfferTermsValues): number | null {
  if (kind === 'negotiated') return null;
  if (kind === 'open' && t.feeForm === 'lump_sum') return t.entryFeeFen + t.lumpSumFen;
  if (kind === 'open' && t.feeForm === 'instalments') return t.entryFeeFen + t.instalmentFen;
  return t.entryFeeFen;
}

/** Recomputes the patent's catalogue listing from its published offers. */
export async function refreshListing(patentId: Types.ObjectId, session: ClientSession): Promise<void> {
  const published = await Offer.find({ patent: patentId, status: 'published' }).session(session).lean();
  const fees = published.map((o) => upfrontFen(o.kind, o.terms as OfferTermsValues)).filter((f): f is number => f !== null);
  const listing = {
    listed: published.length > 0,
    kinds: [...new Set(published.map((o) => o.kind))],
    minEntryFeeFen: fees.length ? Math.min(...fees) : null,
    publishedAt: published.length ? new Date(Math.max(...published.map((o) => o.publishedAt!.getTime()))) : null,
  };
  await Patent.updateOne({ _id: patentId }, { $set: { listing } }, { session });
}

export async function createOffer(ctx: Ctx, patentId: string, kind: OfferKind, form: OfferForm, now = new Date()) {
  const actor = requireRole(ctx, 'tto');
  const patent = await ownPatent(actor, patentId);
  if (patent.status === 'retired') throw new ConflictError('patent.retired');
  const terms = termsOrThrow(kind, form, patent, now);
  return mongoose.connection.transaction(async (session) => {
    const [offer] = await Offer.create([{ patent: patent._id, holder: actor.orgId, kind, terms, createdBy: actor.userId }], { session });
    await recordAudit(ctx, 'offer.created', { type: 'Offer', id: offer._id }, { patent: String(patent._id), kind, terms }, session);
    return offer;
  });
}

/** Drafts only: published terms are what SMEs rely on, so they are withdrawn and re-offered instead. */
export async function updateOfferDraft(ctx: Ctx, offerId: string, form: OfferForm, now = new Date()) {
  const actor = requireRole(ctx, 'tto');
  return mongoose.connection.transaction(async (session) => {
    const offer = await ownOffer(actor, offerId, session);
    if (offer.status !== 'draft') throw new ConflictError('offer.not_draft');
    const patent = await ownPatent(actor, String(offer.patent), session);
    const terms = termsOrThrow(offer.kind, form, patent, now);
    offer.terms = terms as never;
    await offer.save({ session });
    await recordAudit(ctx, 'offer.updated', { type: 'Offer', id: offer._id }, { terms }, session);
    return offer;
  });
}

/**
 * Publishes a draft. Open licences are checked for eligibility and get an
 * announcement number; any fee warnings must have been confirmed.
 */
export async function publishOffer(ctx: Ctx, offerId: string, confirmWarnings: boolean, now = new Date()) {
  const actor = requireRole(ctx, 'tto');
  requireVerified(actor);
  return mongoose.connection.transaction(async (session) => {
    const offer = await ownOffer(actor, offerId, session);
    if (offer.status !== 'draft') throw new ConflictError('offer.not_draft');
    const patent = await ownPatent(actor, String(offer.patent), session);
    if (patent.status === 'retired') throw new ConflictError('patent.retired');
    // The expiry date is the last day of protection (Beijing calendar).
    if (ENDED.includes(patent.legalStatus) || patent.expiryDate < beijingDate(now)) throw new ConflictError('offer.patent_ended');
    const terms = offer.terms as OfferTermsValues;
    // Terms were valid when drafted; time passes (expiry approaches), so check again.
    const problems = validateOfferTerms(offer.kind, terms, patent, now);
    if (Object.keys(problems).length) throw new ValidationError(problems);
    if (offer.kind === 'open') {
      const reasons = openLicenceBlockers(patent, now);
      if (reasons.length) throw new NotEligibleError(reasons);
    }
    const warnings = feeWarnings(terms);
    if (warnings.length && !confirmWarnings) throw new WarningsNotConfirmedError(warnings);
    offer.status = 'published';
    offer.publishedAt = now;
    offer.publishedBy = actor.userId;
    offer.warnings = warnings.map((w) => w.key);
    if (offer.kind === 'open') offer.announcementNo = `OL-${now.getUTCFullYear()}-${String(await nextValue(`open-licence-${now.getUTCFullYear()}`, session)).padStart(6, '0')}`;
    await offer.save({ session });
    await refreshListing(patent._id, session);
    await recordAudit(ctx, 'offer.published', { type: 'Offer', id: offer._id }, { patent: String(patent._id), kind: offer.kind, announcementNo: offer.announcementNo, warnings: offer.warnings }, session);
    return offer;
  });
}

/**
 * Withdraws a published offer, effective at once (the platform announces it
 * immediately). Licences already granted under it are not affected.
 */
export async function withdrawOffer(ctx: Ctx, offerId: string, reason: string, now = new Date()) {
  const actor = requireRole(ctx, 'tto');
  if (reason.trim().length < 4) throw new ValidationError({ reason: { key: 'offer.withdraw.reason_required' } });
  return mongoose.connection.transaction(async (session) => {
    const offer = await ownOffer(actor, offerId, session);
    if (offer.status !== 'published') throw new ConflictError('offer.not_published');
    offer.status = 'withdrawn';
    offer.withdrawnAt = now;
    offer.withdrawReason = reason.trim();
    await offer.save({ session });
    await refreshListing(offer.patent, session);
    await recordAudit(ctx, 'offer.withdrawn', { type: 'Offer', id: offer._id }, { patent: String(offer.patent), reason: reason.trim() }, session);
    return offer;
  });
}

/** Deletes nothing: a draft that is no longer wanted is withdrawn like any other. */
export async function discardDraft(ctx: Ctx, offerId: string) {
  const actor = requireRole(ctx, 'tto');
  return mongoose.connection.transaction(async (session) => {
    const offer = await ownOffer(actor, offerId, session);
    if (offer.status !== 'draft') throw new ConflictError('offer.not_draft');
    offer.status = 'withdrawn';
    offer.withdrawnAt = new Date();
    offer.withdrawReason = 'draft discarded';
    await offer.save({ session });
    await recordAudit(ctx, 'offer.discarded', { type: 'Offer', id: offer._id }, {}, session);
    return offer;
  });
}

/** A patent of the actor's institution with all its offers, for the register's detail page. */
export async function patentWithOffers(ctx: Ctx, patentId: string) {
  const actor = requireRole(ctx, 'tto');
  const patent = await ownPatent(actor, patentId);
  const offers = await Offer.find({ patent: patent._id }).sort({ createdAt: -1 }).lean();
  return { patent: patent.toObject(), offers, openBlockers: openLicenceBlockers(patent, new Date()) };
}

/** An offer of the actor's institution and its patent's detail (for re-rendering the offer's pages). */
export async function offerWithPatent(ctx: Ctx, offerId: string) {
  const actor = requireRole(ctx, 'tto');
  const offer = await ownOffer(actor, offerId);
  return { offer, data: await patentWithOffers(ctx, String(offer.patent)) };
}
