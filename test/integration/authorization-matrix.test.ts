/**
 * Runs authorization-table.ts: every protected route for every kind of
 * visitor, over HTTP. Then the same rules one layer down: services refuse a
 * non-admin Ctx themselves, so a route that forgot its guard still could not
 * leak or change anything.
 */
import { expect } from 'chai';
import { Organization } from '../../models/organization.js';
import { User } from '../../models/user.js';
import { ForbiddenError, NotFoundError } from '../../server/errors.js';
import { actorFor, inviteColleague, listColleagues } from '../../server/services/accounts.js';
import { distinctAuditActions, listAuditEvents } from '../../server/services/audit.js';
import type { Ctx } from '../../server/services/context.js';
import { createManagedOrganization, decideVerification, getOrganization, listOrganizations, verificationQueue } from '../../server/services/organizations.js';
import { Demand } from '../../models/demand.js';
import { Patent } from '../../models/patent.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DASHBOARD_AUTHZ_ROUTES } from './authorization-dashboards.js';
import { FUND_AUTHZ_ROUTES, prepareFundAuthz, releaseFundAuthz } from './authorization-fund.js';
import { LICENSING_AUTHZ_ROUTES, prepareLicensingFixtures, useLicensingFixtures } from './authorization-licensing.js';
import { PAYMENTS_AUTHZ_ROUTES, preparePaymentsAuthz } from './authorization-payments.js';
import { AUTHZ_ACTORS, AUTHZ_ROUTES, type AuthzActor, type AuthzFixtures, type Outcome } from './authorization-table.js';
import { counts, csrfOf, DEMO, expectNoInternals, expectShows, rejects, signedIn, t, validUscc, type Agent } from './helpers.js';

describe('authorisation matrix', function () {
  let h: AppHarness;
  const agents = {} as Record<AuthzActor, Agent>;
  let fx: AuthzFixtures;

  before(async () => {
    h = await startApp();
    await loadDemo();
    // In parallel: each sign-in is one slow password hash, and the hashes run on libuv's pool.
    await Promise.all((Object.entries(AUTHZ_ACTORS) as [AuthzActor, string | null][]).map(async ([actor, email]) => {
      agents[actor] = email ? await signedIn(h, email) : h.agent();
    }));
    const pending = await Organization.find({ verified: false, rejectedReason: '' }).sort({ createdAt: 1 }).lean();
    let n = 1000;
    await loadDemoCatalogue({ patents: 30 });
    const ttoOrg = (await User.findOne({ email: AUTHZ_ACTORS.tto! }).lean())!.organization;
    const smeOrg = (await User.findOne({ email: AUTHZ_ACTORS.sme! }).lean())!.organization;
    const own = await Patent.findOne({ holder: ttoOrg }).lean();
    const listed = await Patent.findOne({ holder: { $ne: ttoOrg }, 'listing.listed': true }).lean();
    const demand = await Demand.findOne({ organization: smeOrg }).lean();
    fx = { pendingOrgIds: pending.map((o) => String(o._id)), serial: () => n++, patentId: String(own!._id), listedPatentId: String(listed!._id), demandId: String(demand!._id) };
    // Licensing and payments rows act on records of their own.
    useLicensingFixtures(await prepareLicensingFixtures());
    await preparePaymentsAuthz();
    await prepareFundAuthz();
  });
  after(async () => {
    releaseFundAuthz();
    await h.stop();
  });

  function describeOutcome(o: Outcome): string {
    return typeof o === 'string' ? o : `redirect to ${o.redirect}`;
  }

  for (const route of [...AUTHZ_ROUTES, ...LICENSING_AUTHZ_ROUTES, ...PAYMENTS_AUTHZ_ROUTES, ...DASHBOARD_AUTHZ_ROUTES, ...FUND_AUTHZ_ROUTES]) {
    describe(`${route.method} ${route.name}`, () => {
      for (const actor of Object.keys(AUTHZ_ACTORS) as AuthzActor[]) {
        const outcome = route.expect[actor];
        it(`${actor} → ${describeOutcome(outcome)}`, async () => {
          const agent = agents[actor];
          const path = route.path(fx, actor);
          const before = await counts();
          let res;
          if (route.method === 'GET') {
            res = await agent.get(path);
          } else {
            const _csrf = await csrfOf(agent, actor === 'anonymous' ? '/login' : '/');
            res = await agent.post(path).type('form').send({ _csrf, ...route.body?.(fx, actor) });
          }
          const detail = `${route.method} ${path} as ${actor}: ${res.status} ${String(res.headers.location ?? '')}`;
          if (outcome === 'ok') {
            expect(res.status, detail).to.equal(200);
          } else if (outcome === 'login') {
            expect(res.status, detail).to.equal(302);
            expect(res.headers.location, detail).to.equal('/login');
          } else if (outcome === 'forbidden') {
            expect(res.status, detail).to.equal(403);
            expectShows(res.text, t('error.forbidden_role'));
            expectNoInternals(res.text);
          } else {
            expect(res.status, detail).to.be.oneOf([302, 303]);
            if (outcome.redirect instanceof RegExp) expect(res.headers.location, detail).to.match(outcome.redirect);
            else expect(res.headers.location, detail).to.equal(outcome.redirect);
            expect((await counts()).audit, `${detail}: the action is audited`).to.be.greaterThan(before.audit);
          }
          if (route.method === 'POST' && typeof outcome === 'string') {
            expect(await counts(), `${detail}: a refused POST writes nothing`).to.deep.equal(before);
          }
        });
      }
    });
  }

  describe('services check authorisation themselves', () => {
    const meta = { requestId: 'authz-test', ip: '127.0.0.1' };
    const ctxs = {} as Record<AuthzActor, Ctx>;
    let otherPending: string;

    before(async () => {
      for (const [actor, email] of Object.entries(AUTHZ_ACTORS) as [AuthzActor, string | null][]) {
        const user = email ? await User.findOne({ email }).lean() : null;
        ctxs[actor] = { actor: user ? await actorFor(user._id) : null, meta };
      }
      const pending = await Organization.find({ verified: false, rejectedReason: '' }).lean();
      expect(pending.length, 'a pending organisation left for the service checks').to.be.greaterThan(0);
      otherPending = String(pending[0]!._id);
    });

    const notAdmin: AuthzActor[] = ['anonymous', 'tto', 'sme', 'fund_manager', 'regulator'];
    const notAdminOrRegulator: AuthzActor[] = ['anonymous', 'tto', 'sme', 'fund_manager'];

    for (const actor of notAdmin) {
      it(`admin-only services refuse ${actor}, changing nothing`, async () => {
        const before = { ...(await counts()), mails: (await h.mailer.listOutbox()).length };
        const ctx = ctxs[actor];
        const key = actor === 'anonymous' ? 'error.login_required' : 'error.forbidden_role';
        expect((await rejects(verificationQueue(ctx), ForbiddenError)).key).to.equal(key);
        expect((await rejects(decideVerification(ctx, otherPending, { approve: true, reason: '' }, h.mailer), ForbiddenError)).key).to.equal(key);
        await rejects(decideVerification(ctx, otherPending, { approve: false, reason: '资料不全，无法核实' }, h.mailer), ForbiddenError);
        await rejects(createManagedOrganization(ctx, { kind: 'platform', nameZh: '伪平台', nameEn: '', region: 'SH', uscc: validUscc(9000, '12310000') }), ForbiddenError);
        expect({ ...(await counts()), mails: (await h.mailer.listOutbox()).length }).to.deep.equal(before);
        expect(await Organization.findById(otherPending).lean()).to.include({ verified: false, rejectedReason: '' });
      });
    }

    for (const actor of notAdminOrRegulator) {
      it(`audit and organisation listings refuse ${actor}`, async () => {
        const ctx = ctxs[actor];
        await rejects(listAuditEvents(ctx, { page: 1 }), ForbiddenError);
        await rejects(distinctAuditActions(ctx), ForbiddenError);
        await rejects(listOrganizations(ctx), ForbiddenError);
      });
    }

    it('the regulator may read the audit log and organisations; the admin everything', async () => {
      expect((await listAuditEvents(ctxs.regulator, { page: 1 })).total).to.be.greaterThan(0);
      expect(await listOrganizations(ctxs.regulator)).to.have.length.greaterThan(10);
      expect(await verificationQueue(ctxs.admin)).to.be.an('array');
    });

    it("a tto or sme cannot read another organisation's registration details", async () => {
      await rejects(getOrganization(ctxs.tto, otherPending), NotFoundError);
      await rejects(getOrganization(ctxs.sme, otherPending), NotFoundError);
      await rejects(getOrganization(ctxs.anonymous, otherPending), ForbiddenError);
      expect(String((await getOrganization(ctxs.tto, String(ctxs.tto.actor!.orgId)))._id)).to.equal(String(ctxs.tto.actor!.orgId));
      expect(String((await getOrganization(ctxs.regulator, otherPending))._id)).to.equal(otherPending);
    });

    it('inviting needs a signed-in org admin; listing colleagues needs a sign-in', async () => {
      const before = await counts();
      await rejects(inviteColleague(ctxs.anonymous, 'x1@example.cn', h.mailer, 'http://localhost:3000'), ForbiddenError);
      const member = await User.findOne({ email: DEMO.ttoMember }).lean();
      const memberCtx: Ctx = { actor: await actorFor(member!._id), meta };
      expect((await rejects(inviteColleague(memberCtx, 'x2@example.cn', h.mailer, 'http://localhost:3000'), ForbiddenError)).key).to.equal('invite.not_org_admin');
      await rejects(listColleagues(ctxs.anonymous), ForbiddenError);
      expect(await counts()).to.deep.equal(before);
    });
  });
});
