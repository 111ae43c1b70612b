/**
 * What every licensing flow (open, pay-later, negotiated) shares: finding an
 * offer that can still be taken, refusing a second licence on the same
 * patent, numbering and creating a licence with its first history entry,
 * the dates a contract runs by, billing per fee form through issueInvoice,
 * and finding a licence only for its parties.
 *
 * Decisions (DESIGN.md "Licence", reference/domain.md §1–2):
 * - One licence per enterprise and patent at a time: while one is pending
 *   (applied, requested, proposed) or live, another is refused (409). An
 *   ended or refused one does not block a new start.
 * - Up-front for an open licence = whatever the worked example (offer-example.ts)
 *   puts in month 1: the entry fee, the lump sum, and the instalment plan
 *   (all instalments are scheduled at once, the first due with the others
 *   following every interval). Royalties are billed from revenue reports.
 * - A pay-later licence's free period is free: the entry fee of
 *   `entry_plus_royalty` is billed when payment falls due, not on approval.
 * - The contract ends after its term or on the patent's last day, whichever
 *   comes first (a licence of an expired right is void).
 */
import type { ClientSession, Types } from 'mongoose';
import mongoose, { Types as MTypes } from 'mongoose';
import { nextValue } from '../../models/counter.js';
import { Licence } from '../../models/licence.js';
import { Offer } from '../../models/offer.js';
import { Organization } from '../../models/organization.js';
import { Patent, type OfferKind } from '../../models/patent.js';
import { LIVE_LICENCE_STATES, type LicenceState } from '../domain/licence-states.js';
import { addMonths, beijingDate } from '../domain/patent-term.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { recordAudit } from './audit.js';
import type { Actor, Ctx } from './context.js';
import { issueInvoice } from './invoice-issue.js';
import { recordLicensingEvent } from './licensing-events.js';
import type { OfferTermsValues } from './offer-input.js';

export type LicenceDoc = InstanceType<typeof Licence>;

/** A licence in one of these blocks another for the same enterprise and patent. */
export const PENDING_OR_LIVE: readonly LicenceState[] = ['requested', 'proposed', 'applied', ...LIVE_LICENCE_STATES];
/** Before these, there is no contract yet (nothing to file, no contract document). */
export const NOT_GRANTED: readonly LicenceState[] = ['requested', 'proposed', 'declined', 'applied', 'rejected'];

/** Days an open licence's up-front invoices are due in. */
export const UPFRONT_DUE_DAYS = 15;
/** Days the first invoice of a pay-later licence is due in once payment falls due. */
export const PAYMENT_DUE_DAYS = 30;
/** 备案 within three months of the contract taking effect (CNIPA FAQ 2024-08-28). */
export const FILING_MONTHS = 3;

const DAY_MS = 86_400_000;
const ENDED_LEGAL = ['lapsed', 'invalidated', 'expired'];

export const addDays = (d: Date, days: number) => new Date(d.getTime() + days * DAY_MS);

/** The context of work the platform does by itself (a scheduled job): no actor, a named request id. */
export function systemCtx(requestId: string): Ctx {
  return { actor: null, meta: { requestId, ip: '' } };
}

/**
 * A published offer of `kind` on an active, listed, unexpired patent. Unknown
 * ids are 404; an offer of another kind, withdrawn or on an ended patent is
 * 409 with the reason, since the SME saw it and needs to know why it moved.
 */
export async function takeableOffer(offerId: string, kind: OfferKind, now: Date, session?: ClientSession) {
  if (!MTypes.ObjectId.isValid(offerId)) throw new NotFoundError('licence.offer.not_found');
  const offer = await Offer.findById(offerId).session(session ?? null).lean();
  if (!offer || offer.status === 'draft') throw new NotFoundError('licence.offer.not_found');
  if (offer.kind !== kind) throw new ConflictError('licence.offer.wrong_kind');
  if (offer.status !== 'published') throw new ConflictError('licence.offer.withdrawn');
  const patent = await Patent.findById(offer.patent).session(session ?? null).lean();
  if (!patent || patent.status !== 'active' || !patent.listing?.listed || ENDED_LEGAL.includes(patent.legalStatus) || patent.expiryDate < beijingDate(now)) {
    throw new ConflictError('licence.patent.unavailable');
  }
  return { offer, patent, terms: plainTerms(offer.terms) };
}

/** The terms as a plain object (the snapshot a licence keeps; never a live subdocument). */
export function plainTerms(terms: unknown): OfferTermsValues {
  return JSON.parse(JSON.stringify(terms)) as OfferTermsValues;
}

export async function refuseSecondLicence(patentId: Types.ObjectId, licenseeId: Types.ObjectId, session: ClientSession): Promise<void> {
  // Two concurrent requests would each read "none" under snapshot isolation
  // (write skew); both writing this pair's slot makes the second conflict,
  // retry, and then see the first licence.
  await nextValue(`licence-slot:${patentId}:${licenseeId}`, session);
  if (await Licence.exists({ patent: patentId, licensee: licenseeId, state: { $in: PENDING_OR_LIVE } }).session(session)) {
    throw new ConflictError('licence.already_held');
  }
}

/** `LIC-2026-000123`: numbered per Beijing calendar year, inside the transaction so an abort returns the number. */
async function licenceNumber(now: Date, session: ClientSession): Promise<string> {
  const year = beijingDate(now).getUTCFullYear();
  return `LIC-${year}-${String(await nextValue(`licence-${year}`, session)).padStart(6, '0')}`;
}

/** Creates a licence in its first state; the creation is the first history entry and audited like any move. */
export async function createLicence(ctx: Ctx, fields: Record<string, unknown>, state: LicenceState, reason: string, now: Date, session: ClientSession): Promise<LicenceDoc> {
  const number = await licenceNumber(now, session);
  const [licence] = await Licence.create([{
    ...fields, number, state, createdBy: ctx.actor?.userId ?? null,
    history: [{ at: now, from: null, to: state, by: ctx.actor?.userId ?? null, reason }],
  }], { session });
  await recordAudit(ctx, 'licence.state_changed', { type: 'Licence', id: licence._id }, { number, from: null, to: state, reason }, session);
  return licence;
}

/** When the contract takes effect, ends, and must be filed. */
export function contractDates(now: Date, terms: { termMonths: number }, patentExpiry: Date) {
  const lastMoment = new Date(patentExpiry.getTime() + DAY_MS);
  const byTerm = addMonths(now, terms.termMonths);
  return { effectiveAt: now, endsAt: byTerm < lastMoment ? byTerm : lastMoment, filingDueAt: addMonths(now, FILING_MONTHS) };
}

/** The fixed fee the licence commits to (for the granted event; royalties are unknown until reported). */
function committedFen(t: OfferTermsValues): number {
  if (t.feeForm === 'lump_sum') return t.lumpSumFen;
  if (t.feeForm === 'instalments') return t.instalmentCount * t.instalmentFen;
  if (t.feeForm === 'entry_plus_royalty') return t.entryFeeFen;
  return 0;
}

export async function recordGranted(licence: LicenceDoc, at: Date, session: ClientSession): Promise<void> {
  const terms = licence.terms as OfferTermsValues;
  await recordLicensingEvent({
    type: 'licence.granted', key: `licence.granted:${licence._id}`, occurredAt: at, licence: licence._id,
    licensor: licence.licensor, licensee: licence.licensee, amountFen: committedFen(terms),
    data: { number: licence.number, kind: licence.kind, feeForm: terms.feeForm },
  }, session);
}

/**
 * Issues the fixed-fee invoices of `terms` with the first due `firstDueDays`
 * after `now`: the lump sum, every instalment, or the entry fee. Keys make a
 * repeat a no-op. Returns how many invoices the terms call for.
 */
export async function billFixedFees(licence: LicenceDoc, terms: OfferTermsValues, now: Date, firstDueDays: number, session: ClientSession): Promise<number> {
  const firstDue = addDays(now, firstDueDays);
  const base = { licence, issuedAt: now };
  if (terms.feeForm === 'lump_sum') {
    await issueInvoice({ ...base, kind: 'lump_sum', amountFen: terms.lumpSumFen, dueAt: firstDue, key: 'lump_sum' }, session);
    return 1;
  }
  if (terms.feeForm === 'instalments') {
    for (let i = 1; i <= terms.instalmentCount; i++) {
      const dueAt = addMonths(firstDue, (i - 1) * terms.instalmentIntervalMonths);
      await issueInvoice({ ...base, kind: 'instalment', amountFen: terms.instalmentFen, dueAt, key: `instalment:${i}`, instalment: i }, session);
    }
    return terms.instalmentCount;
  }
  if (terms.feeForm === 'entry_plus_royalty' && terms.entryFeeFen > 0) {
    await issueInvoice({ ...base, kind: 'entry_fee', amountFen: terms.entryFeeFen, dueAt: firstDue, key: 'entry_fee' }, session);
    return 1;
  }
  return 0;
}

/** Whether `actor` is a party to `licence` (its licensor's TTO or its licensee's SME). */
export function isParty(actor: Actor, licence: { licensor: Types.ObjectId; licensee: Types.ObjectId }): boolean {
  return (actor.role === 'tto' && licence.licensor.equals(actor.orgId)) || (actor.role === 'sme' && licence.licensee.equals(actor.orgId));
}

/**
 * The licence, for one of its parties on `side`; anyone else gets 404, as if
 * it did not exist (a licence's existence is itself confidential).
 */
export async function partyLicence(actor: Actor, id: string, side: 'licensor' | 'licensee' | 'either', session?: ClientSession): Promise<LicenceDoc> {
  if (!MTypes.ObjectId.isValid(id)) throw new NotFoundError('licence.not_found');
  const licence = await Licence.findById(id).session(session ?? null);
  if (!licence || !isParty(actor, licence)) throw new NotFoundError('licence.not_found');
  const mine = actor.role === 'tto' ? 'licensor' : 'licensee';
  if (side !== 'either' && side !== mine) throw new ForbiddenError('error.forbidden_role');
  return licence;
}

/** A message typed by a person: trimmed, bounded, no markup. */
export function checkText(field: string, raw: string, opts: { min: number; max: number }): string {
  const text = (raw ?? '').trim();
  if (text.length < opts.min) throw new ValidationError({ [field]: { key: 'licence.text.too_short', params: { min: opts.min } } });
  if (text.length > opts.max) throw new ValidationError({ [field]: { key: 'patent.input.too_long', params: { max: opts.max } } });
  if (/[<>]/.test(text)) throw new ValidationError({ [field]: { key: 'form.no_markup' } });
  return text;
}

/** The two organisations and what the licence freezes of them and of the patent. */
export async function partiesAndSnapshot(
  actor: Actor,
  offer: { holder: Types.ObjectId; announcementNo?: string | null },
  patent: { applicationNumber: string; titleZh: string; expiryDate: Date },
) {
  const [licensor, licensee] = await Promise.all([Organization.findById(offer.holder).lean(), Organization.findById(actor.orgId).lean()]);
  if (!licensor || !licensee) throw new ConflictError('licence.party.missing');
  const snapshot = {
    applicationNumber: patent.applicationNumber, patentTitleZh: patent.titleZh, patentExpiry: patent.expiryDate,
    licensorNameZh: licensor.nameZh, licenseeNameZh: licensee.nameZh, licenseeSizeClass: licensee.enterprise?.sizeClass ?? null,
    announcementNo: offer.announcementNo ?? null,
  };
  return { licensor, licensee, snapshot };
}


/**
 * A request an enterprise makes on an offer that waits for the holder (a
 * pay-later application, a negotiation request): re-checks the offer and the
 * one-licence rule inside the transaction, creates the licence in `state`
 * with the enterprise's words as its notice, and audits `auditAction`.
 */
export async function createRequestedLicence(
  ctx: Ctx,
  actor: Actor,
  req: {
    offerId: string;
    kind: 'deferred' | 'negotiated';
    taken: Awaited<ReturnType<typeof takeableOffer>>;
    snapshot: Record<string, unknown>;
    statement: string;
    state: LicenceState;
    reason: string;
    auditAction: string;
    now: Date;
  },
): Promise<LicenceDoc> {
  const { offer, patent, terms } = req.taken;
  return mongoose.connection.transaction(async (session) => {
    await takeableOffer(req.offerId, req.kind, req.now, session);
    await refuseSecondLicence(patent._id, actor.orgId, session);
    const created = await createLicence(ctx, {
      kind: req.kind, offer: offer._id, patent: patent._id, licensor: offer.holder, licensee: actor.orgId, terms, snapshot: req.snapshot,
      notice: { by: actor.userId, at: req.now, ip: ctx.meta.ip, statement: req.statement },
    }, req.state, req.reason, req.now, session);
    await recordAudit(ctx, req.auditAction, { type: 'Licence', id: created._id }, { number: created.number, offer: String(offer._id) }, session);
    return created;
  });
}
