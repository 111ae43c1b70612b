/**
 * The demo catalogue: generated patents in the registers of the demo
 * universities and institutes, published offers of all three kinds on the
 * ones eligible for them, and a few technical needs from the demo SMEs — so
 * the catalogue, matching and digests have something real to work on.
 * Everything goes through the same shapes and rules as the services
 * (eligibility, term validation, listing), and is audited as seeded.
 */
import mongoose, { type Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { Demand } from '../../models/demand.js';
import { Offer, type FeeForm } from '../../models/offer.js';
import { Organization } from '../../models/organization.js';
import { Patent, type OfferKind } from '../../models/patent.js';
import { User } from '../../models/user.js';
import { openLicenceBlockers } from '../domain/open-licence-eligibility.js';
import { validateOfferTerms } from '../domain/offer-terms.js';
import type { OfferTermsValues } from '../services/offer-input.js';
import { upfrontFen } from '../services/offers.js';
import { generateNeeds, generatePatents } from './patent-generator.js';
import { Rng } from './rng.js';

export interface DemoCatalogueOptions {
  patents?: number;
  seed?: number;
  now?: Date;
}

/** Plausible terms of each kind (fen; royalty in basis points). */
function termsFor(kind: OfferKind, rng: Rng): OfferTermsValues {
  const base = { entryFeeFen: 0, lumpSumFen: 0, instalmentCount: 0, instalmentFen: 0, instalmentIntervalMonths: 0, royaltyBps: 0, freeMonths: null, trigger: null, notes: '' };
  const form: FeeForm = kind === 'deferred' ? rng.pick(['royalty', 'royalty', 'lump_sum', 'entry_plus_royalty'] as FeeForm[]) : rng.pick(['lump_sum', 'lump_sum', 'royalty', 'free', 'entry_plus_royalty'] as FeeForm[]);
  const t: OfferTermsValues = { ...base, feeForm: form, termMonths: rng.pick([24, 36, 36, 60]) };
  if (form === 'lump_sum') t.lumpSumFen = rng.pick([20_000, 50_000, 80_000, 150_000, 300_000]) * 100;
  if (form === 'royalty') t.royaltyBps = rng.pick([150, 200, 300, 500]);
  if (form === 'entry_plus_royalty') {
    t.entryFeeFen = rng.pick([5_000, 10_000, 30_000]) * 100;
    t.royaltyBps = rng.pick([100, 200, 300]);
  }
  if (kind === 'deferred') {
    t.freeMonths = rng.pick([12, 12, 18, 24]);
    t.trigger = rng.pick(['time', 'first_revenue', 'either', 'either'] as const);
  }
  return t;
}

export async function loadDemoCatalogue(opts: DemoCatalogueOptions = {}): Promise<{ patents: number; offers: number; needs: number }> {
  const now = opts.now ?? new Date();
  const rng = new Rng(opts.seed ?? 7);
  const holders = await Organization.find({ kind: { $in: ['university', 'institute'] } }).sort({ uscc: 1 }).lean();
  const smes = await Organization.find({ kind: 'enterprise', verified: true }).sort({ uscc: 1 }).lean();
  if (!holders.length) return { patents: 0, offers: 0, needs: 0 };
  const creators = new Map<string, Types.ObjectId>();
  for (const u of await User.find({ organization: { $in: [...holders, ...smes].map((o) => o._id) }, orgAdmin: true }).lean()) creators.set(String(u.organization), u._id);

  const generated = generatePatents(opts.patents ?? 240, opts.seed ?? 7, { asOf: now });
  const patents: Record<string, unknown>[] = [];
  const offers: Record<string, unknown>[] = [];
  for (const [i, { patent }] of generated.entries()) {
    const holder = holders[i % holders.length]!;
    const _id = new mongoose.Types.ObjectId();
    const doc = { ...patent, _id, holder: holder._id, region: holder.region, createdBy: creators.get(String(holder._id)) ?? null, assetRef: `DEMO-${String(i + 1).padStart(5, '0')}`, listing: { listed: false, kinds: [], minEntryFeeFen: null, publishedAt: null } };
    // Only verified holders publish; about two in three eligible patents are on offer.
    const kinds: OfferKind[] = [];
    if (holder.verified && patent.legalStatus === 'granted' && rng.chance(0.7)) {
      if (!openLicenceBlockers(doc, now).length && rng.chance(0.6)) kinds.push('open');
      if (rng.chance(0.5)) kinds.push('deferred');
      if (!kinds.length || rng.chance(0.15)) kinds.push('negotiated');
    }
    const published: { kind: OfferKind; terms: OfferTermsValues; at: Date }[] = [];
    for (const kind of kinds) {
      const terms = termsFor(kind, rng);
      if (Object.keys(validateOfferTerms(kind, terms, doc, now)).length) continue;
      const at = new Date(now.getTime() - rng.int(1, 300) * 86_400_000);
      published.push({ kind, terms, at });
      offers.push({ patent: _id, holder: holder._id, kind, status: 'published', terms, publishedAt: at, publishedBy: doc.createdBy, createdBy: doc.createdBy, announcementNo: kind === 'open' ? `OL-DEMO-${String(offers.length + 1).padStart(6, '0')}` : null });
    }
    if (published.length) {
      const fees = published.map((o) => upfrontFen(o.kind, o.terms)).filter((f): f is number => f !== null);
      doc.listing = { listed: true, kinds: [...new Set(published.map((o) => o.kind))], minEntryFeeFen: fees.length ? Math.min(...fees) : null, publishedAt: new Date(Math.max(...published.map((o) => o.at.getTime()))) } as never;
    }
    patents.push(doc);
  }

  const needs = generateNeeds(Math.max(6, smes.length * 2), opts.seed ?? 7).map(({ need }, i) => {
    const org = smes[i % smes.length]!;
    return { title: need.title, problem: need.problem, fields: need.fields, budgetFen: need.budgetFen, region: org.region, organization: org._id, createdBy: creators.get(String(org._id)) };
  }).filter((n) => n.createdBy && smes.length);

  await mongoose.connection.transaction(async (session) => {
    await Patent.insertMany(patents, { session });
    await Offer.insertMany(offers, { session });
    if (needs.length) await Demand.insertMany(needs, { session });
    await AuditEvent.create([{ action: 'catalogue.seeded', targetType: 'Patent', targetId: 'demo', summary: { patents: patents.length, offers: offers.length, needs: needs.length, source: 'demo seed' }, requestId: 'seed' }], { session });
  });
  return { patents: patents.length, offers: offers.length, needs: needs.length };
}
