/**
 * The scaffolding every browser journey shares: the real app on a loopback
 * port over the embedded store (demo loaded), Chromium, pages that are
 * separate people, and the checks every page must pass (no raw keys, every
 * control labelled, no horizontal overflow, no console errors or broken
 * resources) before its screenshot.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { StripeConfig } from '../../server/config.js';
import { loadDictionaries, translator, type Translate } from '../../server/http/i18n.js';
import { DEMO_PASSWORD } from '../../server/seed/demo-data.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from './app-harness.js';
import { knownMessageKeys, launchBrowser, newPage, rawKeysShown, screenshot, type BrowserPage } from './browser.js';

export interface Journey {
  harness: AppHarness;
  baseURL: string;
  zh: Translate;
  en: Translate;
  /** A new person: a fresh browser context in zh-CN. */
  open(): Promise<BrowserPage>;
  /** Click something that submits or navigates, and wait for the resulting page to load. */
  clickAndLoad(page: Page, selector: string | ReturnType<Page['locator']>, timeout?: number): Promise<void>;
  checkPage(bp: BrowserPage, name: string): Promise<void>;
  login(bp: BrowserPage, email: string): Promise<void>;
  h1(page: Page): Promise<string>;
  stop(): Promise<void>;
}

export interface JourneyOptions {
  /** Stripe Checkout pointing at a fake Stripe: its origin is then also reachable from the pages. */
  stripe?: StripeConfig;
}

export async function startJourney(options: JourneyOptions = {}): Promise<Journey> {
  // Listen first, so the app knows its own address (Stripe sends the payer back to it).
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const harness = await startApp({ publicUrl: baseURL, stripe: options.stripe ?? null });
  server.on('request', harness.app);
  await loadDemo();
  const { stripe } = options;
  const allowOrigins = stripe ? [`${stripe.protocol}://${stripe.host}:${stripe.port}`] : [];
  const dicts = loadDictionaries(path.resolve('views/locales'));
  const messageKeys = knownMessageKeys();
  const browser: Browser = await launchBrowser();
  const opened: BrowserPage[] = [];

  const journey: Journey = {
    harness, baseURL, zh: translator(dicts, 'zh-CN'), en: translator(dicts, 'en'),
    async open() {
      const bp = await newPage(browser, { baseURL, locale: 'zh-CN', allowOrigins });
      bp.context.setDefaultTimeout(10_000);
      opened.push(bp);
      return bp;
    },
    async clickAndLoad(page, selector, timeout = 10_000) {
      const target = typeof selector === 'string' ? page.locator(selector) : selector;
      await Promise.all([page.waitForEvent('load', { timeout }), target.click({ timeout })]);
    },
    async checkPage({ page, problems }, name) {
      await screenshot(page, name);
      expect(await rawKeysShown(page, messageKeys), `${name}: raw message keys shown`).to.deep.equal([]);
      const unlabelled = await page.locator('input:not([type=hidden]), select, textarea').evaluateAll((els) =>
        els.filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label')).map((el) => el.outerHTML.slice(0, 120)));
      expect(unlabelled, `${name}: form controls without a label`).to.deep.equal([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name}: page is wider than the viewport by ${overflow}px`).to.be.at.most(0);
      expect(problems.console, `${name}: console errors`).to.deep.equal([]);
      expect(problems.subresources, `${name}: resources that failed`).to.deep.equal([]);
    },
    async login(bp, email) {
      await bp.page.goto('/login');
      await bp.page.locator('#email').fill(email);
      await bp.page.locator('#password').fill(DEMO_PASSWORD);
      // The password check is a deliberately slow scrypt: give it time on a busy machine.
      await journey.clickAndLoad(bp.page, 'main form button[type=submit]', 30_000);
      expect(new URL(bp.page.url()).pathname).to.equal('/');
    },
    h1: (page) => page.locator('main h1').first().innerText(),
    async stop() {
      for (const bp of opened) await bp.context.close().catch(() => {});
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await harness.stop();
    },
  };
  return journey;
}
