/**
 * The admin's verification queue: approving and rejecting registrations
 * (database, audit log, e-mail to the organisation's users), deciding only
 * once, and refusing everyone but the platform admin.
 */
import { expect } from 'chai';
import { AuditEvent } from '../../models/audit-event.js';
import { Organization } from '../../models/organization.js';
import { User } from '../../models/user.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { csrfFrom, startApp, type AppHarness } from '../helpers/app-harness.js';
import { DEMO, expectNoInternals, expectShows, mailBody, signedIn, t, type Agent } from './helpers.js';

describe('organisation verification (/admin/verifications)', function () {
  let h: AppHarness;
  let admin: Agent;
  let adminId: string;
  let smePendingOrg: string;
  let instituteOrg: string;
  /** Signed in as the pending enterprise's user (a non-admin with a stake in the decision). */
  let smeUser: Agent;

  before(async () => {
    h = await startApp();
    await loadDemo();
    admin = await signedIn(h, DEMO.admin);
    adminId = String((await User.findOne({ email: DEMO.admin }).lean())!._id);
    smePendingOrg = String((await User.findOne({ email: DEMO.smePending }).lean())!.organization);
    instituteOrg = String((await User.findOne({ email: DEMO.ttoPending }).lean())!.organization);
  });
  after(async () => {
    await h.stop();
  });

  async function decide(agent: Agent, orgId: string, form: Record<string, string>) {
    const page = await agent.get('/');
    const _csrf = csrfFrom(page.text);
    return agent.post(`/admin/verifications/${orgId}`).type('form').send({ _csrf, ...form });
  }

  async function snapshot(orgId: string) {
    const org = await Organization.findById(orgId).lean();
    const audit = await AuditEvent.countDocuments({ targetId: orgId });
    return { verified: org!.verified, verifiedBy: org!.verifiedBy, rejectedReason: org!.rejectedReason, audit, mails: (await h.mailer.listOutbox()).length };
  }

  it('lists exactly the pending demo organisations', async () => {
    const res = await admin.get('/admin/verifications');
    expect(res.status).to.equal(200);
    expectShows(res.text, '宁波海曙智造机器人有限公司');
    expectShows(res.text, '合肥智能感知研究所');
    expect(res.text).to.include(`action="/admin/verifications/${smePendingOrg}"`);
    expect(res.text).to.include(`action="/admin/verifications/${instituteOrg}"`);
    expect(res.text, 'verified organisations are not in the queue').not.to.include('沪东科技大学</span>');
    expectShows(res.text, t('verify.count', { count: 2 }));
  });

  it('a non-admin POSTing a decision gets 403 and nothing changes', async () => {
    const before = await snapshot(smePendingOrg);
    smeUser = await signedIn(h, DEMO.smePending);
    for (const [email, agent] of [[DEMO.regulator, await signedIn(h, DEMO.regulator)], [DEMO.smePending, smeUser]] as const) {
      const res = await decide(agent, smePendingOrg, { decision: 'approve' });
      expect(res.status, email).to.equal(403);
      expectShows(res.text, t('error.forbidden_role'));
      expectNoInternals(res.text);
      expect((await agent.get('/admin/verifications')).status).to.equal(403);
    }
    expect(await snapshot(smePendingOrg)).to.deep.equal(before);
  });

  it('approving sets verified/verifiedBy, writes an audit event and mails the organisation', async () => {
    const res = await decide(admin, smePendingOrg, { decision: 'approve' });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/admin/verifications');

    const org = await Organization.findById(smePendingOrg).lean();
    expect(org!.verified).to.equal(true);
    expect(String(org!.verifiedBy)).to.equal(adminId);
    expect(org!.verifiedAt).to.be.instanceOf(Date);
    expect(org!.rejectedReason).to.equal('');

    const events = await AuditEvent.find({ action: 'organization.verified', targetId: smePendingOrg, actorEmail: DEMO.admin }).lean();
    expect(events).to.have.length(1);
    expect(String(events[0]!.actor)).to.equal(adminId);

    const mail = await h.lastMailTo(DEMO.smePending);
    expect(mail, 'approval mail in the outbox').to.not.equal(null);
    expect(mailBody(mail!)).to.include('宁波海曙智造机器人有限公司').and.include('has been verified');

    const queue = await admin.get('/admin/verifications');
    expectShows(queue.text, t('verify.approved'));
    expect(queue.text).not.to.include(`action="/admin/verifications/${smePendingOrg}"`);

    // The organisation's user sees it at once (the session user is reloaded per request).
    expectShows((await smeUser.get('/')).text, t('org.status.verified.title'));
  });

  it('deciding again is refused as not pending (404) and changes nothing', async () => {
    const before = await snapshot(smePendingOrg);
    for (const form of [{ decision: 'approve' }, { decision: 'reject', reason: '重复提交的审核决定' }] as Record<string, string>[]) {
      const res = await decide(admin, smePendingOrg, form);
      expect(res.status).to.equal(404);
      expectShows(res.text, t('verify.not_pending'));
    }
    expect(await snapshot(smePendingOrg)).to.deep.equal(before);
  });

  it('rejecting without a (long enough) reason is an error and changes nothing', async () => {
    const before = await snapshot(instituteOrg);
    for (const reason of ['', '   ', 'abc']) {
      const res = await decide(admin, instituteOrg, { decision: 'reject', reason });
      expect(res.status, `reason ${JSON.stringify(reason)}`).to.equal(303);
      const page = await admin.get('/admin/verifications');
      expectShows(page.text, t('verify.reason.required'));
    }
    const bogus = await decide(admin, instituteOrg, { decision: 'maybe' });
    expect(bogus.status).to.equal(303);
    expectShows((await admin.get('/admin/verifications')).text, t('verify.decision.invalid'));
    expect(await snapshot(instituteOrg)).to.deep.equal(before);
  });

  it('rejecting with a reason stores it, writes an audit event and mails the reason', async () => {
    const reason = '统一社会信用代码与营业执照不符';
    const res = await decide(admin, instituteOrg, { decision: 'reject', reason: `  ${reason}  ` });
    expect(res.status).to.equal(303);
    const org = await Organization.findById(instituteOrg).lean();
    expect(org).to.include({ verified: false, rejectedReason: reason });
    expect(org!.verifiedBy).to.equal(null);
    const event = await AuditEvent.findOne({ action: 'organization.rejected', targetId: instituteOrg }).lean();
    expect(event?.summary).to.deep.equal({ reason });
    expect(mailBody((await h.lastMailTo(DEMO.ttoPending))!)).to.include(reason);

    const queue = await admin.get('/admin/verifications');
    expectShows(queue.text, t('verify.rejected'));
    expectShows(queue.text, t('verify.empty'));

    const user = await signedIn(h, DEMO.ttoPending);
    const home = await user.get('/');
    expectShows(home.text, t('org.status.rejected.title'));
    expectShows(home.text, reason);
  });

  it('an unknown or malformed organisation id → 404', async () => {
    for (const id of ['000000000000000000000000', 'not-an-id', '{"$ne":null}']) {
      const res = await decide(admin, encodeURIComponent(id), { decision: 'approve' });
      expect(res.status, id).to.equal(404);
      expectNoInternals(res.text);
    }
  });
});
