/**
 * Self-registration over HTTP: what a successful sign-up writes (organisation,
 * first user, audit events, a signed-in session), and that every kind of bad
 * or hostile submission is answered with a 4xx and writes nothing.
 */
import { expect } from 'chai';
import { AuditEvent } from '../../models/audit-event.js';
import { Organization } from '../../models/organization.js';
import { User } from '../../models/user.js';
import { usccCheckCharacter } from '../../server/domain/uscc.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { counts, csrfOf, enterpriseForm, expectNoInternals, expectShows, fieldError, register, t, tEn, validUscc } from './helpers.js';

describe('registration (POST /register)', function () {
  let h: AppHarness;
  before(async () => {
    h = await startApp();
  });
  after(async () => {
    await h.stop();
  });

  /** Runs `fn` and checks it left organisations, users, tokens and audit events as they were. */
  async function writesNothing(fn: () => Promise<void>): Promise<void> {
    const before = await counts();
    await fn();
    expect(await counts(), 'database after a refused registration').to.deep.equal(before);
  }

  describe('success', () => {
    it('registers an enterprise: unverified org with its size class, org-admin sme user, audit events, signed in', async () => {
      const form = enterpriseForm(1, { email: 'Founder1@Example.CN', uscc: validUscc(1).toLowerCase() });
      const agent = h.agent();
      const res = await register(agent, form);
      expect(res.status, res.text.slice(0, 500)).to.equal(302);
      expect(res.headers.location).to.equal('/');

      const org = await Organization.findOne({ uscc: validUscc(1) }).lean();
      expect(org, 'organisation stored with the upper-cased code').to.not.equal(null);
      expect(org).to.include({ kind: 'enterprise', nameZh: form.nameZh, nameEn: form.nameEn, region: 'JS', verified: false, rejectedReason: '' });
      expect(org!.verifiedBy).to.equal(null);
      expect(org!.enterprise).to.include({ sector: 'industry', employees: 85, annualRevenueFen: 5_000 * 1_000_000, sizeClass: 'small' });
      expect((org!.enterprise!.sizeReason as { key: string }).key).to.equal('sme.reason.small');

      const user = await User.findOne({ email: 'founder1@example.cn' }).select('+passwordHash').lean();
      expect(user, 'user stored with the lower-cased email').to.not.equal(null);
      expect(user).to.include({ role: 'sme', orgAdmin: true, active: true, locale: 'zh-CN', name: form.name });
      expect(String(user!.organization)).to.equal(String(org!._id));
      expect(user!.passwordHash).to.match(/^scrypt\$/).and.not.include(form.password);

      const events = await AuditEvent.find({ actorEmail: 'founder1@example.cn' }).lean();
      const byAction = Object.fromEntries(events.map((e) => [e.action, e]));
      expect(byAction['organization.registered']?.targetId).to.equal(String(org!._id));
      expect(byAction['organization.registered']?.summary).to.include({ sizeClass: 'small', uscc: validUscc(1) });
      expect(byAction['user.created']?.targetId).to.equal(String(user!._id));
      for (const e of events) expect(e.requestId, 'audit events carry the request id').to.match(/^[0-9a-f-]{36}$/);

      const home = await agent.get('/');
      expect(home.status).to.equal(200);
      expectShows(home.text, t('register.success'));
      expectShows(home.text, t('home.sme.title'));
      expectShows(home.text, t('org.status.pending.title'));
      expectShows(home.text, t('size.small'));
      expect((await agent.get('/account')).status, 'the new user is signed in').to.equal(200);
    });

    it('registers a university whose first user is a tto', async () => {
      const agent = h.agent();
      const res = await register(agent, { kind: 'university', nameZh: '测试理工大学', nameEn: '', region: 'AH', uscc: validUscc(2, '12340000'),
        name: '技术转移 张三', email: 'tto@univ.example.cn', password: 'Correct-horse-9', passwordConfirm: 'Correct-horse-9' });
      expect(res.status, res.text.slice(0, 500)).to.equal(302);
      const org = await Organization.findOne({ uscc: validUscc(2, '12340000') }).lean();
      expect(org).to.include({ kind: 'university', region: 'AH', verified: false });
      expect(org!.enterprise?.sizeClass ?? null, 'no size class for a university').to.equal(null);
      const user = await User.findOne({ email: 'tto@univ.example.cn' }).lean();
      expect(user).to.include({ role: 'tto', orgAdmin: true });
      const home = await agent.get('/');
      expectShows(home.text, t('home.tto.title'));
      expectShows(home.text, t('org.status.pending.title'));
    });
  });

  describe('refused submissions write nothing', () => {
    it('wrong USCC check character → 422 naming the expected character', async () => {
      const good = validUscc(3);
      const expected = usccCheckCharacter(good.slice(0, 17));
      const wrong = good.slice(0, 17) + (expected === '0' ? '1' : '0');
      await writesNothing(async () => {
        const agent = h.agent();
        const res = await register(agent, enterpriseForm(3, { uscc: wrong }));
        expect(res.status).to.equal(422);
        expect(fieldError(res.text, 'uscc')).to.equal(t('org.uscc.checksum', { expected }));
        expect(fieldError(res.text, 'uscc')).to.include(expected);
        expect(res.text, 'typed code kept').to.include(`value="${wrong}"`);
        expect((await agent.get('/account')).status, 'not signed in').to.equal(302);
      });
    });

    it('malformed USCCs → 422 with the length / charset error', async () => {
      await writesNothing(async () => {
        const short = await register(h.agent(), enterpriseForm(4, { uscc: '91320500MA1' }));
        expect(short.status).to.equal(422);
        expect(fieldError(short.text, 'uscc')).to.equal(t('org.uscc.length'));
        const bad = await register(h.agent(), enterpriseForm(4, { uscc: '91320500MA100000I1' }));
        expect(bad.status).to.equal(422);
        expect(fieldError(bad.text, 'uscc')).to.equal(t('org.uscc.charset', { position: 17 }));
      });
    });

    it('an already registered USCC or email (any case) → 422 field errors', async () => {
      await writesNothing(async () => {
        const dupUscc = await register(h.agent(), enterpriseForm(5, { uscc: validUscc(1) }));
        expect(dupUscc.status).to.equal(422);
        expect(fieldError(dupUscc.text, 'uscc')).to.equal(t('org.uscc.taken'));
        const dupEmail = await register(h.agent(), enterpriseForm(5, { email: 'FOUNDER1@example.cn' }));
        expect(dupEmail.status).to.equal(422);
        expect(fieldError(dupEmail.text, 'email')).to.equal(t('user.email.taken'));
        expect(fieldError(dupEmail.text, 'uscc')).to.equal(null);
      });
    });

    it('password mismatch or too short → 422, and the password is never echoed', async () => {
      await writesNothing(async () => {
        const mismatch = await register(h.agent(), enterpriseForm(6, { password: 'Secret-pass-123', passwordConfirm: 'Secret-pass-124' }));
        expect(mismatch.status).to.equal(422);
        expect(fieldError(mismatch.text, 'passwordConfirm')).to.equal(t('user.password.mismatch'));
        expect(mismatch.text).not.to.include('Secret-pass-12');
        const short = await register(h.agent(), enterpriseForm(6, { password: 'short1', passwordConfirm: 'short1' }));
        expect(short.status).to.equal(422);
        expect(fieldError(short.text, 'password')).to.equal(t('user.password.too_short'));
      });
    });

    it('an enterprise without sector, employees or revenue (or with nonsense) → 422 on each field', async () => {
      await writesNothing(async () => {
        const missing = await register(h.agent(), enterpriseForm(7, { sector: '', employees: '', annualRevenueWan: '' }));
        expect(missing.status).to.equal(422);
        expect(fieldError(missing.text, 'sector')).to.equal(t('org.sector.invalid'));
        expect(fieldError(missing.text, 'employees')).to.equal(t('org.employees.invalid'));
        expect(fieldError(missing.text, 'annualRevenueWan')).to.equal(t('org.revenue.invalid'));
        const nonsense = await register(h.agent(), enterpriseForm(7, { sector: 'mining', employees: '-3', annualRevenueWan: '12abc' }));
        expect(nonsense.status).to.equal(422);
        expect(fieldError(nonsense.text, 'sector')).to.equal(t('org.sector.invalid'));
        expect(fieldError(nonsense.text, 'employees')).to.equal(t('org.employees.invalid'));
        expect(fieldError(nonsense.text, 'annualRevenueWan')).to.equal(t('org.revenue.invalid'));
        const badKind = await register(h.agent(), enterpriseForm(7, { kind: 'platform' }));
        expect(badKind.status, 'platform organisations are created by an admin only').to.equal(422);
        expect(fieldError(badKind.text, 'kind')).to.equal(t('org.kind.invalid'));
      });
    });

    it('HTML/script in names → 422, nothing stored, and the markup is not reflected', async () => {
      const xss = '<script>alert(1)</script>';
      await writesNothing(async () => {
        for (const field of ['nameZh', 'nameEn', 'name']) {
          const res = await register(h.agent(), enterpriseForm(8, { [field]: xss }));
          expect(res.status, field).to.equal(422);
          expect(fieldError(res.text, field), field).to.equal(t('form.no_markup'));
          expect(res.text, `${field} reflected unescaped`).not.to.include(xss);
          expect(res.text).to.include('&lt;script&gt;');
        }
      });
    });

    it('operator-style keys (name[$gt]=, email[$ne]=) are plain, missing fields → 422', async () => {
      await writesNothing(async () => {
        const agent = h.agent();
        const _csrf = await csrfOf(agent, '/register');
        const form = enterpriseForm(9);
        const body = new URLSearchParams({ _csrf, ...form });
        body.delete('name');
        body.delete('email');
        body.append('name[$gt]', '');
        body.append('email[$ne]', 'x');
        body.append('uscc[$ne]', '1');
        const res = await agent.post('/register').type('form').send(body.toString());
        expect(res.status).to.equal(422);
        // A field that is absent (not merely empty) is reported as malformed.
        expect(fieldError(res.text, 'name')).to.be.oneOf([t('form.required'), t('form.invalid')]);
        expect(fieldError(res.text, 'email')).to.be.oneOf([t('user.email.invalid'), t('form.invalid')]);
      });
    });

    it('a JSON body, even with operators and a valid CSRF token, is refused (403)', async () => {
      await writesNothing(async () => {
        const agent = h.agent();
        const _csrf = await csrfOf(agent, '/register');
        const res = await agent.post('/register').set('Content-Type', 'application/json')
          .send(JSON.stringify({ _csrf, ...enterpriseForm(10), email: { $gt: '' }, name: { $ne: null } }));
        expect(res.status).to.equal(403);
        expectShows(res.text, t('error.csrf'));
        expectNoInternals(res.text);
      });
    });

    it('a text/plain body is refused (403)', async () => {
      await writesNothing(async () => {
        const agent = h.agent();
        const _csrf = await csrfOf(agent, '/register');
        const res = await agent.post('/register').set('Content-Type', 'text/plain')
          .send(new URLSearchParams({ _csrf, ...enterpriseForm(11) }).toString());
        expect(res.status).to.equal(403);
        expectShows(res.text, t('error.csrf'));
      });
    });

    it('a 10 MB body → 413 page; too many fields → 400; no internals shown', async () => {
      await writesNothing(async () => {
        const agent = h.agent();
        const _csrf = await csrfOf(agent, '/register');
        const huge = await agent.post('/register').type('form').send(`_csrf=${_csrf}&nameZh=${'x'.repeat(10 * 1024 * 1024)}`);
        expect(huge.status).to.equal(413);
        expectShows(huge.text, t('error.too_large'));
        expectShows(huge.text, t('error.title.413'));
        expectShows(huge.text, t('site.name'));
        expectNoInternals(huge.text);
        const many = Array.from({ length: 300 }, (_, i) => `f${i}=1`).join('&');
        const tooMany = await agent.post('/register').type('form').send(`_csrf=${_csrf}&${many}`);
        expect(tooMany.status).to.equal(400);
        expectShows(tooMany.text, t('error.bad_request'));
        expectNoInternals(tooMany.text);
        const english = await agent.post('/register').set('Accept-Language', 'en').type('form').send(`_csrf=${_csrf}&${many}`);
        expect(english.status).to.equal(400);
        expectShows(english.text, tEn('error.bad_request'));
      });
    });
  });
});
