/**
 * Who may do what, as data: one row per protected route, one expected
 * outcome per kind of visitor. authorization-matrix.test.ts runs every cell
 * against the real app (signed in as the demo users). Later features add
 * their routes by appending rows to AUTHZ_ROUTES; a new role is a new key in
 * AUTHZ_ACTORS plus a column in every row (the type checker finds them).
 */
import type { Role } from '../../models/user.js';
import { patentForm } from './catalogue-helpers.js';
import { validUscc } from './helpers.js';

export type AuthzActor = 'anonymous' | Role;

/** Who each column signs in as (demo users; all are org admins of verified organisations). */
export const AUTHZ_ACTORS: Record<AuthzActor, string | null> = {
  anonymous: null,
  tto: 'tto.sh@demo.yrd-exchange.cn',
  sme: 'sme.micro@demo.yrd-exchange.cn',
  fund_manager: 'fund@demo.yrd-exchange.cn',
  regulator: 'regulator@demo.yrd-exchange.cn',
  admin: 'admin@demo.yrd-exchange.cn',
};

/**
 * What a cell expects:
 * - `ok`: 200 page;
 * - `login`: redirected to /login (anonymous);
 * - `forbidden`: 403 page, and (for POSTs) no change to the database;
 * - `{ redirect }`: the action succeeded and redirected there (status 302 or 303).
 */
export type Outcome = 'ok' | 'login' | 'forbidden' | { redirect: string | RegExp };

/** `outcome` for the signed-in roles in `who`, forbidden for the other roles, the login page for anonymous visitors. */
export const only = (who: AuthzActor[], outcome: Outcome): Record<AuthzActor, Outcome> => ({
  anonymous: 'login',
  tto: who.includes('tto') ? outcome : 'forbidden',
  sme: who.includes('sme') ? outcome : 'forbidden',
  fund_manager: who.includes('fund_manager') ? outcome : 'forbidden',
  regulator: who.includes('regulator') ? outcome : 'forbidden',
  admin: who.includes('admin') ? outcome : 'forbidden',
});

/** Values the matrix prepares before running (ids of demo records…). */
export interface AuthzFixtures {
  /** Organisations waiting for verification, one per actor that may decide (consumed in actor order). */
  pendingOrgIds: string[];
  /** A distinct number per cell, for unique emails and credit codes. */
  serial(): number;
  /** A patent in the register of the `tto` column's institution. */
  patentId: string;
  /** A patent listed in the public catalogue (another institution's). */
  listedPatentId: string;
  /** A technical need of the `sme` column's enterprise. */
  demandId: string;
}

export interface AuthzRoute {
  method: 'GET' | 'POST';
  /** Shown in the test title. */
  name: string;
  path(fx: AuthzFixtures, actor: AuthzActor): string;
  /** Form fields (a valid submission, so that only authorisation can refuse it); `_csrf` is added. */
  body?(fx: AuthzFixtures, actor: AuthzActor): Record<string, string>;
  expect: Record<AuthzActor, Outcome>;
}

const adminOnlyPage: Record<AuthzActor, Outcome> = {
  anonymous: 'login', tto: 'forbidden', sme: 'forbidden', fund_manager: 'forbidden', regulator: 'forbidden', admin: 'ok',
};

export const AUTHZ_ROUTES: AuthzRoute[] = [
  {
    method: 'GET', name: '/account', path: () => '/account',
    expect: { anonymous: 'login', tto: 'ok', sme: 'ok', fund_manager: 'ok', regulator: 'ok', admin: 'ok' },
  },
  { method: 'GET', name: '/admin/verifications', path: () => '/admin/verifications', expect: adminOnlyPage },
  { method: 'GET', name: '/admin/organizations', path: () => '/admin/organizations', expect: adminOnlyPage },
  { method: 'GET', name: '/admin/outbox', path: () => '/admin/outbox', expect: adminOnlyPage },
  {
    method: 'GET', name: '/audit', path: () => '/audit',
    expect: { anonymous: 'login', tto: 'forbidden', sme: 'forbidden', fund_manager: 'forbidden', regulator: 'ok', admin: 'ok' },
  },
  {
    method: 'POST', name: '/admin/verifications/:id (approve)',
    path: (fx) => `/admin/verifications/${fx.pendingOrgIds[0]}`,
    body: () => ({ decision: 'approve' }),
    expect: { anonymous: 'login', tto: 'forbidden', sme: 'forbidden', fund_manager: 'forbidden', regulator: 'forbidden', admin: { redirect: '/admin/verifications' } },
  },
  {
    method: 'POST', name: '/admin/organizations (create a fund)',
    path: () => '/admin/organizations',
    body: (fx) => ({ kind: 'fund', nameZh: `矩阵测试基金${fx.serial()}`, nameEn: '', region: 'ZJ', uscc: validUscc(fx.serial(), '91330000') }),
    expect: { anonymous: 'login', tto: 'forbidden', sme: 'forbidden', fund_manager: 'forbidden', regulator: 'forbidden', admin: { redirect: '/admin/organizations' } },
  },
  {
    method: 'POST', name: '/account/invitations',
    path: () => '/account/invitations',
    body: (fx, actor) => ({ email: `invitee-${actor}-${fx.serial()}@example.cn` }),
    expect: { anonymous: 'login', tto: { redirect: '/account' }, sme: { redirect: '/account' }, fund_manager: { redirect: '/account' }, regulator: { redirect: '/account' }, admin: { redirect: '/account' } },
  },
  ...catalogueRoutes(),
];

/** The patent register, catalogue, needs and enquiries (issue 4). */
function catalogueRoutes(): AuthzRoute[] {
  const ttoOnly: Record<AuthzActor, Outcome> = { anonymous: 'login', tto: 'ok', sme: 'forbidden', fund_manager: 'forbidden', regulator: 'forbidden', admin: 'forbidden' };
  const smeOnly: Record<AuthzActor, Outcome> = { anonymous: 'login', tto: 'forbidden', sme: 'ok', fund_manager: 'forbidden', regulator: 'forbidden', admin: 'forbidden' };
  const everyone: Record<AuthzActor, Outcome> = { anonymous: 'ok', tto: 'ok', sme: 'ok', fund_manager: 'ok', regulator: 'ok', admin: 'ok' };
  return [
    { method: 'GET', name: '/catalogue', path: () => '/catalogue?q=电池', expect: everyone },
    { method: 'GET', name: '/catalogue/:id', path: (fx) => `/catalogue/${fx.listedPatentId}`, expect: everyone },
    { method: 'GET', name: '/patents', path: () => '/patents', expect: ttoOnly },
    { method: 'GET', name: '/patents/new', path: () => '/patents/new', expect: ttoOnly },
    { method: 'GET', name: '/patents/:id', path: (fx) => `/patents/${fx.patentId}`, expect: ttoOnly },
    { method: 'GET', name: '/patents/import', path: () => '/patents/import', expect: ttoOnly },
    {
      method: 'POST', name: '/patents (register a patent)', path: () => '/patents',
      body: (fx) => patentForm(fx.serial()) as Record<string, string>,
      expect: { ...ttoOnly, tto: { redirect: /^\/patents\/[0-9a-f]{24}$/ } },
    },
    {
      method: 'POST', name: '/patents/:id/offers (draft an offer)', path: (fx) => `/patents/${fx.patentId}/offers`,
      body: () => ({ kind: 'negotiated', feeForm: 'lump_sum', lumpSum: '100000', termMonths: '24' }),
      expect: { ...ttoOnly, tto: { redirect: /^\/patents\/[0-9a-f]{24}#offer-[0-9a-f]{24}$/ } },
    },
    { method: 'GET', name: '/needs', path: () => '/needs', expect: smeOnly },
    { method: 'GET', name: '/needs/new', path: () => '/needs/new', expect: smeOnly },
    // Open needs are for the supply side and overseers to read; another SME's are hidden (404, tested in needs.test.ts).
    { method: 'GET', name: '/needs/:id', path: (fx) => `/needs/${fx.demandId}`, expect: { anonymous: 'login', tto: 'ok', sme: 'ok', fund_manager: 'ok', regulator: 'ok', admin: 'ok' } },
    { method: 'GET', name: '/needs/browse', path: () => '/needs/browse', expect: { anonymous: 'login', tto: 'ok', sme: 'forbidden', fund_manager: 'ok', regulator: 'ok', admin: 'ok' } },
    { method: 'GET', name: '/enquiries', path: () => '/enquiries', expect: { anonymous: 'login', tto: 'ok', sme: 'ok', fund_manager: 'forbidden', regulator: 'forbidden', admin: 'forbidden' } },
    {
      method: 'POST', name: '/needs (post a need)', path: () => '/needs',
      body: () => ({ title: '矩阵测试需求', problem: '我们的产品在低温下性能下降，需要改进方案。', region: 'ZJ' }),
      expect: { ...smeOnly, sme: { redirect: /^\/needs\/[0-9a-f]{24}$/ } },
    },
    {
      method: 'POST', name: '/catalogue/:id/enquiries (enquire)', path: (fx) => `/catalogue/${fx.listedPatentId}/enquiries`,
      body: () => ({ message: '请问这项专利能否用于我们的产品？希望了解许可费用。' }),
      expect: { ...smeOnly, sme: { redirect: /^\/catalogue\/[0-9a-f]{24}$/ } },
    },
  ];
}
