/**
 * Browser tests: Debian's Chromium (apt package `chromium`) driven by
 * playwright-core. Playwright never downloads a browser here; the executable
 * is /usr/bin/chromium unless CHROMIUM_PATH says otherwise. Screenshots go to
 * test-output/screenshots/ (git-ignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type LaunchOptions, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve('test-output/screenshots');

export const LAUNCH_OPTIONS: LaunchOptions = {
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch(LAUNCH_OPTIONS);
}

/** What went wrong inside a page that its visible text would not show. */
export interface PageProblems {
  /** console.error messages (CSP violations land here) and uncaught exceptions. */
  console: string[];
  /** Stylesheets, scripts, images and fonts that did not load (status >= 400 or failed). */
  subresources: string[];
}

export interface BrowserPage {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
}

/**
 * A page in a fresh context (its own cookies, like a separate person), with
 * requests limited to `baseURL` and any `allowOrigins` (loopback test
 * doubles such as the fake Stripe) and problems collected.
 */
export async function newPage(browser: Browser, options: { baseURL: string; locale?: string; allowOrigins?: readonly string[] }): Promise<BrowserPage> {
  const context = await browser.newContext({
    baseURL: options.baseURL,
    locale: options.locale ?? 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1280, height: 900 },
  });
  const origins = [options.baseURL, ...(options.allowOrigins ?? [])].map((u) => new URL(u).origin);
  // Only loopback traffic: anything else is refused, and reported.
  const problems: PageProblems = { console: [], subresources: [] };
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (origins.some((o) => url.startsWith(`${o}/`)) || url.startsWith('data:')) return route.continue();
    problems.subresources.push(`blocked off-site request ${url}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (msg) => {
    // A 4xx/5xx page (e.g. a form re-rendered with 422) is logged as "Failed to load resource";
    // failed subresources are reported by the response listener below instead.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.console.push(msg.text());
  });
  page.on('pageerror', (err) => problems.console.push(`uncaught: ${err.message}`));
  page.on('response', (res) => {
    const type = res.request().resourceType();
    if (type !== 'document' && res.status() >= 400) problems.subresources.push(`${res.status()} ${type} ${res.url()}`);
  });
  page.on('requestfailed', (req) => {
    // The browser abandons a pending favicon (and anything else) when the page navigates away: not a broken resource.
    if (req.failure()?.errorText === 'net::ERR_ABORTED') return;
    if (req.resourceType() !== 'document') problems.subresources.push(`failed ${req.resourceType()} ${req.url()}: ${req.failure()?.errorText ?? ''}`);
  });
  return { context, page, problems };
}

let shotCounter = 0;

/** A full-page PNG as test-output/screenshots/NN-name.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  shotCounter += 1;
  const file = path.join(SCREENSHOT_DIR, `${String(shotCounter).padStart(2, '0')}-${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Removes the screenshots of an earlier run, so the folder shows only this one. */
export function clearScreenshots(): void {
  fs.rmSync(SCREENSHOT_DIR, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  shotCounter = 0;
}

/**
 * Every dictionary key a page could show raw: the dictionaries' own keys and
 * every literal `{{t "key"}}` in the views (a key missing from both
 * dictionaries is printed as itself).
 */
export function knownMessageKeys(viewsDir = path.resolve('views')): string[] {
  const keys = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.json') && dir.endsWith('locales')) {
        for (const k of Object.keys(JSON.parse(fs.readFileSync(p, 'utf8')) as object)) keys.add(k);
      } else if (entry.name.endsWith('.hbs')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/\bt\s+"([\w.-]+)"/g)) keys.add(m[1]!);
      }
    }
  };
  walk(viewsDir);
  // Only dotted keys: a bare word could be ordinary text.
  return [...keys].filter((k) => k.includes('.'));
}

/**
 * The message keys that appear verbatim in the page's visible text. Text in
 * <code> is left out: the audit log shows action names such as
 * `organization.verified` on purpose.
 */
export async function rawKeysShown(page: Page, keys: readonly string[]): Promise<string[]> {
  const text = await page.evaluate(() => {
    const codes = [...document.body.querySelectorAll('code')] as HTMLElement[];
    const saved = codes.map((c) => c.style.display);
    for (const c of codes) c.style.display = 'none';
    const visible = document.body.innerText;
    codes.forEach((c, i) => { c.style.display = saved[i]!; });
    return visible;
  });
  return keys.filter((k) => new RegExp(`(^|[^\\w.@-])${k.replace(/[.-]/g, '\\$&')}($|[^\\w.-])`).test(text));
}
