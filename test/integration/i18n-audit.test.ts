/**
 * Languages (Accept-Language, the switcher in the session and in the user's
 * profile) and the audit log: every state change this file makes over HTTP
 * leaves an event, which admins and regulators can find with the filters,
 * and hostile query strings are ignored.
 */
import { expect } from 'chai';
import { AuditEvent } from '../../models/audit-event.js';
import { User } from '../../models/user.js';
import { AUDIT_PAGE_SIZE } from '../../server/services/audit.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { csrfOf, DEMO, enterpriseForm, expectShows, linkIn, login, register, signedIn, submit, t, tEn, type Agent } from './helpers.js';

/** The action column of the audit table. */
function actionsIn(html: string): string[] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<td><code>([^<]+)<\/code><\/td>/g)].map((m) => m[1]!);
}

describe('languages and the audit log', function () {
  let h: AppHarness;
  before(async () => {
    h = await startApp();
    await loadDemo();
  });
  after(async () => {
    await h.stop();
  });

  describe('languages', () => {
    it('zh-CN by default; English for Accept-Language en; q-values honoured', async () => {
      const cases: [string | undefined, 'zh-CN' | 'en'][] = [
        [undefined, 'zh-CN'], ['en', 'en'], ['en-GB,en;q=0.9', 'en'], ['fr, en;q=0.5', 'en'], ['en;q=0.1, zh-TW;q=0.9', 'zh-CN'], ['de', 'zh-CN'],
      ];
      for (const [header, locale] of cases) {
        const req = h.agent().get('/');
        const res = await (header ? req.set('Accept-Language', header) : req);
        expect(res.status).to.equal(200);
        expect(res.text, String(header)).to.include(`<html lang="${locale}"`);
        expectShows(res.text, t('landing.title', {}, locale));
      }
      expect(t('landing.title')).to.not.equal(tEn('landing.title'));
    });

    it('the switcher keeps an anonymous visitor’s choice in the session', async () => {
      const agent = h.agent();
      const _csrf = await csrfOf(agent, '/login');
      const res = await agent.post('/locale').type('form').send({ _csrf, locale: 'en', returnTo: '/login' });
      expect(res.status).to.equal(302);
      expect(res.headers.location).to.equal('/login');
      const page = await agent.get('/login').set('Accept-Language', 'zh-CN');
      expect(page.text, 'the choice beats Accept-Language').to.include('<html lang="en"');
      expectShows(page.text, tEn('login.title'));
      expect((await h.agent().get('/login')).text, 'other visitors unaffected').to.include('<html lang="zh-CN"');
    });

    it('for a signed-in user the choice is stored in User.locale and used at the next login', async () => {
      const agent = await signedIn(h, DEMO.sme);
      expect((await agent.get('/')).text).to.include('<html lang="zh-CN"');
      let res = await submit(agent, '/', '/locale', { locale: 'en', returnTo: '/account' });
      expect(res.headers.location).to.equal('/account');
      expect((await User.findOne({ email: DEMO.sme }).lean())!.locale).to.equal('en');
      const account = await agent.get('/account');
      expect(account.text).to.include('<html lang="en"');
      expectShows(account.text, tEn('account.title'));

      // Unknown locales and off-site return addresses are ignored.
      res = await submit(agent, '/', '/locale', { locale: 'fr', returnTo: 'https://evil.example/' });
      expect(res.headers.location).to.equal('/');
      expect((await User.findOne({ email: DEMO.sme }).lean())!.locale).to.equal('en');

      const elsewhere = await signedIn(h, DEMO.sme);
      const home = await elsewhere.get('/').set('Accept-Language', 'zh-CN');
      expect(home.text, 'a new session starts in the stored language').to.include('<html lang="en"');
      expectShows(home.text, tEn('home.sme.title'));
    });
  });

  describe('audit log', () => {
    let admin: Agent;
    let regulator: Agent;
    const founder = 'audit.founder@example.cn';
    const invitee = 'audit.invitee@example.cn';

    before(async () => {
      await AuditEvent.deleteMany({}); // only this file's own events from here on
      // registration (signs the founder in; they are their org's admin)
      const founderAgent = h.agent();
      expect((await register(founderAgent, enterpriseForm(42, { email: founder }))).status).to.equal(302);
      const orgId = String((await User.findOne({ email: founder }).lean())!.organization);
      // login + verification
      admin = await signedIn(h, DEMO.admin);
      const decided = await submit(admin, '/', `/admin/verifications/${orgId}`, { decision: 'approve' });
      expect(decided.status).to.equal(303);
      // invitation, sent and accepted
      expect((await submit(founderAgent, '/account', '/account/invitations', { email: invitee })).status).to.equal(302);
      const invitation = linkIn((await h.lastMailTo(invitee))!, '/invitations/');
      const guest = h.agent();
      const accepted = await submit(guest, invitation.path, invitation.path, { name: 'Audit Invitee', password: 'Invitee-2026-yrd', passwordConfirm: 'Invitee-2026-yrd' });
      expect(accepted.status).to.equal(302);
      // a failed login, then a password reset
      expect((await login(h.agent(), DEMO.tto, 'not-the-password')).status).to.equal(401);
      const forgot = h.agent();
      await submit(forgot, '/password/forgot', '/password/forgot', { email: DEMO.tto });
      const reset = linkIn((await h.lastMailTo(DEMO.tto))!, '/password/reset/');
      const done = await submit(forgot, reset.path, reset.path, { password: 'Reset-2026-yrd!', passwordConfirm: 'Reset-2026-yrd!' });
      expect(done.status).to.equal(302);
      regulator = await signedIn(h, DEMO.regulator);
    });

    it('records an event for each state change made above', async () => {
      const founderUser = await User.findOne({ email: founder }).lean();
      const expected: [string, Record<string, unknown>][] = [
        ['organization.registered', { actorEmail: founder, targetId: String(founderUser!.organization) }],
        ['user.created', { actorEmail: founder, targetId: String(founderUser!._id) }],
        ['user.login', { actorEmail: DEMO.admin }],
        ['organization.verified', { actorEmail: DEMO.admin, targetId: String(founderUser!.organization) }],
        ['user.invited', { actorEmail: founder }],
        ['user.created', { actorEmail: invitee }],
        ['user.login_failed', { actorEmail: DEMO.tto }],
        ['user.password_reset_requested', { targetType: 'User' }],
        ['user.password_reset', { targetType: 'User' }],
        ['user.login', { actorEmail: DEMO.regulator }],
      ];
      for (const [action, fields] of expected) {
        expect(await AuditEvent.countDocuments({ action, ...fields }), `${action} ${JSON.stringify(fields)}`).to.be.greaterThan(0);
      }
    });

    it('admin and regulator see the events, newest first, with the total', async () => {
      const total = await AuditEvent.countDocuments();
      for (const agent of [admin, regulator]) {
        const res = await agent.get('/audit');
        expect(res.status).to.equal(200);
        expectShows(res.text, t('audit.total', { total, page: 1, pages: Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE)) }));
        const actions = actionsIn(res.text);
        expect(actions).to.have.length(Math.min(total, AUDIT_PAGE_SIZE));
        expect(actions[0], 'newest first: the regulator’s login was the last change').to.equal('user.login');
      }
    });

    it('the action filter shows only that action, for each kind of state change', async () => {
      for (const action of ['organization.registered', 'organization.verified', 'user.login', 'user.invited', 'user.password_reset']) {
        const res = await admin.get('/audit').query({ action });
        expect(res.status).to.equal(200);
        const shown = actionsIn(res.text);
        expect(shown.length, action).to.equal(await AuditEvent.countDocuments({ action }));
        expect(shown.length, action).to.be.greaterThan(0);
        expect(new Set(shown), action).to.deep.equal(new Set([action]));
      }
      const byEmail = await admin.get('/audit').query({ actorEmail: DEMO.admin.toUpperCase() });
      expect(actionsIn(byEmail.text).length).to.equal(await AuditEvent.countDocuments({ actorEmail: DEMO.admin }));
      const future = await admin.get('/audit').query({ from: '2999-01-01' });
      expectShows(future.text, t('audit.empty'));
    });

    it('operator-style and repeated query parameters are ignored safely', async () => {
      const total = await AuditEvent.countDocuments();
      const pages = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
      for (const qs of ['action[$ne]=x', 'action[$regex]=.*', 'action=user.login&action=user.created', 'actorEmail[$gt]=', 'page=-5', 'page=abc', 'from=not-a-date']) {
        const res = await admin.get(`/audit?${qs}`);
        expect(res.status, qs).to.equal(200);
        expectShows(res.text, t('audit.total', { total, page: 1, pages }));
      }
      const noMatch = await admin.get('/audit').query({ action: '{"$ne":"x"}' });
      expect(noMatch.status).to.equal(200);
      expect(actionsIn(noMatch.text)).to.have.length(0);
    });

    it('is closed to everyone else', async () => {
      expect((await h.agent().get('/audit')).status).to.equal(302);
      const sme = await signedIn(h, DEMO.sme);
      expect((await sme.get('/audit')).status).to.equal(403);
    });
  });
});
