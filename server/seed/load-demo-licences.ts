/**
 * Demo licences, so the dashboards and licence pages have something to show
 * on a fresh install: for the demo SMEs, under the demo universities'
 * published offers, one licence in each interesting place —
 * - an open licence, active, its entry invoice paid (by bank transfer, confirmed);
 * - a pay-later licence in its free period;
 * - a licence in arrears with an overdue royalty invoice;
 * - a defaulted licence with an invoice in default.
 * Written in the shapes the services write: licence numbers from the
 * licence counter, invoices through issueInvoice, the licensing events
 * (granted, payment received, overdue, in arrears, defaulted) through
 * recordLicensingEvent, every licence state change audited as seeded.
 * Runs after loadDemoCatalogue; does nothing if a demo party is missing.
 */
import mongoose, { type ClientSession, type Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { nextValue } from '../../models/counter.js';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { Offer } from '../../models/offer.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { Payment } from '../../models/payment.js';
import { User } from '../../models/user.js';
import type { LicenceState } from '../domain/licence-states.js';
import { issueInvoice } from '../services/invoice-issue.js';
import { recordLicensingEvent } from '../services/licensing-events.js';

const DAY = 86_400_000;

interface Spec {
  tto: string;
  sme: string;
  kind: 'open' | 'deferred';
  /** The states it went through, in order (the last is where it is). */
  path: LicenceState[];
  startedDaysAgo: number;
}

const SPECS: Spec[] = [
  { tto: 'tto.sh@demo.yrd-exchange.cn', sme: 'sme.micro@demo.yrd-exchange.cn', kind: 'open', path: ['notified', 'active'], startedDaysAgo: 40 },
  { tto: 'tto.sh@demo.yrd-exchange.cn', sme: 'sme.small@demo.yrd-exchange.cn', kind: 'deferred', path: ['applied', 'active_free'], startedDaysAgo: 75 },
  { tto: 'tto.js@demo.yrd-exchange.cn', sme: 'sme.micro@demo.yrd-exchange.cn', kind: 'open', path: ['active', 'in_arrears'], startedDaysAgo: 200 },
  { tto: 'tto.sh@demo.yrd-exchange.cn', sme: 'sme.small@demo.yrd-exchange.cn', kind: 'open', path: ['active', 'in_arrears', 'defaulted'], startedDaysAgo: 400 },
];

type LicenceDoc = InstanceType<typeof Licence>;

async function event(type: Parameters<typeof recordLicensingEvent>[0]['type'], licence: LicenceDoc, at: Date, session: ClientSession, extra: { invoice?: Types.ObjectId; payment?: Types.ObjectId; amountFen?: number } = {}) {
  // The keys the services use: per payment, per invoice, and per licence (plus the invoice that moved it).
  const id = extra.payment ?? (type.startsWith('licence.') ? [licence._id, extra.invoice].filter(Boolean).join(':') : extra.invoice);
  await recordLicensingEvent({ type, key: `${type}:${id}`, occurredAt: at, licence: licence._id, licensor: licence.licensor, licensee: licence.licensee, ...extra, data: { number: licence.number, source: 'demo seed' } }, session);
}

export async function loadDemoLicences(now = new Date()): Promise<{ licences: number; invoices: number }> {
  let licences = 0;
  let invoices = 0;
  await mongoose.connection.transaction(async (session) => {
    licences = 0;
    invoices = 0;
    for (const [n, spec] of SPECS.entries()) {
      // One operation at a time: a transaction's session does not take parallel commands.
      const ttoUser = await User.findOne({ email: spec.tto }).session(session).lean();
      const smeUser = await User.findOne({ email: spec.sme }).session(session).lean();
      if (!ttoUser || !smeUser) continue;
      // A different published offer for each licence, so no licensee holds two licences of one patent.
      const offer = await Offer.findOne({ holder: ttoUser.organization, kind: spec.kind, status: 'published' }).sort({ _id: 1 }).skip(n).session(session).lean()
        ?? await Offer.findOne({ holder: ttoUser.organization, status: 'published' }).sort({ _id: 1 }).skip(n).session(session).lean();
      if (!offer) continue;
      const patent = await Patent.findById(offer.patent).session(session).lean();
      const licensor = await Organization.findById(ttoUser.organization).session(session).lean();
      const licensee = await Organization.findById(smeUser.organization).session(session).lean();
      const start = new Date(now.getTime() - spec.startedDaysAgo * DAY);
      const history = spec.path.map((to, i) => ({ at: new Date(start.getTime() + i * Math.min(30, spec.startedDaysAgo / 4) * DAY), from: i ? spec.path[i - 1]! : null, to, by: null, reason: 'demo seed' }));
      const number = `LIC-${now.getUTCFullYear()}-${String(await nextValue(`licence-${now.getUTCFullYear()}`, session)).padStart(6, '0')}`;
      const [licence] = await Licence.create([{
        number, kind: offer.kind, state: spec.path.at(-1), offer: offer._id, patent: offer.patent, licensor: licensor!._id, licensee: licensee!._id, terms: offer.terms,
        snapshot: { applicationNumber: patent!.applicationNumber, patentTitleZh: patent!.titleZh, patentExpiry: patent!.expiryDate, licensorNameZh: licensor!.nameZh, licenseeNameZh: licensee!.nameZh, licenseeSizeClass: licensee!.enterprise?.sizeClass ?? null, announcementNo: offer.announcementNo },
        notice: { by: smeUser._id, at: start, ip: '127.0.0.1', statement: 'demo seed' },
        effectiveAt: start, filingDueAt: new Date(start.getTime() + 91 * DAY), freePeriodEndsAt: spec.kind === 'deferred' ? new Date(start.getTime() + 365 * DAY) : null,
        history, createdBy: smeUser._id,
      }], { session });
      await AuditEvent.insertMany(history.map((h) => ({ at: h.at, action: 'licence.state_changed', targetType: 'Licence', targetId: String(licence!._id), summary: { number, from: h.from, to: h.to, reason: 'demo seed' }, requestId: 'seed' })), { session });
      await event('licence.granted', licence!, start, session);
      licences++;
      const state = spec.path.at(-1);
      if (state === 'active_free') continue;
      const amountFen = state === 'active' ? 5_000_000 : 1_850_000;
      const issuedAt = state === 'active' ? start : new Date(now.getTime() - (state === 'defaulted' ? 130 : 45) * DAY);
      const invoice = await issueInvoice({ licence: licence!, kind: state === 'active' ? 'entry_fee' : 'royalty', amountFen, issuedAt, dueAt: new Date(issuedAt.getTime() + 15 * DAY), key: state === 'active' ? 'entry_fee' : 'royalty:demo' }, session);
      invoices++;
      if (state === 'active') {
        const paidAt = new Date(start.getTime() + 2 * DAY);
        const [payment] = await Payment.create([{ invoice: invoice._id, licence: licence!._id, payer: licensee!._id, payee: licensor!._id, provider: 'bank_transfer', amountFen, appliedFen: amountFen, status: 'confirmed', providerRef: `DEMO-BANK-${number}`, idempotencyKey: `demo:${number}`, createdBy: smeUser._id, decidedBy: ttoUser._id, decidedAt: paidAt }], { session });
        await Invoice.updateOne({ _id: invoice._id }, { $set: { status: 'paid', paidFen: amountFen, paidAt } }, { session });
        await event('payment.received', licence!, paidAt, session, { invoice: invoice._id, payment: payment!._id, amountFen });
        continue;
      }
      const overdueAt = new Date(invoice.dueAt.getTime() + DAY);
      const defaultedAt = state === 'defaulted' ? new Date(invoice.dueAt.getTime() + 90 * DAY) : null;
      await Invoice.updateOne({ _id: invoice._id }, { $set: { status: defaultedAt ? 'defaulted' : 'overdue', overdueAt, defaultedAt, remindersSent: ['overdue'] } }, { session });
      await event('invoice.overdue', licence!, overdueAt, session, { invoice: invoice._id, amountFen });
      await event('licence.in_arrears', licence!, overdueAt, session, { invoice: invoice._id, amountFen });
      if (defaultedAt) {
        await event('invoice.defaulted', licence!, defaultedAt, session, { invoice: invoice._id, amountFen });
        await event('licence.defaulted', licence!, defaultedAt, session, { invoice: invoice._id, amountFen });
      }
    }
  });
  return { licences, invoices };
}
