/**
 * Shared steps for the integration suites: the demo logins, signing in over
 * HTTP, reading CSRF tokens, field errors and e-mailed links out of pages
 * and outbox messages, and counting what the database holds so a test can
 * show that a refused request wrote nothing.
 */
import { expect } from 'chai';
import type { Response } from 'supertest';
import { AuditEvent } from '../../models/audit-event.js';
import { AuthToken } from '../../models/auth-token.js';
import { Organization } from '../../models/organization.js';
import { User, type Locale } from '../../models/user.js';
import { loadDictionaries, translator, type Dictionary } from '../../server/http/i18n.js';
import { usccCheckCharacter } from '../../server/domain/uscc.js';
import { DEMO_PASSWORD } from '../../server/seed/demo-data.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import type { Ctx } from '../../server/services/context.js';
import { csrfFrom, type AppHarness } from '../helpers/app-harness.js';

export { DEMO_PASSWORD };
export type Agent = ReturnType<AppHarness['agent']>;

/** An emptied store with the demo accounts and a 30-patent catalogue: what the licensing and fund suites start from. */
export async function resetToDemo(h: AppHarness): Promise<void> {
  await h.reset();
  await loadDemo();
  await loadDemoCatalogue({ patents: 30 });
}

/** The organisation of the user with `email`. */
export async function orgOf(email: string) {
  return (await User.findOne({ email }).lean())!.organization;
}

/** The services' context for a signed-in user, as a request would carry it. */
export async function ctxOfUser(email: string): Promise<Ctx> {
  const u = (await User.findOne({ email }).lean())!;
  return { actor: { userId: u._id, email, role: u.role, orgId: u.organization, orgVerified: true, orgAdmin: u.orgAdmin }, meta: { requestId: 'test', ip: '' } };
}

/** Demo logins (server/seed/demo-data.ts) by what the tests use them for. */
export const DEMO = {
  admin: 'admin@demo.yrd-exchange.cn',
  regulator: 'regulator@demo.yrd-exchange.cn',
  fund_manager: 'fund@demo.yrd-exchange.cn',
  /** Org admin of 沪东科技大学 (verified university). */
  tto: 'tto.sh@demo.yrd-exchange.cn',
  /** A plain member (not org admin) of the same university; locale en. */
  ttoMember: 'tto.sh.en@demo.yrd-exchange.cn',
  /** Org admin of a verified micro enterprise. */
  sme: 'sme.micro@demo.yrd-exchange.cn',
  /** Users of the two organisations waiting for verification. */
  smePending: 'sme.pending@demo.yrd-exchange.cn',
  ttoPending: 'tto.sensing@demo.yrd-exchange.cn',
} as const;

let dicts: Record<Locale, Dictionary> | null = null;

/** The dictionary text the app would show (loaded lazily: the dictionaries are read at first use). */
export function t(key: string, params: Record<string, string | number> = {}, locale: Locale = 'zh-CN'): string {
  dicts ??= loadDictionaries();
  const text = translator(dicts, locale)(key, params);
  // A test comparing against a missing key would pass vacuously.
  expect(dicts[locale], `dictionary ${locale} lacks ${key}`).to.have.property(key);
  return text;
}
export const tEn = (key: string, params: Record<string, string | number> = {}) => t(key, params, 'en');

/** What Handlebars' {{…}} escaping turns a text into. */
export function escapeHtml(s: string): string {
  const map: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;', '`': '&#x60;', '=': '&#x3D;' };
  return s.replace(/[&<>"'`=]/g, (c) => map[c]!);
}

/** Whether a rendered page shows `text`. */
export function shows(html: string, text: string): boolean {
  return html.includes(escapeHtml(text));
}

export function expectShows(html: string, text: string): void {
  expect(shows(html, text), `page should show ${JSON.stringify(text)}`).to.equal(true);
}

/** The error message rendered next to `field` (register/invitation/reset/account forms), unescaped. */
export function fieldError(html: string, field: string): string | null {
  const m = new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(html);
  if (!m) return null;
  return m[1]!.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&#x3D;/g, '=').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** GETs a page and returns the CSRF token of its forms (this agent's session). */
export async function csrfOf(agent: Agent, path = '/login'): Promise<string> {
  const res = await agent.get(path);
  expect(res.status, `GET ${path}`).to.equal(200);
  return csrfFrom(res.text);
}

/** Signs in through the login form; returns the POST response (302 on success). */
export async function login(agent: Agent, email: string, password: string = DEMO_PASSWORD): Promise<Response> {
  const _csrf = await csrfOf(agent, '/login');
  return agent.post('/login').type('form').send({ _csrf, email, password });
}

/** A new browser signed in as `email`. */
export async function signedIn(h: AppHarness, email: string, password: string = DEMO_PASSWORD): Promise<Agent> {
  const agent = h.agent();
  const res = await login(agent, email, password);
  expect(res.status, `login ${email}: ${res.text.slice(0, 200)}`).to.equal(302);
  return agent;
}

/** Document counts of the app's own collections (sessions excluded: rendering any form starts one). */
export async function counts(): Promise<{ organizations: number; users: number; tokens: number; audit: number }> {
  const [organizations, users, tokens, audit] = await Promise.all([
    Organization.countDocuments(), User.countDocuments(), AuthToken.countDocuments(), AuditEvent.countDocuments(),
  ]);
  return { organizations, users, tokens, audit };
}

/** A valid credit code, distinct per `n` and from the demo's ("…MA0000001"-style) codes. */
export function validUscc(n: number, prefix = '91320500'): string {
  const body = `${prefix}MB${String(n).padStart(7, '0')}`;
  return body + usccCheckCharacter(body);
}

/** The text part of a stored .eml (quoted-printable or base64 decoded). */
export function mailBody(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = raw.slice(0, split);
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const cte = /^Content-Transfer-Encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase();
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => `%${h}`);
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
  }
  return body;
}

/** The first link to `pathPrefix` in a mail, as a path plus the raw token after the prefix. */
export function linkIn(raw: string, pathPrefix: string): { path: string; token: string } {
  const m = new RegExp(`https?://[^/\\s]+(${pathPrefix.replace(/\//g, '\\/')}([A-Za-z0-9_-]+))`).exec(mailBody(raw));
  if (!m) throw new Error(`no ${pathPrefix} link in mail:\n${mailBody(raw)}`);
  return { path: m[1]!, token: m[2]! };
}

/** The session cookie a response sets, if any. */
export function setCookie(res: Response, name = 'yrd.sid'): string | undefined {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return raw?.find((c) => c.startsWith(`${name}=`));
}

/** Error pages show a status and a message, never internals. */
export function expectNoInternals(html: string): void {
  expect(html).not.to.match(/\bat [\w.<>]+ \(|node_modules|\.ts:\d+|\bError: |ValidationError|MongoServerError|stack/i);
}

/** Awaits a promise that must reject with `type`; returns the error. */
export async function rejects<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(type);
    return err as E;
  }
  throw new Error(`expected a ${type.name}, but the call succeeded`);
}

/** A complete, valid enterprise registration (industry, 85 staff, 5000 万元 → small), with overrides. */
export function enterpriseForm(n: number, over: Record<string, string> = {}): Record<string, string> {
  return {
    kind: 'enterprise', nameZh: `苏州测试传感科技有限公司${n}`, nameEn: `Suzhou Test Sensing Co. ${n}`, region: 'JS', uscc: validUscc(n),
    sector: 'industry', employees: '85', annualRevenueWan: '5000',
    name: '测试 王五', email: `founder${n}@example.cn`, password: 'Correct-horse-9', passwordConfirm: 'Correct-horse-9',
    ...over,
  };
}

/** Submits the registration form from a fresh page of `agent`. */
export async function register(agent: Agent, form: Record<string, string>): Promise<Response> {
  const _csrf = await csrfOf(agent, '/register');
  return agent.post('/register').type('form').send({ _csrf, ...form });
}

/**
 * Fetches `formPage` for a CSRF token, then posts `form` to `path`. (The token
 * must be fetched first: an agent attaches its cookies when a request is
 * created, so `agent.post(…).send({ _csrf: await … })` would go without them.)
 */
export async function submit(agent: Agent, formPage: string, path: string, form: Record<string, string>): Promise<Response> {
  const _csrf = await csrfOf(agent, formPage);
  return agent.post(path).type('form').send({ _csrf, ...form });
}
