/**
 * Shared steps for the licensing suites: service contexts for the demo
 * users, and published offers of any kind and fee form on fresh patents of
 * a TTO's institution (made through the same services the register pages
 * use, so eligibility and term rules apply).
 */
import type { Types } from 'mongoose';
import { User } from '../../models/user.js';
import { actorFor } from '../../server/services/accounts.js';
import type { Ctx } from '../../server/services/context.js';
import { createOffer, publishOffer } from '../../server/services/offers.js';
import type { OfferForm } from '../../server/services/offer-input.js';
import { createPatent } from '../../server/services/patents.js';
import type { OfferKind } from '../../models/patent.js';
import { patentForm } from './catalogue-helpers.js';

export async function ctxFor(email: string, ip = '203.0.113.7'): Promise<Ctx> {
  const user = await User.findOne({ email }).lean();
  if (!user) throw new Error(`no demo user ${email}`);
  return { actor: await actorFor(user._id), meta: { requestId: `test-${email}`, ip } };
}

export async function orgOf(email: string): Promise<Types.ObjectId> {
  return (await User.findOne({ email }).lean())!.organization;
}

let serial = 500;

/** A fresh patent of the TTO's institution with one published offer; returns both ids. */
export async function publishedOffer(tto: Ctx, kind: OfferKind, terms: OfferForm): Promise<{ patentId: string; offerId: string }> {
  const patent = await createPatent(tto, patentForm(serial++) as never);
  const offer = await createOffer(tto, String(patent._id), kind, terms);
  await publishOffer(tto, String(offer._id), true);
  return { patentId: String(patent._id), offerId: String(offer._id) };
}

export const TERMS = {
  openLumpSum: { feeForm: 'lump_sum', lumpSum: '50000', termMonths: '36' },
  openRoyalty: { feeForm: 'royalty', royaltyPercent: '3', termMonths: '36' },
  openInstalments: { feeForm: 'instalments', instalmentCount: '4', instalmentAmount: '10000', instalmentIntervalMonths: '3', termMonths: '36' },
  deferred: (feeForm: string, trigger = 'time', extra: Record<string, string> = {}): OfferForm => ({
    feeForm, termMonths: '60', freeMonths: '12', trigger,
    ...(feeForm === 'lump_sum' && { lumpSum: '80000' }),
    ...(feeForm === 'instalments' && { instalmentCount: '3', instalmentAmount: '20000', instalmentIntervalMonths: '6' }),
    ...(feeForm === 'royalty' && { royaltyPercent: '2' }),
    ...(feeForm === 'entry_plus_royalty' && { entryFee: '5000', royaltyPercent: '2' }),
    ...extra,
  }),
  negotiated: { feeForm: 'lump_sum', termMonths: '24' },
} satisfies Record<string, OfferForm | ((...a: never[]) => OfferForm)>;
