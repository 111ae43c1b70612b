/**
 * Cross-site request forgery and the HTTP hardening around every page: each
 * state-changing route refuses a missing or foreign CSRF token with the
 * localized 403 page and changes nothing; security headers; the health
 * check; localized 404s; error pages that never show internals.
 */
import { expect } from 'chai';
import type { Request, Response } from 'express';
import { AuthToken } from '../../models/auth-token.js';
import { User } from '../../models/user.js';
import { errorHandler } from '../../server/http/error-handler.js';
import { loadDictionaries, translator } from '../../server/http/i18n.js';
import { actorFor, inviteColleague, requestPasswordReset } from '../../server/services/accounts.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { counts, csrfOf, DEMO, DEMO_PASSWORD, enterpriseForm, expectNoInternals, expectShows, linkIn, signedIn, submit, t, tEn, validUscc, type Agent } from './helpers.js';

describe('CSRF protection and HTTP hardening', function () {
  let h: AppHarness;
  let admin: Agent;
  let anon: Agent;
  let foreignToken: string;
  let pendingOrg: string;
  let resetPath: string;
  let invitationPath: string;

  before(async () => {
    h = await startApp();
    await loadDemo();
    admin = await signedIn(h, DEMO.admin);
    anon = h.agent();
    await anon.get('/login'); // a session with its own (unused) token, so "wrong token" is not "no session"
    foreignToken = await csrfOf(h.agent(), '/login');
    pendingOrg = String((await User.findOne({ email: DEMO.smePending }).lean())!.organization);
    const meta = { requestId: 'test', ip: '127.0.0.1' };
    await requestPasswordReset(meta, DEMO.sme, h.mailer, 'http://localhost:3000');
    resetPath = linkIn((await h.lastMailTo(DEMO.sme))!, '/password/reset/').path;
    const adminId = (await User.findOne({ email: DEMO.admin }).lean())!._id;
    await inviteColleague({ actor: await actorFor(adminId), meta }, 'ops2@yrd-exchange.example.cn', h.mailer, 'http://localhost:3000');
    invitationPath = linkIn((await h.lastMailTo('ops2@yrd-exchange.example.cn'))!, '/invitations/').path;
  });
  after(async () => {
    await h.stop();
  });

  /** Everything a forged request could have changed. */
  async function state() {
    const admin = await User.findOne({ email: DEMO.admin }).lean();
    const spent = await AuthToken.countDocuments({ usedAt: { $ne: null } });
    return { ...(await counts()), mails: (await h.mailer.listOutbox()).length, adminLocale: admin!.locale, spent };
  }

  const routes: { name?: string; path: () => string; as: 'anon' | 'admin'; body: () => Record<string, string> }[] = [
    { path: () => '/login', as: 'anon', body: () => ({ email: DEMO.sme, password: DEMO_PASSWORD }) },
    { path: () => '/logout', as: 'admin', body: () => ({}) },
    { path: () => '/register', as: 'anon', body: () => enterpriseForm(1) },
    { path: () => '/locale', as: 'admin', body: () => ({ locale: 'en', returnTo: '/' }) },
    { path: () => '/password/forgot', as: 'anon', body: () => ({ email: DEMO.tto }) },
    { name: '/password/reset/:token', path: () => resetPath, as: 'anon', body: () => ({ password: 'Forged-pass-2026', passwordConfirm: 'Forged-pass-2026' }) },
    { name: '/invitations/:token', path: () => invitationPath, as: 'anon', body: () => ({ name: 'Forger', password: 'Forged-pass-2026', passwordConfirm: 'Forged-pass-2026' }) },
    { path: () => '/account/invitations', as: 'admin', body: () => ({ email: 'forged@example.cn' }) },
    { name: '/admin/verifications/:id', path: () => `/admin/verifications/${pendingOrg}`, as: 'admin', body: () => ({ decision: 'approve' }) },
    { path: () => '/admin/organizations', as: 'admin', body: () => ({ kind: 'fund', nameZh: '伪造基金', nameEn: '', region: 'SH', uscc: validUscc(77, '91310000') }) },
  ];
  const variants: { name: string; token: () => Record<string, string>; header?: () => string }[] = [
    { name: 'no token', token: () => ({}) },
    { name: 'a token of another session', token: () => ({ _csrf: foreignToken }) },
    { name: 'a made-up token', token: () => ({ _csrf: 'forged-token-0123456789' }) },
    { name: 'the right token in a header only', token: () => ({}), header: () => 'own' },
  ];

  for (const variant of variants) {
    describe(`state-changing routes with ${variant.name}`, () => {
      for (const route of routes) {
        it(`POST ${route.name ?? route.path()} → 403 CSRF page, nothing changed`, async () => {
          const agent = route.as === 'admin' ? admin : anon;
          const before = await state();
          let req = agent.post(route.path()).type('form');
          if (variant.header) req = req.set('X-CSRF-Token', await csrfOf(agent, route.as === 'admin' ? '/' : '/login'));
          const res = await req.send({ ...route.body(), ...variant.token() });
          expect(res.status).to.equal(403);
          expectShows(res.text, t('error.csrf'));
          expectNoInternals(res.text);
          expect(await state()).to.deep.equal(before);
          expect((await admin.get('/account')).status, 'admin still signed in').to.equal(200);
          expect((await anon.get('/account')).status, 'anonymous still anonymous').to.equal(302);
        });
      }
    });
  }

  it('control: the same /locale request with the right token does work', async () => {
    const res = await submit(admin, '/', '/locale', { locale: 'en', returnTo: '/account' });
    expect(res.status).to.equal(302);
    expect(res.headers.location).to.equal('/account');
    expect((await User.findOne({ email: DEMO.admin }).lean())!.locale).to.equal('en');
    await submit(admin, '/', '/locale', { locale: 'zh-CN' });
  });

  it('the CSRF page is in the reader’s language', async () => {
    const res = await h.agent().post('/password/forgot').set('Accept-Language', 'en-GB,en;q=0.9').type('form').send({ email: 'x@example.cn' });
    expect(res.status).to.equal(403);
    expectShows(res.text, tEn('error.csrf'));
    expect(res.text).to.include('<html lang="en"');
  });

  it('sends the security headers on pages', async () => {
    for (const path of ['/', '/login', '/nope']) {
      const res = await h.agent().get(path);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, path).to.include("default-src 'self'").and.include("frame-ancestors 'none'").and.include("script-src 'self'").and.include("object-src 'none'");
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['x-frame-options']).to.equal('SAMEORIGIN');
      expect(res.headers['referrer-policy']).to.equal('same-origin');
      expect(res.headers).not.to.have.property('x-powered-by');
      expect(res.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    }
  });

  it('GET /healthz → 200 {status: ok, database: ok}, without a session cookie', async () => {
    const res = await h.agent().get('/healthz');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ status: 'ok', database: 'ok' });
    expect(res.headers['set-cookie']).to.equal(undefined);
  });

  it('an unknown path → 404 page in zh-CN by default, English with Accept-Language: en', async () => {
    const zh = await h.agent().get('/no/such/page');
    expect(zh.status).to.equal(404);
    expectShows(zh.text, t('error.not_found.title'));
    expectShows(zh.text, t('error.not_found'));
    expect(zh.text).to.include('<html lang="zh-CN"');
    expectNoInternals(zh.text);
    const en = await h.agent().get('/no/such/page').set('Accept-Language', 'en');
    expect(en.status).to.equal(404);
    expectShows(en.text, tEn('error.not_found.title'));
    expect(en.text).to.include('<html lang="en"');
    // Signed in too; the outbox's ids reach the file system, so odd ones must simply be unknown.
    expect((await admin.get('/admin/outbox/../../etc/passwd')).status).to.equal(404);
    expect((await admin.get('/admin/outbox/1234')).status).to.equal(404);
  });

  it('an unexpected error → plain 500 page: logged with the stack, but no details shown', async () => {
    const logged: unknown[] = [];
    let status = 0;
    let locals: Record<string, unknown> = {};
    const tZh = translator(loadDictionaries(), 'zh-CN');
    const res = {
      locals: { t: tZh }, headersSent: false,
      status(s: number) { status = s; return this; },
      setHeader() {},
      render(_view: string, l: Record<string, unknown>) { locals = l; },
    } as unknown as Response;
    const req = { method: 'GET', originalUrl: '/x', requestId: 'req-1' } as unknown as Request;
    const secret = new Error('connection string mongodb://admin:hunter2@db/ at /srv/app/server/x.ts:12');
    errorHandler({ error: (_m, e) => logged.push(e) })(secret, req, res, () => {});
    expect(status).to.equal(500);
    expect(logged).to.deep.equal([secret]);
    expect(locals.message).to.equal(t('error.internal'));
    const html = await new Promise<string>((resolve, reject) => {
      h.app.render('error', { ...locals, t: tZh, htmlLang: 'zh-CN' }, (err, out) => (err ? reject(err) : resolve(out!)));
    });
    expectShows(html, t('error.internal'));
    expect(html).to.include('req-1');
    expect(html).not.to.include('hunter2');
    expectNoInternals(html);
  });

  it('a signed-in form post with the right token still passes CSRF (logout control)', async () => {
    const agent = await signedIn(h, DEMO.regulator);
    const res = await submit(agent, '/', '/logout', {});
    expect(res.status).to.equal(302);
    expect((await agent.get('/account')).status).to.equal(302);
  });
});
