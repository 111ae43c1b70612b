/**
 * Technical needs and matching both ways: an SME posts a need and sees
 * listed patents that answer it with reasons; a TTO browses needs, sees its
 * own patents (listed or not) for a need and needs for its patent; the
 * weekly digest names newly listed matches once, at most weekly, under a
 * lease, however often it runs.
 */
import { expect } from 'chai';
import { AuditEvent } from '../../models/audit-event.js';
import { Demand } from '../../models/demand.js';
import { Lease } from '../../models/lease.js';
import { withLease } from '../../server/jobs/lease.js';
import { DIGEST_INTERVAL_MS, runNeedDigest } from '../../server/jobs/need-digest.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { createPatentVia, DEFERRED_TERMS, draftOfferVia, patentForm, publishVia } from './catalogue-helpers.js';
import { csrfOf, DEMO, expectShows, fieldError, mailBody, signedIn, t, type Agent } from './helpers.js';

describe('technical needs, matching and the weekly digest', function () {
  let h: AppHarness;
  let tto: Agent;
  let sme: Agent;
  let needId: string;
  let patentId: string;

  before(async () => {
    h = await startApp();
    await loadDemo();
    tto = await signedIn(h, DEMO.tto);
    sme = await signedIn(h, DEMO.sme);
    patentId = await createPatentVia(tto, patentForm(11));
  });
  after(async () => {
    await h.stop();
  });

  async function postNeed(agent: Agent, form: Record<string, string | string[]>) {
    const _csrf = await csrfOf(agent, '/needs/new');
    return agent.post('/needs').type('form').send({ _csrf, ...form });
  }

  it('refuses an incomplete need field by field and writes nothing', async () => {
    const res = await postNeed(sme, { title: '', problem: '太短', region: 'XX', budget: '-5', fields: ['not_a_field'] });
    expect(res.status).to.equal(422);
    for (const f of ['title', 'problem', 'region', 'budget', 'fields']) expect(fieldError(res.text, f), f).to.be.a('string');
    expect(await Demand.countDocuments()).to.equal(0);
  });

  it('an SME posts a need in plain words; it is audited', async () => {
    const res = await postNeed(sme, { title: '电动车冬天续航掉得厉害', problem: '我们做电动三轮车电池包，冬天充电特别慢，续航掉一半，客户投诉多，想找低温快充的技术。', region: 'ZJ', budget: '10万', fields: ['new_energy'] });
    expect(res.status).to.equal(303);
    const need = await Demand.findOne().lean();
    expect(need).to.include({ region: 'ZJ', budgetFen: 10_000_000, status: 'open' });
    needId = String(need!._id);
    expect(await AuditEvent.countDocuments({ action: 'demand.created', targetId: needId })).to.equal(1);
  });

  it('the TTO sees the need, and its own unlisted patent as a match with reasons', async () => {
    const browse = await tto.get('/needs/browse');
    expectShows(browse.text, '电动车冬天续航掉得厉害');
    const page = await tto.get(`/needs/${needId}`);
    expect(page.status).to.equal(200);
    expectShows(page.text, t('demand.own_matches.title'));
    expect(page.text).to.include(`/patents/${patentId}`);
    expect(page.text).to.match(/<mark>[^<]*<\/mark>/);
    const patentPage = await tto.get(`/patents/${patentId}`);
    expect(patentPage.text, 'the need shows on the patent page').to.include(`/needs/${needId}`);
  });

  it('an SME sees nothing before the patent is listed, then the listed patent', async () => {
    let page = await sme.get(`/needs/${needId}`);
    expectShows(page.text, t('demand.matches.empty'));
    const offerId = await draftOfferVia(tto, patentId, 'deferred', DEFERRED_TERMS);
    expect((await publishVia(tto, offerId, patentId)).status).to.equal(303);
    page = await sme.get(`/needs/${needId}`);
    expect(page.text).to.include(`/catalogue/${patentId}`);
    expectShows(page.text, t('match.kind_fit.deferred'));
  });

  it('another SME cannot read the need; the supply side cannot edit it', async () => {
    const other = await signedIn(h, 'sme.small@demo.yrd-exchange.cn');
    expect((await other.get(`/needs/${needId}`)).status).to.equal(404);
    const _csrf = await csrfOf(tto, '/patents');
    expect((await tto.post(`/needs/${needId}/close`).type('form').send({ _csrf })).status).to.equal(403);
    expect((await Demand.findById(needId).lean())!.status).to.equal('open');
  });

  it('the digest mails new matches once, then not again within a week, and again a week later only for new patents', async () => {
    const deps = { mailer: h.mailer, publicUrl: 'http://localhost:3000' };
    const first = await runNeedDigest(deps);
    expect(first.sent).to.equal(1);
    const mail = mailBody((await h.lastMailTo(DEMO.sme))!);
    expect(mail).to.include('一种锂离子电池低温快充方法').and.include(`/catalogue/${patentId}`);
    const need = await Demand.findById(needId).lean();
    expect(need!.digest!.sentPatents.map(String)).to.deep.equal([patentId]);
    expect((await runNeedDigest(deps)).sent, 'same week').to.equal(0);
    const later = new Date(Date.now() + DIGEST_INTERVAL_MS + 60_000);
    expect((await runNeedDigest({ ...deps, now: later })).sent, 'nothing new to tell').to.equal(0);
  });

  it('a lease lets one runner at a time do the work', async () => {
    let inside = 0;
    let maxInside = 0;
    const job = async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await new Promise((r) => setTimeout(r, 50));
      inside--;
      return 'ran';
    };
    const results = await Promise.all([withLease('test-job', 60_000, job), withLease('test-job', 60_000, job), withLease('test-job', 60_000, job)]);
    expect(results.filter((r) => r === 'ran')).to.have.length(1);
    expect(maxInside).to.equal(1);
    expect(await withLease('test-job', 60_000, job), 'free again after release').to.equal('ran');
    expect(await Lease.countDocuments({ _id: 'test-job' })).to.equal(1);
  });
});
