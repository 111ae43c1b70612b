/**
 * Inviting a colleague: only an organisation's admin may; the e-mailed link
 * carries a token the database holds only as a hash; accepting it creates a
 * plain member with the organisation's role, once.
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { AuthToken } from '../../models/auth-token.js';
import { User } from '../../models/user.js';
import { hashToken } from '../../server/services/tokens.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { csrfFrom, startApp, type AppHarness } from '../helpers/app-harness.js';
import { counts, csrfOf, DEMO, expectShows, fieldError, linkIn, login, signedIn, t, tEn, type Agent } from './helpers.js';

describe('invitations', function () {
  let h: AppHarness;
  let orgAdmin: Agent;
  let orgId: string;
  let link: { path: string; token: string };
  const invitee = 'new.colleague@hudong.example.cn';

  before(async () => {
    h = await startApp();
    await loadDemo();
    orgAdmin = await signedIn(h, DEMO.tto);
    orgId = String((await User.findOne({ email: DEMO.tto }).lean())!.organization);
  });
  after(async () => {
    await h.stop();
  });

  async function invite(agent: Agent, email: string) {
    const _csrf = await csrfOf(agent, '/account');
    return agent.post('/account/invitations').type('form').send({ _csrf, email });
  }

  /** Every document of every collection, as text: where a leaked raw token would show up. */
  async function wholeDatabase(): Promise<string> {
    const parts: string[] = [];
    for (const c of await mongoose.connection.db!.collections()) parts.push(JSON.stringify(await c.find().toArray()));
    return parts.join('\n');
  }

  it('the org admin invites a colleague: mail with a link, token stored only hashed, audit event', async () => {
    const page = await orgAdmin.get('/account');
    expect(page.status).to.equal(200);
    expect(page.text).to.include('action="/account/invitations"');

    const res = await invite(orgAdmin, `  ${invitee.toUpperCase()} `);
    expect(res.status).to.equal(302);
    expect(res.headers.location).to.equal('/account');
    expectShows((await orgAdmin.get('/account')).text, t('invite.sent', { email: invitee }));

    const mail = await h.lastMailTo(invitee);
    expect(mail, 'invitation mail in the outbox').to.not.equal(null);
    link = linkIn(mail!, '/invitations/');
    expect(link.token.length).to.be.greaterThan(40);

    const tokens = await AuthToken.find({ purpose: 'invitation' }).lean();
    expect(tokens).to.have.length(1);
    expect(tokens[0]).to.include({ email: invitee, role: 'tto', tokenHash: hashToken(link.token), usedAt: null });
    expect(String(tokens[0]!.organization)).to.equal(orgId);
    expect(tokens[0]!.expiresAt.getTime()).to.be.greaterThan(Date.now() + 6 * 86_400_000);
    expect(await wholeDatabase(), 'the raw token is nowhere in the database').not.to.include(link.token);

    const event = await AuditEvent.findOne({ action: 'user.invited' }).lean();
    expect(event).to.include({ actorEmail: DEMO.tto, targetId: String(tokens[0]!._id) });
  });

  it('the link shows the form for the invited address', async () => {
    const res = await h.agent().get(link.path);
    expect(res.status).to.equal(200);
    expect(res.text).to.include(invitee);
    expect(res.text).to.include('name="password"');
  });

  it('bad input on the form is a 422 and spends nothing', async () => {
    const agent = h.agent();
    const _csrf = csrfFrom((await agent.get(link.path)).text);
    const before = await counts();
    const res = await agent.post(link.path).type('form').send({ _csrf, name: '', password: 'short', passwordConfirm: 'other' });
    expect(res.status).to.equal(422);
    expect(fieldError(res.text, 'name')).to.equal(t('form.required'));
    expect(fieldError(res.text, 'password')).to.equal(t('user.password.too_short'));
    expect(await counts()).to.deep.equal(before);
    expect((await AuthToken.findOne({ purpose: 'invitation' }).lean())!.usedAt).to.equal(null);
  });

  it("accepting creates a member with the org's role and orgAdmin false, who can sign in", async () => {
    const agent = h.agent();
    const _csrf = csrfFrom((await agent.get(link.path)).text);
    const res = await agent.post(link.path).type('form').send({ _csrf, name: '新同事 周七', password: 'Joined-2026-yrd', passwordConfirm: 'Joined-2026-yrd' });
    expect(res.status).to.equal(302);
    expect(res.headers.location).to.equal('/login');
    expectShows((await agent.get('/login')).text, t('invitation.accepted'));

    const user = await User.findOne({ email: invitee }).lean();
    expect(user).to.include({ role: 'tto', orgAdmin: false, name: '新同事 周七', active: true });
    expect(String(user!.organization)).to.equal(orgId);
    expect((await AuthToken.findOne({ purpose: 'invitation' }).lean())!.usedAt).to.be.instanceOf(Date);
    const created = await AuditEvent.findOne({ action: 'user.created', targetId: String(user!._id) }).lean();
    expect(created!.summary).to.include({ email: invitee, role: 'tto' });

    const member = h.agent();
    expect((await login(member, invitee, 'Joined-2026-yrd')).status).to.equal(302);
    const account = await member.get('/account');
    expectShows(account.text, t('account.invite.not_admin'));
    expect(account.text).not.to.include('action="/account/invitations"');
    expect((await orgAdmin.get('/account')).text, 'listed among the colleagues').to.include(invitee);
  });

  it('the token works once', async () => {
    const agent = h.agent();
    const page = await agent.get(link.path);
    expect(page.status).to.equal(410);
    expectShows(page.text, t('invitation.invalid.title'));
    const before = await counts();
    const _csrf = await csrfOf(agent, '/login');
    const res = await agent.post(link.path).type('form').send({ _csrf, name: 'Second', password: 'Second-2026-yrd', passwordConfirm: 'Second-2026-yrd' });
    expect(res.status).to.equal(422);
    expectShows(res.text, t('invitation.invalid.title'));
    expect(await counts()).to.deep.equal(before);
  });

  it('a member who is not the org admin cannot invite (403), and nothing is stored', async () => {
    const member = await signedIn(h, DEMO.ttoMember);
    const before = await counts();
    const res = await invite(member, 'someone.else@hudong.example.cn');
    expect(res.status).to.equal(403);
    expectShows(res.text, tEn('invite.not_org_admin')); // this member reads English
    expect(await counts()).to.deep.equal(before);
    expect(await h.lastMailTo('someone.else@hudong.example.cn')).to.equal(null);
  });

  it('inviting an already registered email → 422, no token, no mail', async () => {
    const before = await counts();
    for (const email of [DEMO.sme, DEMO.sme.toUpperCase(), invitee]) {
      const res = await invite(orgAdmin, email);
      expect(res.status, email).to.equal(422);
      expect(fieldError(res.text, 'email')).to.equal(t('user.email.taken'));
    }
    const bad = await invite(orgAdmin, 'not-an-email');
    expect(bad.status).to.equal(422);
    expect(fieldError(bad.text, 'email')).to.equal(t('user.email.invalid'));
    expect(await counts()).to.deep.equal(before);
    expect(await h.lastMailTo(DEMO.sme)).to.equal(null);
  });

  it('an expired or made-up invitation link is invalid', async () => {
    await invite(orgAdmin, 'late@hudong.example.cn');
    const late = linkIn((await h.lastMailTo('late@hudong.example.cn'))!, '/invitations/');
    await AuthToken.updateOne({ tokenHash: hashToken(late.token) }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await h.agent().get(late.path)).status).to.equal(410);
    expect((await h.agent().get(`/invitations/${'A'.repeat(43)}`)).status).to.equal(410);
    expect((await h.agent().get('/invitations/short')).status).to.equal(410);
  });
});
