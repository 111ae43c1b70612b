/**
 * Enquiries: a verified SME asks the holder's TTO about a listed patent. The
 * message is kept in-app (the TTO's inbox) and e-mailed to the holder's
 * users; the patent's enquiry counter goes up in the same transaction.
 */
import mongoose, { Types } from 'mongoose';
import { Enquiry } from '../../models/enquiry.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { User } from '../../models/user.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { recordAudit } from './audit.js';
import { requireRole, requireVerified, type Ctx } from './context.js';
import type { Mailer } from './mail.js';

export async function sendEnquiry(ctx: Ctx, patentId: string, message: string, mailer: Mailer, publicUrl: string) {
  const actor = requireRole(ctx, 'sme');
  requireVerified(actor);
  const text = message.trim();
  if (text.length < 10) throw new ValidationError({ message: { key: 'enquiry.message.too_short' } });
  if (text.length > 2000) throw new ValidationError({ message: { key: 'patent.input.too_long', params: { max: 2000 } } });
  if (/[<>]/.test(text)) throw new ValidationError({ message: { key: 'form.no_markup' } });
  if (!Types.ObjectId.isValid(patentId)) throw new NotFoundError('catalogue.not_found');
  const patent = await Patent.findOne({ _id: patentId, status: 'active', 'listing.listed': true }).lean();
  if (!patent) throw new NotFoundError('catalogue.not_found');
  const enquiry = await mongoose.connection.transaction(async (session) => {
    const [created] = await Enquiry.create([{ patent: patent._id, fromOrg: actor.orgId, fromUser: actor.userId, toOrg: patent.holder, message: text }], { session });
    // The counter is a statistic, not an edit of the listing: leave updatedAt (the search index's sync mark) alone.
    await Patent.updateOne({ _id: patent._id }, { $inc: { enquiries: 1 } }, { session, timestamps: false });
    await recordAudit(ctx, 'enquiry.sent', { type: 'Enquiry', id: created._id }, { patent: String(patent._id), toOrg: String(patent.holder) }, session);
    return created;
  });
  const [from, recipients] = await Promise.all([
    Organization.findById(actor.orgId).select('nameZh nameEn').lean(),
    User.find({ organization: patent.holder, active: true }).select('email').lean(),
  ]);
  for (const r of recipients) {
    await mailer.send({
      to: r.email,
      subject: `【长三角科技成果许可交易平台】企业咨询：${patent.titleZh} / Enquiry about your patent`,
      text: `${from?.nameZh ?? ''}（${actor.email}）咨询专利 ${patent.applicationNumber}《${patent.titleZh}》：\n\n${text}\n\n在平台查看：${publicUrl}/enquiries\n\n${from?.nameEn || from?.nameZh || ''} (${actor.email}) asked about patent ${patent.applicationNumber}. Read it on the exchange: ${publicUrl}/enquiries`,
    });
  }
  return enquiry;
}

/** The TTO's inbox (enquiries to its institution) or the SME's sent list. */
export async function listEnquiries(ctx: Ctx) {
  const actor = requireRole(ctx, 'tto', 'sme');
  const filter = actor.role === 'tto' ? { toOrg: actor.orgId } : { fromOrg: actor.orgId };
  const enquiries = await Enquiry.find(filter).sort({ createdAt: -1 }).limit(200).lean();
  const [patents, orgs, users] = await Promise.all([
    Patent.find({ _id: { $in: enquiries.map((e) => e.patent) } }).select('titleZh titleEn applicationNumber').lean(),
    Organization.find({ _id: { $in: enquiries.flatMap((e) => [e.fromOrg, e.toOrg]) } }).select('nameZh nameEn region').lean(),
    User.find({ _id: { $in: enquiries.map((e) => e.fromUser) } }).select('name email').lean(),
  ]);
  const byId = <T extends { _id: unknown }>(xs: T[]) => new Map(xs.map((x) => [String(x._id), x]));
  const [p, o, u] = [byId(patents), byId(orgs), byId(users)];
  return enquiries.map((e) => ({ ...e, patentDoc: p.get(String(e.patent)), from: o.get(String(e.fromOrg)), to: o.get(String(e.toOrg)), sender: u.get(String(e.fromUser)), unread: !e.readAt }));
}

/** The TTO has seen its inbox: everything in it is read. */
export async function markInboxRead(ctx: Ctx): Promise<void> {
  const actor = requireRole(ctx, 'tto');
  await Enquiry.updateMany({ toOrg: actor.orgId, readAt: null }, { $set: { readAt: new Date() } });
}
