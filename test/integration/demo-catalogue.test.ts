/**
 * The demo catalogue obeys the same rules as the services (a listing agrees
 * with its published offers, open offers only on eligible patents, terms
 * valid) and makes the catalogue, needs and matching pages useful at once.
 */
import { expect } from 'chai';
import { Demand } from '../../models/demand.js';
import { Offer } from '../../models/offer.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { openLicenceBlockers } from '../../server/domain/open-licence-eligibility.js';
import { validateOfferTerms } from '../../server/domain/offer-terms.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import type { OfferTermsValues } from '../../server/services/offer-input.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DEMO, expectShows, signedIn, t } from './helpers.js';

describe('demo catalogue', function () {
  let h: AppHarness;
  const now = new Date();
  before(async () => {
    h = await startApp();
    await loadDemo();
    await loadDemoCatalogue({ patents: 120, now });
  });
  after(async () => {
    await h.stop();
  });

  it('lists exactly the patents with published offers, and only valid, eligible ones', async () => {
    const patents = await Patent.find().lean();
    const offers = await Offer.find({ status: 'published' }).lean();
    expect(patents).to.have.length(120);
    expect(offers.length).to.be.greaterThan(30);
    const unverified = new Set((await Organization.find({ verified: false }).lean()).map((o) => String(o._id)));
    for (const p of patents) {
      const mine = offers.filter((o) => o.patent.equals(p._id));
      expect(p.listing?.listed, p.applicationNumber).to.equal(mine.length > 0);
      expect([...p.listing?.kinds ?? []].sort()).to.deep.equal([...new Set(mine.map((o) => o.kind))].sort());
      if (mine.length) expect(unverified.has(String(p.holder)), 'unverified holders publish nothing').to.equal(false);
      for (const o of mine) {
        expect(validateOfferTerms(o.kind, o.terms as OfferTermsValues, p, now), `${o.kind} terms`).to.deep.equal({});
        if (o.kind === 'open') expect(openLicenceBlockers(p, now)).to.deep.equal([]);
      }
    }
  });

  it('the catalogue pages show results and facet counts that add up', async () => {
    const listed = await Patent.countDocuments({ 'listing.listed': true });
    const res = await h.agent().get('/catalogue');
    expect(res.status).to.equal(200);
    expectShows(res.text, t('catalogue.results', { total: listed }));
    const byRegion = await Promise.all((['SH', 'JS', 'ZJ', 'AH'] as const).map((r) => Patent.countDocuments({ 'listing.listed': true, region: r })));
    for (const [i, r] of ['SH', 'JS', 'ZJ', 'AH'].entries()) {
      if (byRegion[i]) expect(res.text, `region ${r} count`).to.include(`id="region-${r}"`);
    }
    expect(byRegion.reduce((a, b) => a + b, 0)).to.equal(listed);
  });

  it('an SME sees matching patents with reasons on its need', async () => {
    const sme = await signedIn(h, DEMO.sme);
    const org = await Organization.findOne({ nameZh: /澄算/ }).lean();
    const need = await Demand.findOne({ organization: org!._id }).lean();
    const res = await sme.get(`/needs/${need!._id}`);
    expect(res.status).to.equal(200);
    expectShows(res.text, t('demand.matches.title'));
    expect(res.text, 'at least one match with shared words').to.match(/class="why"[\s\S]*?<mark>/);
  });
});
