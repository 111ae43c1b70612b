/**
 * Each role's main journey in a real browser (Debian's Chromium through
 * playwright-core) against the real app on a loopback port, with the
 * embedded store behind it. Assertions read what a person sees (text from
 * the locale dictionaries, so wording changes don't break them) and then the
 * database. Every main step leaves a screenshot in test-output/screenshots/.
 *
 * The `it`s run in order and share state: they are one story.
 */
import { expect } from 'chai';
import { AuditEvent } from '../../models/audit-event.js';
import { Organization } from '../../models/organization.js';
import { User } from '../../models/user.js';
import { usccCheckCharacter } from '../../server/domain/uscc.js';
import type { Translate } from '../../server/http/i18n.js';
import type { AppHarness } from '../helpers/app-harness.js';
import { clearScreenshots, screenshot, type BrowserPage } from '../helpers/browser.js';
import { startJourney, type Journey } from '../helpers/browser-journey.js';

const ADMIN_EMAIL = 'admin@demo.yrd-exchange.cn';

/** The enterprise the visitor registers. The credit code's check character is computed, not hard-coded. */
const USCC_BODY = '91330106MA2B7C3D4';
const USCC = USCC_BODY + usccCheckCharacter(USCC_BODY);
const WRONG_USCC = USCC_BODY + (USCC.endsWith('0') ? '1' : '0');
const SME = {
  nameZh: '杭州西溪光感智能科技有限公司',
  nameEn: 'Hangzhou Xixi Optical Sensing Intelligence Co., Ltd.',
  region: 'ZJ',
  sector: 'software_it',
  employees: '42',
  annualRevenueWan: '860.5',
  name: '创始人 沈一鸣',
  email: 'founder@xixi-sensing.example.cn',
  password: 'Xixi-sensing-2026',
};

describe('browser journeys (Chromium)', function () {
  this.timeout(60_000);

  let j: Journey;
  let harness: AppHarness;
  let zh: Translate;
  let en: Translate;
  let sme: BrowserPage;
  let admin: BrowserPage;
  const open = () => j.open();
  const clickAndLoad: Journey['clickAndLoad'] = (...args) => j.clickAndLoad(...args);
  const checkPage: Journey['checkPage'] = (...args) => j.checkPage(...args);
  const login: Journey['login'] = (...args) => j.login(...args);
  const h1: Journey['h1'] = (page) => j.h1(page);

  before(async function () {
    clearScreenshots();
    j = await startJourney();
    ({ harness, zh, en } = j);
  });

  after(async function () {
    await j?.stop();
  });

  it('1. a visitor registers an enterprise, first fixing a mistyped credit code', async function () {
    sme = await open();
    const { page } = sme;
    await page.goto('/');
    expect(await h1(page)).to.equal(zh('landing.title'));
    expect(await page.locator('html').getAttribute('lang')).to.equal('zh-CN');
    await checkPage(sme, 'visitor-landing');

    await clickAndLoad(page, page.locator('main').getByRole('link', { name: zh('landing.cta.register') }).first());
    expect(new URL(page.url()).pathname).to.equal('/register');
    expect(await h1(page)).to.equal(zh('register.title'));
    await checkPage(sme, 'register-form');

    await page.getByLabel(zh('kind.enterprise'), { exact: true }).check();
    expect(await page.locator('#enterprise-fields').isVisible(), 'enterprise fields shown for an enterprise').to.equal(true);
    await page.locator('#nameZh').fill(SME.nameZh);
    await page.locator('#nameEn').fill(SME.nameEn);
    await page.locator('#region').selectOption(SME.region);
    await page.locator('#uscc').fill(WRONG_USCC);
    await page.locator('#sector').selectOption(SME.sector);
    await page.locator('#employees').fill(SME.employees);
    await page.locator('#annualRevenueWan').fill(SME.annualRevenueWan);
    await page.locator('#name').fill(SME.name);
    await page.locator('#email').fill(SME.email);
    await page.locator('#password').fill(SME.password);
    await page.locator('#passwordConfirm').fill(SME.password);
    await clickAndLoad(page, '#register-form button[type=submit]');

    // The error is next to the credit-code field, tied to it for screen readers, and names the expected check character.
    const usccField = page.locator('#uscc');
    const usccError = page.locator('.field:has(#uscc) .field-error');
    expect(await usccError.innerText()).to.equal(zh('org.uscc.checksum', { expected: USCC.at(-1)! }));
    expect(await usccField.getAttribute('aria-invalid')).to.equal('true');
    expect((await usccField.getAttribute('aria-describedby'))?.split(/\s+/)).to.include(await usccError.getAttribute('id'));
    expect(await page.locator('.error-summary').innerText()).to.contain(zh('org.uscc.checksum', { expected: USCC.at(-1)! }));
    expect(await page.locator('.field-error').count(), 'only the credit code is wrong').to.equal(1);
    // What was typed is kept (passwords excepted, by design).
    expect(await usccField.inputValue()).to.equal(WRONG_USCC);
    expect(await page.locator('#nameZh').inputValue()).to.equal(SME.nameZh);
    expect(await page.locator('#nameEn').inputValue()).to.equal(SME.nameEn);
    expect(await page.locator('#region').inputValue()).to.equal(SME.region);
    expect(await page.locator('#sector').inputValue()).to.equal(SME.sector);
    expect(await page.locator('#employees').inputValue()).to.equal(SME.employees);
    expect(await page.locator('#annualRevenueWan').inputValue()).to.equal(SME.annualRevenueWan);
    expect(await page.locator('#name').inputValue()).to.equal(SME.name);
    expect(await page.locator('#email').inputValue()).to.equal(SME.email);
    expect(await page.locator('#kind-enterprise').isChecked()).to.equal(true);
    expect(await page.locator('#password').inputValue()).to.equal('');
    expect(await Organization.exists({ uscc: WRONG_USCC })).to.equal(null);
    await checkPage(sme, 'register-uscc-error');

    await usccField.fill(USCC);
    await page.locator('#password').fill(SME.password);
    await page.locator('#passwordConfirm').fill(SME.password);
    await clickAndLoad(page, '#register-form button[type=submit]', 30_000);

    expect(new URL(page.url()).pathname).to.equal('/');
    expect(await h1(page)).to.equal(zh('home.sme.title'));
    expect(await page.locator('.flash').first().innerText()).to.equal(zh('register.success'));
    const pending = page.locator('.status-panel.status-pending');
    expect(await pending.locator('h2').innerText()).to.equal(zh('org.status.pending.title'));
    expect(await page.locator('.status-verified').count()).to.equal(0);
    expect(await page.locator('main').innerText()).to.contain(SME.nameZh).and.contain(USCC);
    await checkPage(sme, 'sme-home-pending');

    const org = await Organization.findOne({ uscc: USCC }).lean();
    expect(org, 'organisation stored').to.not.equal(null);
    expect(org!).to.include({ kind: 'enterprise', nameZh: SME.nameZh, region: SME.region, verified: false });
    expect(org!.enterprise).to.include({ sector: SME.sector, employees: 42, annualRevenueFen: 860_500_000, sizeClass: 'small' });
    const user = await User.findOne({ email: SME.email }).lean();
    expect(user!).to.include({ role: 'sme', orgAdmin: true, locale: 'zh-CN' });
    expect(String(user!.organization)).to.equal(String(org!._id));
  });

  it('2. the admin approves the enterprise and the SME sees it verified', async function () {
    admin = await open();
    const { page } = admin;
    await login(admin, ADMIN_EMAIL);
    expect(await h1(page)).to.equal(zh('home.admin.title'));
    await checkPage(admin, 'admin-home');

    await clickAndLoad(page, page.locator('.site-nav').getByRole('link', { name: zh('nav.verifications') }));
    expect(new URL(page.url()).pathname).to.equal('/admin/verifications');
    expect(await h1(page)).to.equal(zh('verify.title'));
    const item = page.locator('.queue-item').filter({ hasText: SME.nameZh });
    expect(await item.count()).to.equal(1);
    expect(await item.innerText()).to.contain(USCC).and.contain(zh('size.small'));
    await checkPage(admin, 'admin-verification-queue');

    await clickAndLoad(page, item.getByRole('button', { name: zh('verify.approve') }));
    expect(new URL(page.url()).pathname).to.equal('/admin/verifications');
    expect(await page.locator('.flash').first().innerText()).to.equal(zh('verify.approved'));
    expect(await page.locator('.queue-item').filter({ hasText: SME.nameZh }).count()).to.equal(0);
    await checkPage(admin, 'admin-after-approval');

    const org = await Organization.findOne({ uscc: USCC }).lean();
    expect(org!.verified).to.equal(true);
    expect(org!.verifiedAt).to.be.instanceOf(Date);
    const adminUser = await User.findOne({ email: ADMIN_EMAIL }).lean();
    expect(String(org!.verifiedBy)).to.equal(String(adminUser!._id));
    expect(await AuditEvent.exists({ action: 'organization.verified', targetId: String(org!._id), actorEmail: ADMIN_EMAIL })).to.not.equal(null);
    expect(await harness.lastMailTo(SME.email)).to.be.a('string');

    await sme.page.reload();
    expect(await h1(sme.page)).to.equal(zh('home.sme.title'));
    expect(await sme.page.locator('.status-panel.status-verified h2').innerText()).to.equal(zh('org.status.verified.title'));
    expect(await sme.page.locator('.status-pending').count()).to.equal(0);
    await checkPage(sme, 'sme-home-verified');
  });

  it('3. the SME switches to English, then logs out to the landing page', async function () {
    const { page } = sme;
    const switcher = page.locator('form.locale-switch');
    expect(await switcher.getByRole('button', { name: 'English' }).getAttribute('aria-pressed')).to.equal('false');
    await clickAndLoad(page, switcher.getByRole('button', { name: 'English' }));

    expect(new URL(page.url()).pathname).to.equal('/');
    expect(await page.locator('html').getAttribute('lang')).to.equal('en');
    expect(await h1(page)).to.equal(en('home.sme.title'));
    expect(await page.locator('.status-verified h2').innerText()).to.equal(en('org.status.verified.title'));
    expect(await page.locator('.site-nav').innerText()).to.contain(en('nav.home')).and.contain(en('nav.account'));
    expect(await page.locator('.site-header').getByRole('button', { name: en('nav.logout') }).count()).to.equal(1);
    expect(await switcher.getByRole('button', { name: 'English' }).getAttribute('aria-pressed')).to.equal('true');
    expect(await page.title()).to.contain(en('site.name'));
    await checkPage(sme, 'sme-home-english');
    expect((await User.findOne({ email: SME.email }).lean())!.locale, 'choice saved to the profile').to.equal('en');

    await clickAndLoad(page, page.locator('.site-header').getByRole('button', { name: en('nav.logout') }));
    expect(new URL(page.url()).pathname).to.equal('/');
    // The session (and the language kept in it) is gone; the visitor gets the landing page
    // in the language their browser asks for (zh-CN here).
    const lang = await page.locator('html').getAttribute('lang');
    const t = lang === 'en' ? en : zh;
    expect(await h1(page)).to.equal(t('landing.title'));
    expect(await page.locator('.site-nav').getByRole('link', { name: t('nav.login') }).count()).to.equal(1);
    expect(await page.locator('.user-box').count()).to.equal(0);
    await checkPage(sme, 'after-logout-landing');
  });

  describe('4. the other demo roles', function () {
    const ROLES = [
      ['tto', 'tto.sh@demo.yrd-exchange.cn'],
      ['fund_manager', 'fund@demo.yrd-exchange.cn'],
      ['regulator', 'regulator@demo.yrd-exchange.cn'],
    ] as const;
    const pages = new Map<string, BrowserPage>();

    // Logging in costs a deliberately slow scrypt check each: do the three at once.
    before(async function () {
      await Promise.all(ROLES.map(async ([role, email]) => {
        const bp = await open();
        await login(bp, email);
        pages.set(role, bp);
      }));
    });

    for (const [role] of ROLES) {
      it(`the ${role} sees their own home page`, async function () {
        const bp = pages.get(role)!;
        const { page } = bp;
        expect(await h1(page)).to.equal(zh(`home.${role}.title`));
        expect(await page.locator('.status-verified h2').innerText()).to.equal(zh('org.status.verified.title'));
        expect(await page.locator('.user-box').innerText()).to.contain(zh(`role.${role}`));
        await checkPage(bp, `${role}-home`);

        if (role === 'regulator') {
          await clickAndLoad(page, page.locator('.site-nav').getByRole('link', { name: zh('nav.audit') }));
          expect(new URL(page.url()).pathname).to.equal('/audit');
          expect(await h1(page)).to.equal(zh('audit.title'));
          // The admin's approval from step 2 is in the log.
          const org = await Organization.findOne({ uscc: USCC }).lean();
          const row = page.locator('.audit-table tbody tr').filter({ hasText: 'organization.verified' }).filter({ hasText: ADMIN_EMAIL }).filter({ hasText: String(org!._id) });
          expect(await row.count()).to.equal(1);
          expect(await row.innerText()).to.contain(String(org!._id));
          await checkPage(bp, 'regulator-audit-log');
        } else {
          expect(await page.locator('.site-nav').getByRole('link', { name: zh('nav.audit') }).count(), 'no audit link').to.equal(0);
          const res = await page.goto('/audit');
          expect(res!.status(), `${role} may not open the audit log`).to.equal(403);
        }
      });
    }
  });

  describe('5. keyboard, labels and narrow screens', function () {
    it('the skip link is the first Tab stop and every field is labelled', async function () {
      const bp = await open();
      const { page } = bp;
      for (const url of ['/', '/register', '/login']) {
        await page.goto(url);
        await page.keyboard.press('Tab');
        const first = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          const r = el.getBoundingClientRect();
          return { cls: el.className, href: el.getAttribute('href'), visible: r.width > 1 && r.height > 1 && r.top >= 0 && r.left >= 0 };
        });
        expect(first, `${url}: first Tab stop`).to.include({ cls: 'skip-link', href: '#main', visible: true });
        if (url === '/') await screenshot(page, 'skip-link-focused');
        await page.keyboard.press('Enter');
        expect(await page.evaluate(() => document.activeElement?.id), `${url}: focus after the skip link`).to.equal('main');

        const inputs = page.locator('input:not([type=hidden])');
        const labelCounts = await inputs.evaluateAll((els) => els.map((el) => ({ id: el.id || el.outerHTML.slice(0, 80), labels: (el as HTMLInputElement).labels?.length ?? 0 })));
        if (url !== '/') expect(labelCounts.length, `${url} has inputs`).to.be.greaterThan(0);
        expect(labelCounts.filter((c) => c.labels < 1), `${url}: inputs without a label`).to.deep.equal([]);
      }
      // The pages behind a login: labelled too (checkPage checks every input, select and textarea).
      for (const [url, name] of [['/account', 'admin-account'], ['/admin/organizations', 'admin-organizations']] as const) {
        await admin.page.goto(url);
        expect(await admin.page.locator('input:not([type=hidden])').count(), `${url} has inputs`).to.be.greaterThan(0);
        await checkPage(admin, name);
      }

      // Narrow screens: nothing wider than a phone.
      await page.setViewportSize({ width: 375, height: 800 });
      for (const [url, name] of [['/', 'mobile-landing'], ['/register', 'mobile-register']] as const) {
        await page.goto(url);
        await checkPage(bp, name);
      }
      await admin.page.setViewportSize({ width: 375, height: 800 });
      await admin.page.goto('/admin/verifications');
      await checkPage(admin, 'mobile-admin-verifications');
    });
  });
});
