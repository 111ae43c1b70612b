/**
 * The patent register (单列管理): a TTO creates, edits and retires its own
 * institution's patents. Every change is audited in the same transaction;
 * a TTO never touches another institution's record.
 */
import mongoose, { Types, type ClientSession } from 'mongoose';
import { Offer } from '../../models/offer.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { recordAudit } from './audit.js';
import { sendLicensingNotices } from './licensing-notices.js';
import type { Mailer } from './mail.js';
import { endLicencesOnPatentLapse, LAPSED_LEGAL_STATUSES, type LapseResult } from './patent-lapse.js';
import { requireRole, type Actor, type Ctx } from './context.js';
import { checkPatentInput, type PatentInput, type PatentValues } from './patent-input.js';

/** The patent, if it exists and belongs to the actor's institution; 404 / 403 otherwise. */
export async function ownPatent(actor: Actor, id: string, session?: ClientSession) {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('patent.not_found');
  const patent = await Patent.findById(id).session(session ?? null);
  if (!patent) throw new NotFoundError('patent.not_found');
  if (!patent.holder.equals(actor.orgId)) throw new ForbiddenError('patent.not_yours');
  return patent;
}

function valuesOrThrow(input: PatentInput): PatentValues {
  const checked = checkPatentInput(input);
  if (!checked.ok) throw new ValidationError(checked.errors as Record<string, { key: string }>);
  return checked.values;
}

function duplicateNumber(err: unknown): ValidationError | null {
  const e = err as { code?: number; keyPattern?: Record<string, unknown> };
  if (e?.code === 11000 && e.keyPattern?.applicationNumber) return new ValidationError({ applicationNumber: { key: 'patent.register.number_taken' } });
  return null;
}

export async function createPatent(ctx: Ctx, input: PatentInput) {
  const actor = requireRole(ctx, 'tto');
  const values = valuesOrThrow(input);
  if (await Patent.exists({ applicationNumber: { $eq: values.applicationNumber } })) {
    throw new ValidationError({ applicationNumber: { key: 'patent.register.number_taken' } });
  }
  const holder = await Organization.findById(actor.orgId).lean();
  if (!holder) throw new ForbiddenError();
  try {
    return await mongoose.connection.transaction(async (session) => {
      const [patent] = await Patent.create([{ ...values, holder: actor.orgId, region: holder.region, createdBy: actor.userId }], { session });
      await recordAudit(ctx, 'patent.created', { type: 'Patent', id: patent._id }, { applicationNumber: values.applicationNumber, titleZh: values.titleZh }, session);
      return patent;
    });
  } catch (err) {
    throw duplicateNumber(err) ?? err;
  }
}

/** Which stored values an edit changes (for the audit summary). */
function changedFields(before: Record<string, unknown>, after: PatentValues): string[] {
  return Object.keys(after).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k as keyof PatentValues]));
}

/**
 * Edits a patent. Setting its legal status to lapsed, invalidated or expired
 * ends its live licences in the same transaction (patent-lapse.ts); with
 * `notify`, both parties of each are told after the commit.
 */
export async function updatePatent(ctx: Ctx, id: string, input: PatentInput, notify?: { mailer: Mailer; publicUrl: string }) {
  const actor = requireRole(ctx, 'tto');
  await ownPatent(actor, id);
  const values = valuesOrThrow(input);
  let lapse: LapseResult | null = null;
  try {
    const updated = await mongoose.connection.transaction(async (session) => {
      lapse = null;
      const patent = await ownPatent(actor, id, session);
      if (patent.status === 'retired') throw new ConflictError('patent.retired');
      const offers = await Offer.find({ patent: patent._id, status: { $ne: 'draft' } }).session(session).lean();
      // The number is the patent's identity once anyone has seen an offer on it.
      if (offers.length && values.applicationNumber !== patent.applicationNumber) {
        throw new ValidationError({ applicationNumber: { key: 'patent.register.number_locked' } });
      }
      // Patent Law Art. 51: no exclusive or sole licence while an open-licence declaration is live.
      if (values.exclusiveLicence !== 'none' && offers.some((o) => o.kind === 'open' && o.status === 'published')) {
        throw new ValidationError({ exclusiveLicence: { key: 'patent.input.exclusive_open_live' } });
      }
      const changed = changedFields(patent.toObject(), values);
      const lapses = LAPSED_LEGAL_STATUSES.includes(values.legalStatus) && !LAPSED_LEGAL_STATUSES.includes(patent.legalStatus);
      patent.set(values);
      await patent.save({ session });
      await recordAudit(ctx, 'patent.updated', { type: 'Patent', id: patent._id }, { changed }, session);
      if (lapses) lapse = await endLicencesOnPatentLapse(ctx, patent._id, new Date(), values.legalStatus, session);
      return patent;
    });
    const ended = lapse as LapseResult | null;
    if (notify && ended?.notices.length) await sendLicensingNotices(notify.mailer, notify.publicUrl, ended.notices);
    return updated;
  } catch (err) {
    throw duplicateNumber(err) ?? err;
  }
}

/** Takes a patent out of the register's active list (kept for the record); its offers must be withdrawn first. */
export async function retirePatent(ctx: Ctx, id: string, reason: string) {
  const actor = requireRole(ctx, 'tto');
  if (reason.trim().length < 2) throw new ValidationError({ reason: { key: 'patent.retire.reason_required' } });
  return mongoose.connection.transaction(async (session) => {
    const patent = await ownPatent(actor, id, session);
    if (patent.status === 'retired') throw new ConflictError('patent.retired');
    if (await Offer.exists({ patent: patent._id, status: 'published' }).session(session)) throw new ConflictError('patent.retire.offers_live');
    patent.status = 'retired';
    patent.retiredReason = reason.trim();
    await patent.save({ session });
    await recordAudit(ctx, 'patent.retired', { type: 'Patent', id: patent._id }, { reason: reason.trim() }, session);
    return patent;
  });
}

export interface RegisterQuery {
  status: 'active' | 'retired';
  page: number;
}

/** The institution's register, newest changes first, 50 a page. */
export async function listRegister(ctx: Ctx, q: RegisterQuery) {
  const actor = requireRole(ctx, 'tto');
  const filter = { holder: actor.orgId, status: q.status };
  const pageSize = 50;
  const [total, patents] = await Promise.all([
    Patent.countDocuments(filter),
    Patent.find(filter).sort({ updatedAt: -1 }).skip((q.page - 1) * pageSize).limit(pageSize).lean(),
  ]);
  return { patents, total, page: q.page, pages: Math.max(1, Math.ceil(total / pageSize)) };
}

/** The register's form values for a stored patent (the inverse of checkPatentInput). */
export function patentToInput(p: PatentValues): Record<string, string> {
  const day = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 10) : '');
  return {
    applicationNumber: p.applicationNumber, titleZh: p.titleZh, titleEn: p.titleEn ?? '', abstractZh: p.abstractZh ?? '', abstractEn: p.abstractEn ?? '',
    problem: p.summary?.problem ?? '', application: p.summary?.application ?? '', advantage: p.summary?.advantage ?? '',
    ipc: p.ipc.join(', '), fields: p.fields.join(','), inventors: p.inventors.join(', '),
    coOwners: p.coOwners.map((c) => (c.consentToOpenLicence ? `${c.name}:同意` : c.name)).join(', '),
    filingDate: day(p.filingDate), grantDate: day(p.grantDate), legalStatus: p.legalStatus, annualFeePaidThrough: day(p.annualFeePaidThrough),
    pledged: p.pledged ? '1' : '', pledgeeConsent: p.pledgeeConsent ? '1' : '', exclusiveLicence: p.exclusiveLicence,
    suspended: p.suspended ? '1' : '', evaluationReport: p.evaluationReport ? '1' : '', trl: p.trl ? String(p.trl) : '', assetRef: p.assetRef ?? '',
  };
}
