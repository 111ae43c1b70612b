/**
 * Authorisation rows for the licensing routes (routes/licensing.ts), to be
 * appended to AUTHZ_ROUTES. They need a few licensing records the demo does
 * not have; prepareLicensingFixtures creates them through the services and
 * returns the ids the rows read (call it in the matrix's before()).
 *
 * The fixture licence is between the `tto` column's institution (licensor)
 * and the `sme` column's enterprise (licensee), so both parties read it;
 * other SMEs and TTOs get 404 (licensing.test.ts), which the matrix's
 * outcomes do not model.
 */
import { DEMO } from './helpers.js';
import { only, type AuthzRoute } from './authorization-table.js';
import { ctxFor, publishedOffer, TERMS } from './licensing-helpers.js';
import { applyDeferred, takeOpenLicence } from '../../server/services/licensing.js';

export interface LicensingFixtures {
  /** A granted open licence (tto.sh's patent, sme.micro licensee), not yet filed. */
  licenceId: string;
  /** A pay-later application of sme.micro awaiting tto.sh's decision. */
  appliedLicenceId: string;
  /** Published offers of tto.sh that sme.micro holds nothing under yet. */
  openOfferId: string;
  deferredOfferId: string;
  negotiatedOfferId: string;
}

/** Creates the records the rows need (demo users must be loaded). */
export async function prepareLicensingFixtures(): Promise<LicensingFixtures> {
  const tto = await ctxFor(DEMO.tto);
  const sme = await ctxFor(DEMO.sme);
  const taken = await publishedOffer(tto, 'open', TERMS.openLumpSum);
  const licence = await takeOpenLicence(sme, taken.offerId, { confirm: true });
  const appliedFor = await publishedOffer(tto, 'deferred', TERMS.deferred('lump_sum'));
  const applied = await applyDeferred(sme, appliedFor.offerId, { message: '' });
  return {
    licenceId: String(licence._id),
    appliedLicenceId: String(applied._id),
    openOfferId: (await publishedOffer(tto, 'open', TERMS.openRoyalty)).offerId,
    deferredOfferId: (await publishedOffer(tto, 'deferred', TERMS.deferred('royalty'))).offerId,
    negotiatedOfferId: (await publishedOffer(tto, 'negotiated', TERMS.negotiated)).offerId,
  };
}

const toLicence = { redirect: /^\/licences\/[0-9a-f]{24}$/ };

/** `lf` is read when a cell runs, after prepareLicensingFixtures filled it in. */
export function licensingAuthzRoutes(lf: () => LicensingFixtures): AuthzRoute[] {
  return [
    { method: 'GET', name: '/licences', path: () => '/licences', expect: only(['tto', 'sme'], 'ok') },
    { method: 'GET', name: '/licences/:id', path: () => `/licences/${lf().licenceId}`, expect: only(['tto', 'sme', 'regulator', 'admin', 'fund_manager'], 'ok') },
    { method: 'GET', name: '/licences/:id/contract', path: () => `/licences/${lf().licenceId}/contract`, expect: only(['tto', 'sme', 'regulator', 'admin', 'fund_manager'], 'ok') },
    {
      method: 'POST', name: '/offers/:id/licence (take an open licence)', path: () => `/offers/${lf().openOfferId}/licence`,
      body: () => ({ confirm: '1' }), expect: only(['sme'], toLicence),
    },
    {
      method: 'POST', name: '/offers/:id/apply (apply for pay-later)', path: () => `/offers/${lf().deferredOfferId}/apply`,
      body: () => ({ message: '' }), expect: only(['sme'], toLicence),
    },
    {
      method: 'POST', name: '/offers/:id/negotiate (ask to negotiate)', path: () => `/offers/${lf().negotiatedOfferId}/negotiate`,
      body: () => ({ message: '希望洽谈许可条件，用于我们的新产品线。' }), expect: only(['sme'], toLicence),
    },
    {
      method: 'POST', name: '/licences/:id/decision (approve)', path: () => `/licences/${lf().appliedLicenceId}/decision`,
      body: () => ({ decision: 'approve', reason: '' }), expect: only(['tto'], toLicence),
    },
    {
      method: 'POST', name: '/licences/:id/filing (record 备案)', path: () => `/licences/${lf().licenceId}/filing`,
      body: () => ({ filedAt: new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10), filingRef: 'BA-MATRIX-1' }), expect: only(['tto'], toLicence),
    },
  ];
}

let fixtures: LicensingFixtures | null = null;

/** The rows as one list, reading the fixtures set by `useLicensingFixtures`. */
export const LICENSING_AUTHZ_ROUTES: AuthzRoute[] = licensingAuthzRoutes(() => {
  if (!fixtures) throw new Error('call useLicensingFixtures(await prepareLicensingFixtures()) in the matrix before()');
  return fixtures;
});

export function useLicensingFixtures(f: LicensingFixtures): void {
  fixtures = f;
}
