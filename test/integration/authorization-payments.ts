/**
 * Authorisation rows for invoices, payments and revenue reports (issue 5),
 * for authorization-matrix.test.ts. The rows need an invoice, a royalty
 * licence and declared transfers between the matrix's `tto` and `sme`
 * organisations: call preparePaymentsAuthz() once after the demo data is
 * loaded (the rows read the ids it records). Stripe checkout is not listed:
 * the harness runs without a Stripe key, so the SME's cell would be a 409
 * (stripe.test.ts covers it, and another SME's 404).
 */
import mongoose from 'mongoose';
import { Licence } from '../../models/licence.js';
import { Organization } from '../../models/organization.js';
import { Payment } from '../../models/payment.js';
import { User } from '../../models/user.js';
import { issueInvoice } from '../../server/services/invoice-issue.js';
import { AUTHZ_ACTORS, type AuthzActor, type AuthzRoute, type Outcome } from './authorization-table.js';

const ids = { invoiceId: '', licenceId: '', confirmPaymentId: '', disputePaymentId: '' };

/** Writes the records the rows act on (a royalty licence, an open invoice, two declared transfers). */
export async function preparePaymentsAuthz(): Promise<void> {
  const orgOf = async (email: string) => (await User.findOne({ email }).lean())!.organization;
  const [licensor, licensee] = [await orgOf(AUTHZ_ACTORS.tto!), await orgOf(AUTHZ_ACTORS.sme!)];
  const [lo, le] = [await Organization.findById(licensor).lean(), await Organization.findById(licensee).lean()];
  const licence = await Licence.create({
    number: `LIC-AUTHZ-${Date.now()}`, kind: 'open', state: 'active', offer: new mongoose.Types.ObjectId(), patent: new mongoose.Types.ObjectId(),
    licensor, licensee, terms: { feeForm: 'royalty', royaltyBps: 500, termMonths: 60 },
    snapshot: { applicationNumber: '202110000001.X', patentTitleZh: '矩阵测试专利', patentExpiry: new Date('2040-01-01'), licensorNameZh: lo!.nameZh, licenseeNameZh: le!.nameZh },
    effectiveAt: new Date('2025-01-10T02:00:00Z'), endsAt: new Date('2030-01-10T02:00:00Z'),
  });
  const issuedAt = new Date(Date.now() - 86_400_000);
  const invoice = await mongoose.connection.transaction((session) => issueInvoice({
    licence, kind: 'lump_sum', amountFen: 1_000_000, issuedAt, dueAt: new Date(issuedAt.getTime() + 30 * 86_400_000), key: 'authz',
  }, session));
  const declared = (ref: string) => ({
    invoice: invoice._id, licence: licence._id, payer: licensee, payee: licensor, provider: 'bank_transfer' as const, amountFen: 100,
    status: 'declared' as const, providerRef: ref, transferredAt: issuedAt, idempotencyKey: `authz:${ref}`,
  });
  const [confirm, dispute] = await Payment.insertMany([declared('AUTHZ-CONFIRM'), declared('AUTHZ-DISPUTE')]);
  Object.assign(ids, { invoiceId: String(invoice._id), licenceId: String(licence._id), confirmPaymentId: String(confirm!._id), disputePaymentId: String(dispute!._id) });
}

const parties: Record<AuthzActor, Outcome> = { anonymous: 'login', tto: 'ok', sme: 'ok', fund_manager: 'forbidden', regulator: 'forbidden', admin: 'forbidden' };
const smeOnly: Record<AuthzActor, Outcome> = { anonymous: 'login', tto: 'forbidden', sme: 'ok', fund_manager: 'forbidden', regulator: 'forbidden', admin: 'forbidden' };
const ttoOnly: Record<AuthzActor, Outcome> = { ...smeOnly, tto: 'ok', sme: 'forbidden' };
const today = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);

export const PAYMENTS_AUTHZ_ROUTES: AuthzRoute[] = [
  { method: 'GET', name: '/invoices', path: () => '/invoices', expect: parties },
  { method: 'GET', name: '/invoices/:id', path: () => `/invoices/${ids.invoiceId}`, expect: parties },
  { method: 'GET', name: '/licences/:id/reports', path: () => `/licences/${ids.licenceId}/reports`, expect: parties },
  { method: 'GET', name: '/payments/stripe/return', path: () => '/payments/stripe/return?result=cancel', expect: smeOnly },
  {
    method: 'POST', name: '/invoices/:id/bank-transfers (declare a transfer)', path: () => `/invoices/${ids.invoiceId}/bank-transfers`,
    body: (fx) => ({ amount: '1.00', reference: `AUTHZ-${fx.serial()}`, date: today() }),
    expect: { ...smeOnly, sme: { redirect: /^\/invoices\/[0-9a-f]{24}$/ } },
  },
  {
    method: 'POST', name: '/payments/:id/confirm', path: () => `/payments/${ids.confirmPaymentId}/confirm`,
    expect: { ...ttoOnly, tto: { redirect: /^\/invoices\/[0-9a-f]{24}$/ } },
  },
  {
    method: 'POST', name: '/payments/:id/dispute', path: () => `/payments/${ids.disputePaymentId}/dispute`,
    body: () => ({ reason: '银行流水中未找到该笔款项' }),
    expect: { ...ttoOnly, tto: { redirect: /^\/invoices\/[0-9a-f]{24}$/ } },
  },
  {
    method: 'POST', name: '/licences/:id/reports (file a revenue report)', path: () => `/licences/${ids.licenceId}/reports`,
    body: () => ({ period: '2025Q1', netSales: '1000.00' }),
    expect: { ...smeOnly, sme: { redirect: /^\/licences\/[0-9a-f]{24}\/reports$/ } },
  },
];
