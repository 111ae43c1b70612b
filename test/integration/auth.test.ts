/**
 * Signing in and out: each role's landing page, failure messages, the
 * session cookie, per-account lockout and per-address rate limits, password
 * reset by e-mailed one-time link, and where a login sends the user next.
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import request from 'supertest';
import { AuditEvent } from '../../models/audit-event.js';
import { AuthToken } from '../../models/auth-token.js';
import { User } from '../../models/user.js';
import { isSafeRedirect } from '../../server/http/security.js';
import { hashToken } from '../../server/services/tokens.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { csrfFrom, startApp, type AppHarness } from '../helpers/app-harness.js';
import { counts, csrfOf, DEMO, DEMO_PASSWORD, expectNoInternals, expectShows, linkIn, login, setCookie, shows, submit, t } from './helpers.js';

const ROLE_LOGINS = { tto: DEMO.tto, sme: DEMO.sme, fund_manager: DEMO.fund_manager, regulator: DEMO.regulator, admin: DEMO.admin } as const;

/** The session id inside a `yrd.sid=s%3A<id>.<signature>` cookie. */
function sidOf(cookie: string): string {
  const value = decodeURIComponent(cookie.split(';')[0]!.split('=')[1]!);
  return value.slice(2, value.lastIndexOf('.'));
}

describe('authentication', function () {
  let h: AppHarness;
  before(async () => {
    h = await startApp();
    await loadDemo();
  });
  after(async () => {
    await h.stop();
  });

  describe('login and logout', () => {
    for (const [role, email] of Object.entries(ROLE_LOGINS)) {
      it(`${role} (${email}) lands on the ${role} home page`, async () => {
        const agent = h.agent();
        const res = await login(agent, email);
        expect(res.status).to.equal(302);
        expect(res.headers.location).to.equal('/');
        const home = await agent.get('/');
        expect(home.status).to.equal(200);
        expectShows(home.text, t(`home.${role}.title`));
        for (const other of Object.keys(ROLE_LOGINS).filter((r) => r !== role)) {
          expect(shows(home.text, t(`home.${other}.title`)), `${role} page shows ${other}'s title`).to.equal(false);
        }
        const user = await User.findOne({ email }).lean();
        expect(user!.lastLoginAt).to.be.instanceOf(Date);
        expect(await AuditEvent.countDocuments({ action: 'user.login', targetId: String(user!._id) })).to.equal(1);
      });
    }

    it('a wrong password → 401 with the message; email kept, password not echoed', async () => {
      const res = await login(h.agent(), DEMO.sme, 'Wrong-password-42');
      expect(res.status).to.equal(401);
      expectShows(res.text, t('login.failed'));
      expect(res.text).to.include(`value="${DEMO.sme}"`);
      expect(res.text).not.to.include('Wrong-password-42');
      const user = await User.findOne({ email: DEMO.sme }).lean();
      expect(user!.failedLogins).to.equal(1);
      expect(await AuditEvent.countDocuments({ action: 'user.login_failed', targetId: String(user!._id) })).to.equal(1);
    });

    it('an unknown email → the same 401 message', async () => {
      const before = await counts();
      const res = await login(h.agent(), 'nobody@example.cn', 'Whatever-password-1');
      expect(res.status).to.equal(401);
      expectShows(res.text, t('login.failed'));
      expect(res.text).not.to.include('Whatever-password-1');
      expect(await counts()).to.deep.equal(before);
    });

    it('the session cookie is httpOnly and SameSite=Lax, replaced on login; logout (POST with CSRF) ends it', async () => {
      const agent = h.agent();
      const page = await agent.get('/login');
      const anonCookie = setCookie(page);
      expect(anonCookie, 'the login form starts a session (for its CSRF token)').to.be.a('string');
      expect(anonCookie).to.match(/;\s*HttpOnly/i).and.match(/;\s*SameSite=Lax/i).and.match(/;\s*Path=\//);
      expect(anonCookie, 'no Secure flag over plain http').not.to.match(/;\s*Secure/i);
      const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email: DEMO.tto, password: DEMO_PASSWORD });
      expect(res.status).to.equal(302);
      const authCookie = setCookie(res);
      expect(authCookie).to.match(/;\s*HttpOnly/i).and.match(/;\s*SameSite=Lax/i);
      expect(sidOf(authCookie!)).to.not.equal(sidOf(anonCookie!));
      // The pre-login id is dead: replaying it (session fixation) gives no access.
      const fixated = await request(h.app).get('/account').set('Cookie', anonCookie!.split(';')[0]!);
      expect(fixated.status).to.equal(302);
      expect((await agent.get('/account')).status).to.equal(200);
      expect((await agent.get('/login')).headers.location, 'GET /login when signed in goes home').to.equal('/');

      const cookie = authCookie!.split(';')[0]!;
      const out = await submit(agent, '/', '/logout', {});
      expect(out.status).to.equal(302);
      expect(out.headers.location).to.equal('/');
      // Logout regenerates the session (keeping only the language choice): a new id, never the old one.
      const next = setCookie(out);
      expect(next, 'a fresh session cookie').to.be.a('string');
      expect(sidOf(next!.split(';')[0]!)).to.not.equal(sidOf(cookie));
      expect((await agent.get('/account')).status).to.equal(302);
      expect((await request(h.app).get('/account').set('Cookie', cookie)).status, 'old cookie replayed').to.equal(302);
      expect(await mongoose.connection.db!.collection('sessions').countDocuments({ _id: sidOf(cookie) as never })).to.equal(0);
    });
  });

  describe('per-account lockout', () => {
    const email = 'tto.js@demo.yrd-exchange.cn';

    it('5 wrong passwords lock the account: 429 "N minutes", even with the right password; lockedUntil stored', async () => {
      for (let i = 1; i <= 4; i++) expect((await login(h.agent(), email, `wrong-${i}-password`)).status, `attempt ${i}`).to.equal(401);
      const fifth = await login(h.agent(), email, 'wrong-5-password');
      expect(fifth.status).to.equal(429);
      expectShows(fifth.text, t('auth.locked', { minutes: 15 }));
      expect(t('auth.locked', { minutes: 15 })).to.include('15');
      const user = await User.findOne({ email }).lean();
      expect(user!.lockedUntil!.getTime()).to.be.greaterThan(Date.now() + 14 * 60_000);
      expect(await AuditEvent.countDocuments({ action: 'user.locked', targetId: String(user!._id) })).to.equal(1);

      const right = await login(h.agent(), email, DEMO_PASSWORD);
      expect(right.status).to.equal(429);
      expect(right.headers['retry-after']).to.match(/^\d+$/);
      expectShows(right.text, t('auth.locked', { minutes: 15 }));
      expectNoInternals(right.text);
      expect(await AuditEvent.countDocuments({ action: 'user.login', targetId: String(user!._id) })).to.equal(0);
    });
  });

  describe('per-account lockout under parallel guessing', () => {
    const email = 'tto.zj@demo.yrd-exchange.cn';

    it('simultaneous wrong passwords are all counted, so they still lock the account', async () => {
      // Three failures already; two more guesses sent at once must make five. (Counting from the
      // value read before the slow hash, both would write 4 and the account would never lock.)
      await User.updateOne({ email }, { $set: { failedLogins: 3 } });
      const agents = [h.agent(), h.agent()];
      const tokens = await Promise.all(agents.map((a) => csrfOf(a, '/login')));
      const results = await Promise.all(agents.map((a, i) => a.post('/login').type('form').send({ _csrf: tokens[i], email, password: `parallel-guess-${i}` })));
      expect(results.map((r) => r.status).sort()).to.deep.equal([401, 429]);
      const user = await User.findOne({ email }).lean();
      expect(user!.lockedUntil, 'locked after five failures').to.be.instanceOf(Date);
      expect(await AuditEvent.countDocuments({ action: 'user.locked', targetId: String(user!._id) })).to.equal(1);
    });
  });

  describe('password reset', () => {
    const email = 'tto.js@demo.yrd-exchange.cn'; // locked above: a reset also unlocks
    let link: { path: string; token: string };

    it('an unknown email gets the same answer and no mail', async () => {
      const agent = h.agent();
      const _csrf = await csrfOf(agent, '/password/forgot');
      const before = await counts();
      const res = await agent.post('/password/forgot').type('form').send({ _csrf, email: 'nobody@example.cn' });
      expect(res.status).to.equal(302);
      expect(res.headers.location).to.equal('/login');
      expectShows((await agent.get('/login')).text, t('forgot.sent'));
      expect(await h.mailer.listOutbox()).to.have.length(0);
      expect(await counts()).to.deep.equal(before);
    });

    it('a known email gets the same answer, a hashed token and a mail with the link', async () => {
      const agent = h.agent();
      const _csrf = await csrfOf(agent, '/password/forgot');
      const res = await agent.post('/password/forgot').type('form').send({ _csrf, email: email.toUpperCase() });
      expect(res.status).to.equal(302);
      expect(res.headers.location).to.equal('/login');
      expectShows((await agent.get('/login')).text, t('forgot.sent'));
      const mail = await h.lastMailTo(email);
      expect(mail).to.not.equal(null);
      link = linkIn(mail!, '/password/reset/');
      const stored = await AuthToken.findOne({ purpose: 'password_reset', email }).lean();
      expect(stored!.tokenHash).to.equal(hashToken(link.token));
      expect(JSON.stringify(stored)).not.to.include(link.token);
      expect(await AuditEvent.countDocuments({ action: 'user.password_reset_requested' })).to.equal(1);
    });

    it('the link shows the form; a mismatch is a 422; a good password resets it once', async () => {
      const agent = h.agent();
      const form = await agent.get(link.path);
      expect(form.status).to.equal(200);
      expect(form.text).to.include('name="password"');
      const _csrf = csrfFrom(form.text);
      const mismatch = await agent.post(link.path).type('form').send({ _csrf, password: 'New-password-2026', passwordConfirm: 'New-password-2027' });
      expect(mismatch.status).to.equal(422);
      const ok = await agent.post(link.path).type('form').send({ _csrf, password: 'New-password-2026', passwordConfirm: 'New-password-2026' });
      expect(ok.status).to.equal(302);
      expect(ok.headers.location).to.equal('/login');
      expectShows((await agent.get('/login')).text, t('reset.done'));
      const user = await User.findOne({ email }).lean();
      expect(user!.lockedUntil, 'reset unlocks').to.equal(null);
      expect(await AuditEvent.countDocuments({ action: 'user.password_reset', targetId: String(user!._id) })).to.equal(1);

      expect((await login(h.agent(), email, DEMO_PASSWORD)).status, 'old password').to.equal(401);
      expect((await login(h.agent(), email, 'New-password-2026')).status, 'new password').to.equal(302);
    });

    it('the link works once', async () => {
      const agent = h.agent();
      const again = await agent.get(link.path);
      expect(again.status).to.equal(410);
      expectShows(again.text, t('reset.invalid.title'));
      const _csrf = await csrfOf(agent, '/password/forgot');
      const post = await agent.post(link.path).type('form').send({ _csrf, password: 'Another-pass-2026', passwordConfirm: 'Another-pass-2026' });
      expect(post.status).to.equal(422);
      expectShows(post.text, t('reset.invalid.title'));
    });

    it('an expired link is invalid and changes nothing', async () => {
      const agent = h.agent();
      let _csrf = await csrfOf(agent, '/password/forgot');
      await agent.post('/password/forgot').type('form').send({ _csrf, email: DEMO.fund_manager });
      const expired = linkIn((await h.lastMailTo(DEMO.fund_manager))!, '/password/reset/');
      await AuthToken.updateOne({ tokenHash: hashToken(expired.token) }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
      const hashBefore = (await User.findOne({ email: DEMO.fund_manager }).select('+passwordHash').lean())!.passwordHash;
      const page = await agent.get(expired.path);
      expect(page.status).to.equal(410);
      expectShows(page.text, t('reset.invalid.title'));
      _csrf = await csrfOf(agent, '/password/forgot');
      const post = await agent.post(expired.path).type('form').send({ _csrf, password: 'Expired-pass-2026', passwordConfirm: 'Expired-pass-2026' });
      expect(post.status).to.equal(422);
      expect((await User.findOne({ email: DEMO.fund_manager }).select('+passwordHash').lean())!.passwordHash).to.equal(hashBefore);
      expect((await AuthToken.findOne({ tokenHash: hashToken(expired.token) }).lean())!.usedAt).to.equal(null);
    });
  });

  describe('returnTo', () => {
    it('an anonymous visit to /account goes to /login, and the login goes back to /account', async () => {
      const agent = h.agent();
      const res = await agent.get('/account');
      expect(res.status).to.equal(302);
      expect(res.headers.location).to.equal('/login');
      const done = await login(agent, DEMO.sme);
      expect(done.status).to.equal(302);
      expect(done.headers.location).to.equal('/account');
    });

    it('an off-site returnTo (even planted in the session) is never followed', async () => {
      const agent = h.agent();
      const page = await agent.get('/login');
      const sid = sidOf(setCookie(page)!);
      const sessions = mongoose.connection.db!.collection<{ _id: string; session: string }>('sessions');
      const doc = await sessions.findOne({ _id: sid });
      await sessions.updateOne({ _id: sid }, { $set: { session: JSON.stringify({ ...JSON.parse(doc!.session), returnTo: '//evil.example/steal' }) } });
      const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email: DEMO.sme, password: DEMO_PASSWORD, returnTo: 'https://evil.example/' });
      expect(res.status).to.equal(302);
      expect(res.headers.location).to.equal('/');

      for (const target of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '/ok path', ' /x', '']) {
        expect(isSafeRedirect(target), target).to.equal(false);
      }
      expect(isSafeRedirect('/account?tab=1')).to.equal(true);
    });
  });
});

describe('per-address rate limits', function () {
  let h: AppHarness;
  before(async () => {
    h = await startApp({ rateLimits: { login: 3, signup: 3, reset: 2 } });
  });
  after(async () => {
    await h.stop();
  });

  /** Posts `body` to `path` n+1 times; the first n must not be 429, the last must be. */
  async function hammer(path: string, formPage: string, n: number, body: Record<string, string>, minutes: number) {
    const agent = h.agent();
    const _csrf = await csrfOf(agent, formPage);
    for (let i = 1; i <= n; i++) {
      const res = await agent.post(path).type('form').send({ _csrf, ...body });
      expect(res.status, `${path} #${i}`).to.be.oneOf([302, 401, 422]);
    }
    const before = await counts();
    const limited = await agent.post(path).type('form').send({ _csrf, ...body });
    expect(limited.status, `${path} #${n + 1}`).to.equal(429);
    expectShows(limited.text, t('error.rate_limited', { minutes }));
    expect(t('error.rate_limited', { minutes })).to.include(String(minutes));
    expect(limited.headers.ratelimit ?? limited.headers['ratelimit-policy'], 'standard RateLimit headers').to.be.a('string');
    expectNoInternals(limited.text);
    expect(await counts(), 'a limited request writes nothing').to.deep.equal(before);
    // Showing the form stays free.
    expect((await agent.get(formPage)).status).to.equal(200);
  }

  it('the 4th login POST from one address → 429 with a minutes message', async () => {
    // Missing credentials are refused before any password hashing, so this stays fast.
    await hammer('/login', '/login', 3, { email: 'someone@example.cn', password: '' }, 15);
  });

  it('the 4th sign-up POST → 429', async () => {
    await hammer('/register', '/register', 3, { kind: 'enterprise' }, 60);
  });

  it('the 3rd password-reset POST → 429', async () => {
    await hammer('/password/forgot', '/password/forgot', 2, { email: 'nobody@example.cn' }, 60);
  });
});
