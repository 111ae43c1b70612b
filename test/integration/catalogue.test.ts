/**
 * From register to catalogue over HTTP: a TTO registers a patent, drafts and
 * publishes an open offer (eligibility, fee warnings, announcement number,
 * audit), the public finds it by a Chinese or English query with filters
 * and counts, an SME enquires (in-app + e-mail), and the TTO withdraws it.
 * Every refusal is a 4xx with the reason and leaves the database unchanged.
 */
import { expect } from 'chai';
import { AuditEvent } from '../../models/audit-event.js';
import { Enquiry } from '../../models/enquiry.js';
import { Offer } from '../../models/offer.js';
import { Patent } from '../../models/patent.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { createPatentVia, draftOfferVia, OPEN_TERMS, patentForm, publishVia } from './catalogue-helpers.js';
import { csrfOf, DEMO, expectNoInternals, expectShows, fieldError, mailBody, signedIn, t, type Agent } from './helpers.js';

describe('patent register, offers and the public catalogue', function () {
  let h: AppHarness;
  let tto: Agent;
  let sme: Agent;
  let otherTto: Agent;

  before(async () => {
    h = await startApp();
    await loadDemo();
    tto = await signedIn(h, DEMO.tto);
    sme = await signedIn(h, DEMO.sme);
    otherTto = await signedIn(h, 'tto.js@demo.yrd-exchange.cn');
  });
  after(async () => {
    await h.stop();
  });

  describe('register', () => {
    it('creates a patent with the type read from the number and the expiry computed, audited', async () => {
      // As people copy it from CNIPA's site: ZL prefix, spaces.
      const spaced = String(patentForm(1).applicationNumber).replace(/^(\d{4})(\d)(\d{7})/, 'ZL $1 $2 $3');
      const id = await createPatentVia(tto, patentForm(1, { applicationNumber: spaced }));
      const p = await Patent.findById(id).lean();
      expect(p).to.include({ type: 'invention', legalStatus: 'granted', region: 'SH', status: 'active' });
      expect(p!.applicationNumber).to.match(/^202110000001\.[0-9X]$/);
      expect(p!.expiryDate.toISOString().slice(0, 10)).to.equal('2041-03-14');
      expect(p!.listing?.listed).to.equal(false);
      expect(await AuditEvent.countDocuments({ action: 'patent.created', targetId: id })).to.equal(1);
    }).timeout(30_000);

    it('refuses a wrong check digit, naming it, and writes nothing', async () => {
      const before = await Patent.countDocuments();
      const _csrf = await csrfOf(tto, '/patents/new');
      const form = patentForm(2);
      const wrong = String(form.applicationNumber).replace(/\.(.)$/, (_m, c: string) => `.${c === '0' ? '1' : '0'}`);
      const res = await tto.post('/patents').type('form').send({ _csrf, ...form, applicationNumber: wrong });
      expect(res.status).to.equal(422);
      const message = fieldError(res.text, 'applicationNumber');
      expect(message, 'error next to the number').to.be.a('string').and.match(/校验/);
      expect(await Patent.countDocuments()).to.equal(before);
    });

    it('another institution\'s TTO can neither see nor edit the patent', async () => {
      const id = String((await Patent.findOne({ applicationNumber: /^202110000001/ }).lean())!._id);
      expect((await otherTto.get(`/patents/${id}`)).status).to.equal(403);
      const _csrf = await csrfOf(otherTto, '/patents/new');
      const res = await otherTto.post(`/patents/${id}`).type('form').send({ _csrf, ...patentForm(1, { titleZh: '篡改' }) });
      expect(res.status).to.equal(403);
      expectNoInternals(res.text);
      expect((await Patent.findById(id).lean())!.titleZh).to.not.equal('篡改');
    });
  });

  describe('offers', () => {
    let patentId: string;
    let offerId: string;
    before(async () => {
      patentId = String((await Patent.findOne({ applicationNumber: /^202110000001/ }).lean())!._id);
    });

    it('blocks an open declaration on an ineligible patent with the reasons shown', async () => {
      const id = await createPatentVia(tto, patentForm(3, { pledged: '1', annualFeePaidThrough: '2022-03-15' }));
      const draft = await draftOfferVia(tto, id, 'open', OPEN_TERMS);
      const res = await publishVia(tto, draft, id);
      expect(res.status).to.equal(422);
      expectShows(res.text, t('offer.open.not_eligible'));
      expect(res.text).to.match(/质押|质权/).and.match(/年费/);
      expect((await Offer.findById(draft).lean())!.status).to.equal('draft');
      expect((await Patent.findById(id).lean())!.listing?.listed).to.equal(false);
    });

    it('asks for confirmation of fees above CNIPA guidance, then publishes with an announcement number', async () => {
      offerId = await draftOfferVia(tto, patentId, 'open', { feeForm: 'royalty', royaltyPercent: '25', termMonths: '36' });
      const first = await publishVia(tto, offerId, patentId);
      expect(first.status).to.equal(422);
      expect(first.text).to.include('20%');
      expect((await Offer.findById(offerId).lean())!.status).to.equal('draft');
      const confirmed = await publishVia(tto, offerId, patentId, true);
      expect(confirmed.status).to.equal(303);
      const offer = await Offer.findById(offerId).lean();
      expect(offer).to.include({ status: 'published' });
      expect(offer!.announcementNo).to.match(/^OL-\d{4}-\d{6}$/);
      expect(offer!.warnings).to.have.length(1);
      const patent = await Patent.findById(patentId).lean();
      expect(patent!.listing).to.deep.include({ listed: true, kinds: ['open'] });
      expect(await AuditEvent.countDocuments({ action: 'offer.published', targetId: offerId })).to.equal(1);
    });

    it('while the open declaration is live, the patent cannot be given an exclusive licence', async () => {
      const _csrf = await csrfOf(tto, `/patents/${patentId}/edit`);
      const res = await tto.post(`/patents/${patentId}`).type('form').send({ _csrf, ...patentForm(1, { applicationNumber: (await Patent.findById(patentId).lean())!.applicationNumber, exclusiveLicence: 'exclusive' }) });
      expect(res.status).to.equal(422);
      expect(fieldError(res.text, 'exclusiveLicence')).to.match(/第五十一条/);
      expect((await Patent.findById(patentId).lean())!.exclusiveLicence).to.equal('none');
    });

    it('published terms cannot be edited', async () => {
      const _csrf = await csrfOf(tto, `/patents/${patentId}`);
      const res = await tto.post(`/offers/${offerId}`).type('form').send({ _csrf, ...OPEN_TERMS });
      expect(res.status).to.equal(409);
      expect((await Offer.findById(offerId).lean())!.terms.royaltyBps).to.equal(2500);
    });
  });

  describe('catalogue', () => {
    it('finds the listed patent by a Chinese query, anonymously, with counts and why it matched', async () => {
      const res = await h.agent().get('/catalogue').query({ q: '电动车冬天充电慢' });
      expect(res.status).to.equal(200);
      expectShows(res.text, '一种锂离子电池低温快充方法');
      expectShows(res.text, t('catalogue.results', { total: 1 }));
      expect(res.text).to.match(/<mark>[^<]*(充电|电动)[^<]*<\/mark>/);
      expect(res.text, 'unlisted patents stay out').to.not.include('000003');
    });

    it('finds it in English and filters by field, region and kind', async () => {
      const en = await h.agent().get('/catalogue').query({ q: 'lithium battery charging' });
      expectShows(en.text, '一种锂离子电池低温快充方法');
      const filtered = await h.agent().get('/catalogue?field=new_energy&region=SH&kind=open');
      expectShows(filtered.text, '一种锂离子电池低温快充方法');
      const none = await h.agent().get('/catalogue?region=AH');
      expectShows(none.text, t('catalogue.empty'));
    });

    it('answers hostile and huge queries normally', async () => {
      for (const q of ['', '.*', '{"$gt":""}', '$where', 'a'.repeat(10_000), '(((', '\\']) {
        const res = await h.agent().get('/catalogue').query({ q, price: '$ne', trl: 'x', page: '-1' });
        expect(res.status, JSON.stringify(q.slice(0, 20))).to.equal(200);
        expectNoInternals(res.text);
      }
    });

    it('shows the listing with the terms in plain words and counts a view', async () => {
      const p = await Patent.findOne({ 'listing.listed': true }).lean();
      const res = await h.agent().get(`/catalogue/${p!._id}`);
      expect(res.status).to.equal(200);
      expectShows(res.text, t('offer.explain.royalty', { rate: '25%' }));
      expect((await Patent.findById(p!._id).lean())!.views).to.equal(p!.views + 1);
      expect((await h.agent().get('/catalogue/000000000000000000000000')).status).to.equal(404);
    });

    it('an SME enquires: stored, counted, e-mailed to the holder; the TTO reads it in the inbox', async () => {
      const p = await Patent.findOne({ 'listing.listed': true }).lean();
      const _csrf = await csrfOf(sme, `/catalogue/${p!._id}`);
      const short = await sme.post(`/catalogue/${p!._id}/enquiries`).type('form').send({ _csrf, message: '你好' });
      expect(short.status).to.equal(422);
      expect(await Enquiry.countDocuments()).to.equal(0);
      const res = await sme.post(`/catalogue/${p!._id}/enquiries`).type('form').send({ _csrf, message: '我们是做电动车电池包的，想了解低温快充在我们产品上的许可费用。' });
      expect(res.status).to.equal(303);
      expect(await Enquiry.countDocuments({ patent: p!._id })).to.equal(1);
      expect((await Patent.findById(p!._id).lean())!.enquiries).to.equal(1);
      const mail = await h.lastMailTo(DEMO.tto);
      expect(mailBody(mail!)).to.include('低温快充');
      const inbox = await tto.get('/enquiries');
      expectShows(inbox.text, '我们是做电动车电池包的，想了解低温快充在我们产品上的许可费用。');
      const asTto = await tto.post(`/catalogue/${p!._id}/enquiries`).type('form').send({ _csrf: await csrfOf(tto, '/patents'), message: '自己给自己发消息试试看看' });
      expect(asTto.status).to.equal(403);
    });

    it('withdrawal unlists the patent at once and is audited with its reason', async () => {
      const offer = await Offer.findOne({ status: 'published' }).lean();
      const _csrf = await csrfOf(tto, `/patents/${offer!.patent}`);
      const res = await tto.post(`/offers/${offer!._id}/withdraw`).type('form').send({ _csrf, reason: '已与企业签订独占许可' });
      expect(res.status).to.equal(303);
      const after = await Offer.findById(offer!._id).lean();
      expect(after).to.include({ status: 'withdrawn', withdrawReason: '已与企业签订独占许可' });
      expect((await Patent.findById(offer!.patent).lean())!.listing?.listed).to.equal(false);
      const search = await h.agent().get('/catalogue').query({ q: '低温快充' });
      expectShows(search.text, t('catalogue.empty'));
      const audit = await AuditEvent.findOne({ action: 'offer.withdrawn', targetId: String(offer!._id) }).lean();
      expect(audit!.summary).to.include({ reason: '已与企业签订独占许可' });
    });
  });
});
