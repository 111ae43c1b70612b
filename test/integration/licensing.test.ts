/**
 * Licences from offers over HTTP: an open licence taken in one step (DB
 * state, invoices, licensing events, audit, contract), pay-later applied
 * for, decided once, left in the free period, and billed per fee form when
 * the free period ends (twice run, billed once); a negotiated round trip;
 * withdrawn declarations keep their licences; other organisations see
 * nothing; bad input is refused with the reason and writes nothing.
 */
import { expect } from 'chai';
import { AuditEvent } from '../../models/audit-event.js';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { addMonths } from '../../server/domain/patent-term.js';
import { SME_SIZE_STANDARD } from '../../server/domain/sme-size.js';
import { advanceFreePeriods, onFirstRevenue } from '../../server/services/licensing.js';
import { withdrawOffer } from '../../server/services/offers.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import mongoose from 'mongoose';
import { ctxFor, orgOf, publishedOffer, TERMS } from './licensing-helpers.js';
import { csrfOf, DEMO, expectNoInternals, expectShows, mailBody, signedIn, t, type Agent } from './helpers.js';
import type { Ctx } from '../../server/services/context.js';

const SMALL = 'sme.small@demo.yrd-exchange.cn';
const LARGE = 'enterprise.large@demo.yrd-exchange.cn';
const OTHER_TTO = 'tto.js@demo.yrd-exchange.cn';

/** Everything licensing writes, to show that a refused request wrote nothing. */
async function licensingCounts() {
  const [licences, invoices, events, audit] = await Promise.all([Licence.countDocuments(), Invoice.countDocuments(), LicensingEvent.countDocuments(), AuditEvent.countDocuments()]);
  return { licences, invoices, events, audit };
}

describe('licences from offers', function () {
  let h: AppHarness;
  let tto: Agent;
  let sme: Agent;
  let small: Agent;
  let large: Agent;
  let otherTto: Agent;
  let regulator: Agent;
  let fund: Agent;
  let ttoCtx: Ctx;

  /** Posts a form from the listing page (its CSRF token), as a browser would. */
  async function post(agent: Agent, path: string, form: Record<string, string> = {}) {
    const _csrf = await csrfOf(agent, '/');
    return agent.post(path).type('form').send({ _csrf, ...form });
  }
  const licenceIdFrom = (location: unknown) => /\/licences\/([0-9a-f]{24})$/.exec(String(location))?.[1] ?? '';

  before(async () => {
    h = await startApp();
    await loadDemo();
    [tto, sme, small, large, otherTto, regulator, fund] = await Promise.all([DEMO.tto, DEMO.sme, SMALL, LARGE, OTHER_TTO, DEMO.regulator, DEMO.fund_manager].map((e) => signedIn(h, e)));
    ttoCtx = await ctxFor(DEMO.tto);
  });
  after(async () => {
    await h.stop();
  });

  describe('open licence', () => {
    let offer: { patentId: string; offerId: string };
    let licenceId: string;

    before(async () => {
      offer = await publishedOffer(ttoCtx, 'open', TERMS.openLumpSum);
    });

    it('shows the written-notice form with the statement on the listing, and explains to others why not', async () => {
      const page = await sme.get(`/catalogue/${offer.patentId}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include(`action="/offers/${offer.offerId}/licence"`);
      expectShows(page.text, t('licence.open.confirm'));
      expect((await tto.get(`/catalogue/${offer.patentId}`)).text).to.include(t('licence.take.enterprises_only'));
      expect((await h.agent().get(`/catalogue/${offer.patentId}`)).text).to.include(t('licence.take.login_first'));
    });

    it('refuses without the confirmation, naming it, and writes nothing', async () => {
      const before = await licensingCounts();
      const res = await post(sme, `/offers/${offer.offerId}/licence`, {});
      expect(res.status).to.equal(422);
      expectShows(res.text, t('licence.open.confirm_required'));
      expect(await licensingCounts()).to.deep.equal(before);
    });

    it('grants the licence in one step: notice recorded, terms frozen, up-front invoice, event and audit', async () => {
      const started = Date.now();
      const res = await post(sme, `/offers/${offer.offerId}/licence`, { confirm: '1' });
      expect(res.status, res.text.slice(0, 400)).to.equal(303);
      licenceId = licenceIdFrom(res.headers.location);
      const l = (await Licence.findById(licenceId).lean())!;
      expect(l).to.include({ kind: 'open', state: 'notified', exclusivity: 'non_exclusive' });
      expect(l.number).to.match(/^LIC-\d{4}-\d{6}$/);
      expect(l.licensee.equals(await orgOf(DEMO.sme))).to.equal(true);
      expect(l.notice!.by).to.not.equal(null);
      expect(l.notice!.ip).to.be.a('string').and.not.equal('');
      expect(l.notice!.at!.getTime()).to.be.within(started - 1000, Date.now());
      expect(l.notice!.statement).to.include('书面通知').and.include('written notice');
      expect(l.terms).to.include({ feeForm: 'lump_sum', lumpSumFen: 5_000_000, termMonths: 36 });
      expect(l.filingDueAt!.getTime()).to.equal(addMonths(l.effectiveAt!, 3).getTime());
      expect(l.endsAt!.getTime()).to.equal(addMonths(l.effectiveAt!, 36).getTime());
      const invoices = await Invoice.find({ licence: licenceId }).lean();
      expect(invoices.map((i) => [i.kind, i.amountFen, i.status])).to.deep.equal([['lump_sum', 5_000_000, 'open']]);
      expect(Math.round((invoices[0]!.dueAt.getTime() - l.effectiveAt!.getTime()) / 86_400_000)).to.equal(15);
      expect(await LicensingEvent.countDocuments({ licence: licenceId, type: 'licence.granted' })).to.equal(1);
      expect(await LicensingEvent.countDocuments({ licence: licenceId, type: 'invoice.issued' })).to.equal(1);
      expect(await AuditEvent.countDocuments({ targetId: licenceId, action: 'licence.state_changed' })).to.equal(l.history.length);
      expect(await AuditEvent.countDocuments({ targetId: licenceId, action: 'licence.open_taken' })).to.equal(1);
    });

    it('refuses a second licence on the same patent (409), writing nothing', async () => {
      const before = await licensingCounts();
      const res = await post(sme, `/offers/${offer.offerId}/licence`, { confirm: '1' });
      expect(res.status).to.equal(409);
      expectShows(res.text, t('licence.already_held'));
      expect(await licensingCounts()).to.deep.equal(before);
    });

    it('shows both parties the licence and the bilingual contract; others get 404, the fund manager and regulators read', async () => {
      for (const agent of [sme, tto, regulator]) expect((await agent.get(`/licences/${licenceId}`)).status).to.equal(200);
      const contract = await sme.get(`/licences/${licenceId}/contract`);
      expect(contract.status).to.equal(200);
      for (const s of ['专利实施许可合同', 'Patent Licence Contract', '/static/css/contract.css', 'non-exclusive']) expect(contract.text).to.include(s);
      const l = (await Licence.findById(licenceId).lean())!;
      expect(contract.text).to.include(l.filingDueAt!.toISOString().slice(0, 10));
      expect(contract.text).to.include(l.snapshot!.applicationNumber);
      for (const agent of [small, otherTto]) {
        const res = await agent.get(`/licences/${licenceId}`);
        expect(res.status).to.equal(404);
        expectNoInternals(res.text);
        expect((await agent.get(`/licences/${licenceId}/contract`)).status).to.equal(404);
      }
      // The fund manager reads it as an observer (claims on defaulted licences), with nothing to act on.
      const observed = await fund.get(`/licences/${licenceId}`);
      expect(observed.status).to.equal(200);
      expect(observed.text).to.not.include(`action="/licences/${licenceId}/`);
      expect((await sme.get('/licences')).text).to.include(l.number);
      expect((await small.get('/licences')).text).to.not.include(l.number);
    });

    it('lets the licensor record the filing once, refusing bad dates', async () => {
      const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
      const bad = await post(tto, `/licences/${licenceId}/filing`, { filedAt: tomorrow, filingRef: 'BA-2026-1' });
      expect(bad.status).to.equal(422);
      expectShows(bad.text, t('licence.filing.date_invalid'));
      expect((await post(sme, `/licences/${licenceId}/filing`, { filedAt: new Date().toISOString().slice(0, 10), filingRef: 'X' })).status).to.equal(403);
      const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
      const ok = await post(tto, `/licences/${licenceId}/filing`, { filedAt: today, filingRef: 'BA-2026-1' });
      expect(ok.status, ok.text.slice(0, 300)).to.equal(303);
      expect((await Licence.findById(licenceId).lean())!.filingRef).to.equal('BA-2026-1');
      expect((await post(tto, `/licences/${licenceId}/filing`, { filedAt: today, filingRef: 'BA-2026-2' })).status).to.equal(409);
    });

    it('grants a royalty-only open licence as active at once, with nothing billed', async () => {
      const o = await publishedOffer(ttoCtx, 'open', TERMS.openRoyalty);
      const res = await post(small, `/offers/${o.offerId}/licence`, { confirm: '1' });
      expect(res.status).to.equal(303);
      const l = (await Licence.findById(licenceIdFrom(res.headers.location)).lean())!;
      expect(l.state).to.equal('active');
      expect(l.history.map((x) => x.to)).to.deep.equal(['notified', 'active']);
      expect(await Invoice.countDocuments({ licence: l._id })).to.equal(0);
    });

    it('schedules every instalment of an open instalment plan', async () => {
      const o = await publishedOffer(ttoCtx, 'open', TERMS.openInstalments);
      const res = await post(large, `/offers/${o.offerId}/licence`, { confirm: '1' });
      expect(res.status).to.equal(303);
      const invoices = await Invoice.find({ licence: licenceIdFrom(res.headers.location) }).sort({ instalment: 1 }).lean();
      expect(invoices.map((i) => i.instalment)).to.deep.equal([1, 2, 3, 4]);
      expect(addMonths(invoices[0]!.dueAt, 3).getTime()).to.equal(invoices[1]!.dueAt.getTime());
    });

    it('a withdrawn declaration keeps the licences granted, and cannot be taken any more', async () => {
      await withdrawOffer(ttoCtx, offer.offerId, '声明撤回测试');
      const l = (await Licence.findById(licenceId).lean())!;
      expect(l.state).to.equal('notified');
      expect((await sme.get(`/licences/${licenceId}`)).status).to.equal(200);
      const before = await licensingCounts();
      const res = await post(small, `/offers/${offer.offerId}/licence`, { confirm: '1' });
      expect(res.status).to.equal(409);
      expectShows(res.text, t('licence.offer.withdrawn'));
      expect(await licensingCounts()).to.deep.equal(before);
    });
  });

  describe('pay later', () => {
    let offer: { patentId: string; offerId: string };

    before(async () => {
      offer = await publishedOffer(ttoCtx, 'deferred', TERMS.deferred('lump_sum'));
    });

    it('refuses a non-SME with the size-class rule and writes nothing', async () => {
      const before = await licensingCounts();
      const res = await post(large, `/offers/${offer.offerId}/apply`, { message: '' });
      expect(res.status).to.equal(422);
      expectShows(res.text, t('licence.deferred.not_sme', { standard: SME_SIZE_STANDARD }));
      expect(await licensingCounts()).to.deep.equal(before);
    });

    it('an SME applies, the TTO is mailed, and the decision is made once (reject needs a reason)', async () => {
      const res = await post(sme, `/offers/${offer.offerId}/apply`, { message: '希望先试用一年' });
      expect(res.status).to.equal(303);
      const id = licenceIdFrom(res.headers.location);
      expect((await Licence.findById(id).lean())!.state).to.equal('applied');
      expect(mailBody((await h.lastMailTo(DEMO.tto))!)).to.include(`/licences/${id}`);
      const noReason = await post(tto, `/licences/${id}/decision`, { decision: 'reject', reason: '' });
      expect(noReason.status).to.equal(422);
      expect((await Licence.findById(id).lean())!.state).to.equal('applied');
      expect((await post(tto, `/licences/${id}/decision`, { decision: 'reject', reason: '技术不适用于贵企业产品' })).status).to.equal(303);
      const again = await post(tto, `/licences/${id}/decision`, { decision: 'approve', reason: '' });
      expect(again.status).to.equal(409);
      expectShows(again.text, t('licence.decision.already'));
      expect((await Licence.findById(id).lean())!.state).to.equal('rejected');
      expect(await AuditEvent.countDocuments({ targetId: id, action: 'licence.application_decided' })).to.equal(1);
    });

    it('after a rejection the SME may apply again; approval starts the free period', async () => {
      const res = await post(sme, `/offers/${offer.offerId}/apply`, { message: '' });
      const id = licenceIdFrom(res.headers.location);
      expect((await post(otherTto, `/licences/${id}/decision`, { decision: 'approve' })).status).to.equal(404);
      expect((await post(tto, `/licences/${id}/decision`, { decision: 'approve' })).status).to.equal(303);
      const l = (await Licence.findById(id).lean())!;
      expect(l.state).to.equal('active_free');
      expect(l.freePeriodEndsAt!.getTime()).to.equal(addMonths(l.effectiveAt!, 12).getTime());
      expect(await Invoice.countDocuments({ licence: id })).to.equal(0);
      expect(await LicensingEvent.countDocuments({ licence: id, type: 'licence.granted' })).to.equal(1);
    });

    it('the SME leaves in the free period and owes nothing; another SME cannot end it', async () => {
      const o = await publishedOffer(ttoCtx, 'deferred', TERMS.deferred('royalty'));
      const id = licenceIdFrom((await post(small, `/offers/${o.offerId}/apply`, {})).headers.location);
      await post(tto, `/licences/${id}/decision`, { decision: 'approve' });
      expect((await post(sme, `/licences/${id}/terminate`, { reason: 'x' })).status).to.equal(404);
      const res = await post(small, `/licences/${id}/terminate`, { reason: '产品方向调整' });
      expect(res.status).to.equal(303);
      const l = (await Licence.findById(id).lean())!;
      expect(l.state).to.equal('terminated_by_licensee');
      expect(await Invoice.countDocuments({ licence: id, status: { $nin: ['void'] } })).to.equal(0);
      expect(await LicensingEvent.countDocuments({ licence: id, type: 'licence.terminated' })).to.equal(1);
      expect((await post(small, `/licences/${id}/terminate`, {})).status).to.equal(409);
    });

    it('the time trigger bills per fee form, and a second run changes nothing', async () => {
      const forms = { lump_sum: ['lump_sum'], instalments: ['instalment', 'instalment', 'instalment'], entry_plus_royalty: ['entry_fee'], royalty: [] } as Record<string, string[]>;
      const ids: Record<string, string> = {};
      for (const form of Object.keys(forms)) {
        const o = await publishedOffer(ttoCtx, 'deferred', TERMS.deferred(form, form === 'royalty' ? 'either' : 'time'));
        ids[form] = licenceIdFrom((await post(small, `/offers/${o.offerId}/apply`, {})).headers.location);
        await post(tto, `/licences/${ids[form]}/decision`, { decision: 'approve' });
      }
      const revenueOnly = await publishedOffer(ttoCtx, 'deferred', TERMS.deferred('royalty', 'first_revenue'));
      const revenueId = licenceIdFrom((await post(small, `/offers/${revenueOnly.offerId}/apply`, {})).headers.location);
      await post(tto, `/licences/${revenueId}/decision`, { decision: 'approve' });

      expect(await advanceFreePeriods(addMonths(new Date(), 6))).to.have.length(0);
      const later = addMonths(new Date(), 13);
      const moved = await advanceFreePeriods(later);
      expect(moved.map(String)).to.include.members(Object.values(ids));
      const snapshot = async () => Promise.all(Object.values(ids).map(async (id) => ({ state: (await Licence.findById(id).lean())!.state, kinds: (await Invoice.find({ licence: id }).sort({ instalment: 1 }).lean()).map((i) => i.kind) })));
      const first = await snapshot();
      expect(first.map((x) => x.state)).to.deep.equal(['payment_due', 'payment_due', 'payment_due', 'payment_due']);
      expect(first.map((x) => x.kinds)).to.deep.equal(Object.values(forms));
      const inst = await Invoice.find({ licence: ids.instalments }).sort({ instalment: 1 }).lean();
      expect(addMonths(inst[0]!.dueAt, 6).getTime()).to.equal(inst[1]!.dueAt.getTime());
      const events = await LicensingEvent.countDocuments();
      expect(await advanceFreePeriods(later)).to.have.length(0);
      expect(await snapshot()).to.deep.equal(first);
      expect(await LicensingEvent.countDocuments()).to.equal(events);

      // A first-revenue trigger ignores the clock, and moves on the first reported revenue.
      expect((await Licence.findById(revenueId).lean())!.state).to.equal('active_free');
      await mongoose.connection.transaction((session) => onFirstRevenue(ttoCtx, new mongoose.Types.ObjectId(revenueId), new Date(), session));
      expect((await Licence.findById(revenueId).lean())!.state).to.equal('payment_due');
    });
  });

  describe('negotiated licence', () => {
    let offer: { patentId: string; offerId: string };

    before(async () => {
      offer = await publishedOffer(ttoCtx, 'negotiated', TERMS.negotiated);
    });

    it('request → proposal → acceptance gives an active licence on the proposed terms', async () => {
      const res = await post(sme, `/offers/${offer.offerId}/negotiate`, { message: '希望以分期方式取得许可，用于电池管理系统。' });
      expect(res.status).to.equal(303);
      const id = licenceIdFrom(res.headers.location);
      expect((await Licence.findById(id).lean())!.state).to.equal('requested');
      const open = await post(tto, `/licences/${id}/propose`, { feeForm: 'lump_sum', termMonths: '24' });
      expect(open.status).to.equal(422);
      expectShows(open.text, t('licence.propose.amount_required'));
      expect((await post(tto, `/licences/${id}/propose`, { feeForm: 'lump_sum', lumpSum: '120000', termMonths: '24' })).status).to.equal(303);
      expect((await Licence.findById(id).lean())!.state).to.equal('proposed');
      expect((await post(small, `/licences/${id}/accept`)).status).to.equal(404);
      expect((await post(sme, `/licences/${id}/accept`)).status).to.equal(303);
      const l = (await Licence.findById(id).lean())!;
      expect(l.state).to.equal('active');
      expect(l.terms).to.include({ feeForm: 'lump_sum', lumpSumFen: 12_000_000, termMonths: 24 });
      expect((await Invoice.find({ licence: id }).lean()).map((i) => [i.kind, i.amountFen])).to.deep.equal([['lump_sum', 12_000_000]]);
      expect(l.history.map((x) => x.to)).to.deep.equal(['requested', 'proposed', 'active']);
    });

    it('either side declines with a reason', async () => {
      const id = licenceIdFrom((await post(small, `/offers/${offer.offerId}/negotiate`, { message: '请问能否以提成方式许可给我们？' })).headers.location);
      expect((await post(tto, `/licences/${id}/decline`, { reason: '' })).status).to.equal(422);
      expect((await post(tto, `/licences/${id}/decline`, { reason: '目前已有合作方' })).status).to.equal(303);
      expect((await Licence.findById(id).lean())!.state).to.equal('declined');
      expect((await post(small, `/licences/${id}/decline`, { reason: '不再需要了' })).status).to.equal(409);
    });
  });

  describe('bad input', () => {
    it('unknown offers are 404, the wrong kind is 409, and nothing is written', async () => {
      const open = await publishedOffer(ttoCtx, 'open', TERMS.openRoyalty);
      const before = await licensingCounts();
      for (const path of ['/offers/000000000000000000000000/licence', '/offers/not-an-id/apply', '/offers/000000000000000000000000/negotiate']) {
        const res = await post(sme, path, { confirm: '1', message: '这是一条足够长的洽谈留言。' });
        expect(res.status, path).to.equal(404);
        expectNoInternals(res.text);
      }
      const wrong = await post(sme, `/offers/${open.offerId}/apply`, {});
      expect(wrong.status).to.equal(409);
      expectShows(wrong.text, t('licence.offer.wrong_kind'));
      expect((await post(tto, `/offers/${open.offerId}/licence`, { confirm: '1' })).status).to.equal(403);
      expect((await post(h.agent(), `/offers/${open.offerId}/licence`, { confirm: '1' })).status).to.equal(302);
      expect((await sme.get('/licences/000000000000000000000000')).status).to.equal(404);
      expect(await licensingCounts()).to.deep.equal(before);
    });
  });
});
