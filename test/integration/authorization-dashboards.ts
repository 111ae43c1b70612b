/**
 * Authorisation rows for the dashboards (routes/dashboards.ts), to be
 * appended to AUTHZ_ROUTES. They need no fixtures: each dashboard shows the
 * signed-in organisation's own figures, so the only question the matrix
 * asks is who may open which one (what each sees is dashboards.test.ts).
 */
import type { AuthzActor, AuthzRoute, Outcome } from './authorization-table.js';

const only = (role: 'tto' | 'sme'): Record<AuthzActor, Outcome> => ({
  anonymous: 'login', tto: role === 'tto' ? 'ok' : 'forbidden', sme: role === 'sme' ? 'ok' : 'forbidden',
  fund_manager: 'forbidden', regulator: 'forbidden', admin: 'forbidden',
});

export const DASHBOARD_AUTHZ_ROUTES: AuthzRoute[] = [
  { method: 'GET', name: '/dashboard/tto', path: () => '/dashboard/tto', expect: only('tto') },
  { method: 'GET', name: '/dashboard/tto.csv?what=licences', path: () => '/dashboard/tto.csv?what=licences', expect: only('tto') },
  { method: 'GET', name: '/dashboard/tto.csv?what=invoices', path: () => '/dashboard/tto.csv?what=invoices', expect: only('tto') },
  { method: 'GET', name: '/dashboard/sme', path: () => '/dashboard/sme', expect: only('sme') },
  { method: 'GET', name: '/dashboard/sme.csv?what=licences', path: () => '/dashboard/sme.csv?what=licences', expect: only('sme') },
  { method: 'GET', name: '/dashboard/sme.csv?what=invoices', path: () => '/dashboard/sme.csv?what=invoices', expect: only('sme') },
  { method: 'GET', name: '/dashboard/sme.csv?what=payments', path: () => '/dashboard/sme.csv?what=payments', expect: only('sme') },
];
