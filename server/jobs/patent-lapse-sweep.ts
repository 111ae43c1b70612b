/**
 * The daily lapse sweep (under a lease): a patent whose term has run out
 * (expiryDate passed), or whose legal status says it lapsed without the
 * register edit having ended its licences (an import, a direct correction),
 * ends its live licences through endLicencesOnPatentLapse, one transaction
 * per patent. Only patents that still have live licences are looked at, so
 * the daily run stays small however many patents expired long ago. Safe to
 * run twice or concurrently: a second run finds no live licence to end.
 */
import mongoose from 'mongoose';
import { Licence } from '../../models/licence.js';
import { Patent, type LegalStatus } from '../../models/patent.js';
import { LIVE_LICENCE_STATES } from '../domain/licence-states.js';
import type { Ctx } from '../services/context.js';
import { sendLicensingNotices, type Notice } from '../services/licensing-notices.js';
import type { Mailer } from '../services/mail.js';
import { endLicencesOnPatentLapse, LAPSED_LEGAL_STATUSES } from '../services/patent-lapse.js';

export interface PatentLapseSweepResult {
  patents: number;
  licences: number;
  voided: number;
  mails: number;
}

export async function runPatentLapseSweep(deps: { mailer: Mailer; publicUrl?: string; now?: Date }): Promise<PatentLapseSweepResult> {
  const now = deps.now ?? new Date();
  const ctx: Ctx = { actor: null, meta: { requestId: `patent-lapse-sweep:${now.toISOString()}`, ip: '' } };
  const licensed = await Licence.distinct('patent', { state: { $in: LIVE_LICENCE_STATES } });
  const lapsed = await Patent.find({
    _id: { $in: licensed },
    $or: [{ expiryDate: { $lte: now } }, { legalStatus: { $in: LAPSED_LEGAL_STATUSES } }],
  }).select('expiryDate legalStatus').lean();
  const result: PatentLapseSweepResult = { patents: 0, licences: 0, voided: 0, mails: 0 };
  const notices: Notice[] = [];
  for (const patent of lapsed) {
    const expired = patent.expiryDate <= now;
    // An expired term ended the licences on the expiry date; any other lapse is taken as of now (the register holds no lapse date).
    const cause: LegalStatus = LAPSED_LEGAL_STATUSES.includes(patent.legalStatus as LegalStatus) ? (patent.legalStatus as LegalStatus) : 'expired';
    const at = expired ? patent.expiryDate : now;
    const done = await mongoose.connection.transaction((session) => endLicencesOnPatentLapse(ctx, patent._id, at, cause, session));
    if (!done.licences) continue;
    result.patents++;
    result.licences += done.licences;
    result.voided += done.voided;
    notices.push(...done.notices);
  }
  result.mails = await sendLicensingNotices(deps.mailer, deps.publicUrl ?? '', notices);
  return result;
}
