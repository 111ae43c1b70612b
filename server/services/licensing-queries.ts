/**
 * Reading licences. A licence is seen by its two parties (the licensor's
 * TTO, the licensee's SME users) and, read-only, by regulators, admins and
 * the fund's managers (who judge claims on defaulted licences and reach
 * them from the ledger explorer);
 * to any other SME or TTO it does not exist (404), so nobody learns who
 * licensed what from another organisation's ids.
 */
import { Types } from 'mongoose';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { LICENCE_STATES, LIVE_LICENCE_STATES, type LicenceState } from '../domain/licence-states.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { User } from '../../models/user.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { requireRole, type Ctx } from './context.js';
import { isParty, NOT_GRANTED } from './licensing-common.js';

export type LicenceSide = 'licensor' | 'licensee' | 'observer';

/** What the viewer may do now, by state and side (the services check again). */
function actionsFor(state: LicenceState, side: LicenceSide, filed: boolean) {
  const granted = !NOT_GRANTED.includes(state);
  return {
    decide: side === 'licensor' && state === 'applied',
    propose: side === 'licensor' && state === 'requested',
    accept: side === 'licensee' && state === 'proposed',
    decline: side !== 'observer' && (state === 'requested' || state === 'proposed'),
    terminate: side === 'licensee' && state === 'active_free',
    filing: side === 'licensor' && granted && !filed && (LIVE_LICENCE_STATES as readonly string[]).includes(state),
    contract: granted,
  };
}

async function readable(ctx: Ctx, id: string) {
  const actor = requireRole(ctx, 'sme', 'tto', 'regulator', 'admin', 'fund_manager');
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('licence.not_found');
  const licence = await Licence.findById(id).lean();
  if (!licence) throw new NotFoundError('licence.not_found');
  const observer = actor.role === 'regulator' || actor.role === 'admin' || actor.role === 'fund_manager';
  if (!observer && !isParty(actor, licence)) throw new NotFoundError('licence.not_found');
  const side: LicenceSide = observer ? 'observer' : actor.role === 'tto' ? 'licensor' : 'licensee';
  return { licence, side };
}

/** One licence with its parties, patent, invoices and history (names of who acted). */
export async function getLicence(ctx: Ctx, id: string) {
  const { licence, side } = await readable(ctx, id);
  const [licensor, licensee, patent, invoices, users] = await Promise.all([
    Organization.findById(licence.licensor).select('nameZh nameEn uscc region').lean(),
    Organization.findById(licence.licensee).select('nameZh nameEn uscc region enterprise.sizeClass').lean(),
    Patent.findById(licence.patent).select('applicationNumber titleZh titleEn type expiryDate legalStatus').lean(),
    Invoice.find({ licence: licence._id }).sort({ dueAt: 1, instalment: 1 }).lean(),
    User.find({ _id: { $in: licence.history.map((h) => h.by).filter(Boolean) } }).select('name').lean(),
  ]);
  const names = new Map(users.map((u) => [String(u._id), u.name]));
  const history = licence.history.map((h) => ({ ...h, byName: h.by ? (names.get(String(h.by)) ?? '') : '' }));
  const state = licence.state as LicenceState;
  return { licence, side, licensor, licensee, patent, invoices, history, actions: actionsFor(state, side, !!licence.filedAt) };
}

/** What the contract document states; only once the licence has taken effect. */
export async function getContract(ctx: Ctx, id: string) {
  const data = await getLicence(ctx, id);
  if (!data.actions.contract || !data.licence.effectiveAt) throw new ConflictError('licence.contract.not_granted');
  const signer = data.licence.notice?.by ? await User.findById(data.licence.notice.by).select('name email').lean() : null;
  return { ...data, signer };
}

export interface LicenceListQuery {
  state: LicenceState | null;
}

/**
 * The viewer's licences: an SME's as licensee, a TTO's institution's as
 * licensor, newest changes first, with counts per state; for a TTO also the
 * applications and requests awaiting it and the filings (备案) still due.
 */
export async function listLicences(ctx: Ctx, q: LicenceListQuery) {
  const actor = requireRole(ctx, 'sme', 'tto');
  const mine = actor.role === 'tto' ? { licensor: actor.orgId } : { licensee: actor.orgId };
  const filter = q.state && (LICENCE_STATES as readonly string[]).includes(q.state) ? { ...mine, state: q.state } : mine;
  const [licences, byState] = await Promise.all([
    Licence.find(filter).sort({ updatedAt: -1 }).limit(200).select('-history -terms -proposedTerms').lean(),
    Licence.aggregate<{ _id: string; count: number }>([{ $match: mine }, { $group: { _id: '$state', count: { $sum: 1 } } }]),
  ]);
  const counts = byState.sort((a, b) => LICENCE_STATES.indexOf(a._id as LicenceState) - LICENCE_STATES.indexOf(b._id as LicenceState));
  if (actor.role !== 'tto') return { side: 'licensee' as const, licences, counts, awaiting: [], filingsDue: [] };
  const [awaiting, filingsDue] = await Promise.all([
    Licence.find({ ...mine, state: { $in: ['applied', 'requested'] } }).sort({ createdAt: 1 }).limit(100).select('-history -terms -proposedTerms').lean(),
    Licence.find({ ...mine, state: { $in: LIVE_LICENCE_STATES }, filedAt: null, filingDueAt: { $ne: null } }).sort({ filingDueAt: 1 }).limit(100).select('-history -terms -proposedTerms').lean(),
  ]);
  return { side: 'licensor' as const, licences, counts, awaiting, filingsDue };
}
