/**
 * Authorisation rows for the fund's claims, subsidies and payment runs
 * (routes/fund-claims.ts, routes/fund-subsidies.ts), for
 * authorization-matrix.test.ts, and the fixture builders they (and the fund
 * suites) share: a funded pool, defaulted covered licences between the
 * matrix's `tto` institution and `sme` enterprise, and claims and subsidies
 * brought to each state through the real services. Call prepareFundAuthz()
 * once after the demo data and catalogue are loaded.
 *
 * Not listed: the two multipart uploads (filing a claim, adding evidence) —
 * the matrix posts url-encoded forms, so the TTO's cell would be a 422 for
 * the missing file; test/fund/claims.test.ts runs every role against them.
 * Another institution's TTO (404 on a claim) is also there, since the
 * matrix has one TTO column.
 *
 * The console's and the checkpoints' rows (routes/fund-console.ts,
 * routes/fund-checkpoints.ts) act on transfers, reversal requests and a
 * checkpoint prepared here too; signing needs a key, which the app harness
 * does not install (main.ts does), so prepareFundAuthz() installs one and
 * releaseFundAuthz() takes it away again.
 */
import { Types } from 'mongoose';
import { FundCover } from '../../models/fund-cover.js';
import { Invoice } from '../../models/invoice.js';
import { User } from '../../models/user.js';
import { acct } from '../../server/domain/ledger-chart.js';
import { ClaimEvidence } from '../../models/claim-evidence.js';
import type { Ctx } from '../../server/services/context.js';
import { actorFor } from '../../server/services/accounts.js';
import { decideClaim, fileClaim, submitClaim } from '../../server/services/fund/claims.js';
import { ensureInitialRules } from '../../server/services/fund/fund-rules.js';
import { post } from '../../server/services/fund/ledger.js';
import { runPayments } from '../../server/services/fund/payment-runs.js';
import { submitSubsidy } from '../../server/services/fund/subsidies.js';
import { proposeWriteOff } from '../../server/services/fund/write-offs.js';
import { checkpointFile, requestCheckpoint } from '../../server/services/fund/checkpoints.js';
import { requestReversal } from '../../server/services/fund/reversal-requests.js';
import { generateSigningKeyPem, installLedgerSigner, signerFromPem } from '../../server/services/fund/signing-key.js';
import { DAY, makeInvoice, makeLicence } from '../helpers/licensing-fixtures.js';
import { AUTHZ_ACTORS, only, type AuthzRoute } from './authorization-table.js';

export const FUND_EMAILS = {
  tto: AUTHZ_ACTORS.tto!,
  sme: AUTHZ_ACTORS.sme!,
  fund_manager: AUTHZ_ACTORS.fund_manager!,
  regulator: AUTHZ_ACTORS.regulator!,
  admin: AUTHZ_ACTORS.admin!,
  /** A TTO of another institution (Jiangsu). */
  otherTto: 'tto.js@demo.yrd-exchange.cn',
};

export async function fundCtx(email: string): Promise<Ctx> {
  const user = await User.findOne({ email }).lean();
  if (!user) throw new Error(`no demo user ${email}`);
  return { actor: await actorFor(user._id), meta: { requestId: `fund-test-${email}`, ip: '203.0.113.9' } };
}

export async function orgOfEmail(email: string): Promise<Types.ObjectId> {
  return (await User.findOne({ email }).lean())!.organization;
}

let serial = 0;
const at = () => new Date(Date.now() - 60_000);

/** Money into the pool from a funder (APPROPRIATION Dr bank / Cr pool). */
export async function appropriate(amountFen: number): Promise<void> {
  await post({
    kind: 'transfer', key: `test:appropriation:${process.pid}:${++serial}`, code: 'APPROPRIATION', phase: 'posted', maker: null, effectiveAt: at(),
    entries: [{ account: acct.bank(), side: 'debit', amountFen }, { account: acct.pool(), side: 'credit', amountFen }],
  });
}

/**
 * A pay-later licence in default: one invoice of `lossFen` fully unpaid and
 * defaulted, its accrual and default posted to the royalty books (as the
 * ledger subscriber would), and a FundCover decision (covered unless said).
 */
export async function defaultedLicence(licensor: Types.ObjectId, licensee: Types.ObjectId, lossFen: number, o: { covered?: boolean; reason?: 'suspended_loss_rate' | 'not_pay_later' | 'no_rules'; state?: 'defaulted' | 'paying' } = {}) {
  const licence = await makeLicence(licensor, licensee, o.state ?? 'defaulted', { kind: 'deferred' });
  const dueAt = new Date(Date.now() - 120 * DAY);
  const invoice = await makeInvoice(licence, { amountFen: lossFen, dueAt, status: 'overdue' });
  if ((o.state ?? 'defaulted') === 'defaulted') await Invoice.updateOne({ _id: invoice._id }, { $set: { status: 'defaulted', defaultedAt: new Date(dueAt.getTime() + 90 * DAY), remindersSent: ['due', 'overdue'] } });
  const refs = { licence: String(licence._id), invoice: String(invoice._id), institution: String(licensor), licensee: String(licensee) };
  await post({ kind: 'transfer', key: `test:accrual:${invoice._id}`, code: 'ACCRUAL', phase: 'posted', maker: null, effectiveAt: at(), refs, entries: [
    { account: acct.receivable(licence._id), side: 'debit', amountFen: lossFen }, { account: acct.revenue(licensor), side: 'credit', amountFen: lossFen }] });
  if ((o.state ?? 'defaulted') === 'defaulted') {
    await post({ kind: 'transfer', key: `test:default:${invoice._id}`, code: 'DEFAULT', phase: 'posted', maker: null, effectiveAt: at(), refs, entries: [
      { account: acct.overdue(licence._id), side: 'debit', amountFen: lossFen }, { account: acct.receivable(licence._id), side: 'credit', amountFen: lossFen }] });
  }
  const covered = o.covered ?? true;
  await FundCover.create({ licence: licence._id, licensor, licensee, covered, reason: covered ? 'covered' : (o.reason ?? 'suspended_loss_rate'), rulesVersion: 1, decidedAt: licence.effectiveAt });
  return { licence, invoice };
}

/** A small, real PDF header (what the evidence check looks at) with distinct content per call. */
export function pdfFile(name = 'contract.pdf', note = String(++serial)) {
  return { originalname: name, buffer: Buffer.from(`%PDF-1.4\n% evidence ${note}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`, 'latin1') };
}

/** Royalties an SME paid on a licence at `effectiveAt` (ACCRUAL then PAYMENT, as the subscriber posts them). */
export async function paidRoyalty(licensee: Types.ObjectId, licensor: Types.ObjectId, amountFen: number, effectiveAt: Date) {
  const licence = new Types.ObjectId();
  const refs = { licence: String(licence), institution: String(licensor), licensee: String(licensee) };
  const n = ++serial;
  await post({ kind: 'transfer', key: `test:royalty-accrual:${process.pid}:${n}`, code: 'ACCRUAL', phase: 'posted', maker: null, effectiveAt, refs, entries: [
    { account: acct.receivable(licence), side: 'debit', amountFen }, { account: acct.revenue(licensor), side: 'credit', amountFen }] });
  return post({ kind: 'transfer', key: `test:royalty-payment:${process.pid}:${n}`, code: 'PAYMENT', phase: 'posted', maker: null, effectiveAt, refs, entries: [
    { account: acct.clearing(), side: 'debit', amountFen }, { account: acct.receivable(licence), side: 'credit', amountFen },
    { account: acct.settled(licensor), side: 'debit', amountFen }, { account: acct.clearing(), side: 'credit', amountFen }] });
}

/** The middle of the quarter `back` quarters before the current one (China calendar), and its 'YYYY-Qn' name. */
export function pastQuarter(back: number, now = new Date()): { label: string; inside: Date } {
  const cst = new Date(now.getTime() + 8 * 3_600_000);
  const index = cst.getUTCFullYear() * 4 + Math.floor(cst.getUTCMonth() / 3) - back;
  const year = Math.floor(index / 4);
  const q = index % 4;
  return { label: `${year}-Q${q + 1}`, inside: new Date(Date.UTC(year, q * 3 + 1, 15, 4)) };
}

const ids = {
  newLicenceId: '', filedClaimId: '', evidenceId: '', toSubmitClaimId: '', submittedClaimId: '', paidClaimId: '', writeOffClaimId: '',
  subsidyId: '', subsidyQuarter: '', smeId: '',
  transferSeq: 0, reversibleSeq: 0, reversalToApproveId: '', reversalToRejectId: '', checkpointId: '', checkpointText: '',
};

/** Writes the records the rows act on: a funded pool, claims in each state, a subsidy awaiting decision, royalties to subsidise. */
export async function prepareFundAuthz(): Promise<void> {
  await ensureInitialRules();
  const [univ, sme] = [await orgOfEmail(FUND_EMAILS.tto), await orgOfEmail(FUND_EMAILS.sme)];
  const [tto, fm, reg] = [await fundCtx(FUND_EMAILS.tto), await fundCtx(FUND_EMAILS.fund_manager), await fundCtx(FUND_EMAILS.regulator)];
  await appropriate(500_000_000);
  const file = async () => {
    const { licence } = await defaultedLicence(univ, sme, 1_000_000);
    return fileClaim(tto, { licence: String(licence._id), statement: '被许可方逾期未付许可费，多次催告无果。' }, [pdfFile()]);
  };
  ids.newLicenceId = String((await defaultedLicence(univ, sme, 500_000)).licence._id);
  const filed = await file();
  ids.filedClaimId = String(filed._id);
  ids.evidenceId = String((await ClaimEvidence.findOne({ claim: filed._id }).lean())!._id);
  ids.toSubmitClaimId = String((await file())._id);
  const submitted = await file();
  await submitClaim(fm, String(submitted._id));
  ids.submittedClaimId = String(submitted._id);
  const paid = await file();
  const proposed = await file();
  for (const c of [paid, proposed]) {
    await submitClaim(fm, String(c._id));
    await decideClaim(reg, String(c._id), { decision: 'approve', reason: '材料齐全，同意补偿。' });
  }
  await runPayments(fm);
  await proposeWriteOff(fm, String(proposed._id), { reason: '被许可方已破产清算，无法追偿。' });
  ids.paidClaimId = String(paid._id);
  ids.writeOffClaimId = String(proposed._id);
  // Royalties the matrix's SME paid in the last two ended quarters: one is subsidised already, the other is the form's.
  const [older, last] = [pastQuarter(2), pastQuarter(1)];
  await paidRoyalty(sme, univ, 2_000_000, older.inside);
  await paidRoyalty(sme, univ, 3_000_000, last.inside);
  ids.subsidyId = String((await submitSubsidy(fm, { licensee: String(sme), quarter: older.label }))._id);
  ids.subsidyQuarter = last.label;
  ids.smeId = String(sme);
  // The console's rows: appropriations to view and to reverse (each its own, so every row finds its transfer as it expects it).
  const appropriation = (amountFen: number) => post({
    kind: 'transfer', key: `test:authz-appropriation:${process.pid}:${++serial}`, code: 'APPROPRIATION', phase: 'posted', maker: null, effectiveAt: at(),
    entries: [{ account: acct.bank(), side: 'debit', amountFen }, { account: acct.pool(), side: 'credit', amountFen }],
  });
  ids.transferSeq = (await appropriation(2_000_000)).seq;
  ids.reversibleSeq = (await appropriation(1_000_000)).seq;
  ids.reversalToApproveId = String((await requestReversal(fm, (await appropriation(1_000_000)).seq, '矩阵测试：拨款金额录入有误。'))._id);
  ids.reversalToRejectId = String((await requestReversal(fm, (await appropriation(1_000_000)).seq, '矩阵测试：疑似重复拨款。'))._id);
  // The checkpoints' rows: a signing key, as main.ts installs one, and a checkpoint to download and to check.
  const signer = signerFromPem(generateSigningKeyPem());
  installLedgerSigner(signer);
  const checkpoint = await requestCheckpoint(reg, signer);
  ids.checkpointId = String(checkpoint._id);
  ids.checkpointText = JSON.stringify(await checkpointFile(reg, ids.checkpointId));
}

/** Undoes what prepareFundAuthz() changed outside the database: the installed signing key. */
export function releaseFundAuthz(): void {
  installLedgerSigner(null);
}

const claimReaders = only(['tto', 'fund_manager', 'regulator'], 'ok');
const overseers = only(['fund_manager', 'regulator'], 'ok');
const toClaim = { redirect: /^\/fund\/claims\/[0-9a-f]{24}$/ };
const toSubsidy = { redirect: /^\/fund\/subsidies\/[0-9a-f]{24}$/ };
const reason = () => ({ decision: 'approve', reason: '矩阵测试：材料齐全，同意。' });

export const FUND_AUTHZ_ROUTES: AuthzRoute[] = [
  { method: 'GET', name: '/fund/claims', path: () => '/fund/claims', expect: claimReaders },
  { method: 'GET', name: '/fund/claims/new', path: () => `/fund/claims/new?licence=${ids.newLicenceId}`, expect: only(['tto'], 'ok') },
  { method: 'GET', name: '/fund/claims/:id', path: () => `/fund/claims/${ids.filedClaimId}`, expect: claimReaders },
  { method: 'GET', name: '/fund/claims/:id/evidence/:evidenceId', path: () => `/fund/claims/${ids.filedClaimId}/evidence/${ids.evidenceId}`, expect: claimReaders },
  { method: 'GET', name: '/fund/claims/:id/dossier.json', path: () => `/fund/claims/${ids.paidClaimId}/dossier.json`, expect: claimReaders },
  { method: 'GET', name: '/fund/claims/:id/dossier.csv', path: () => `/fund/claims/${ids.paidClaimId}/dossier.csv`, expect: claimReaders },
  { method: 'GET', name: '/fund/rules', path: () => '/fund/rules', expect: overseers },
  { method: 'GET', name: '/fund/rules/new', path: () => '/fund/rules/new', expect: only(['fund_manager'], 'ok') },
  { method: 'GET', name: '/fund/appropriations', path: () => '/fund/appropriations', expect: overseers },
  { method: 'GET', name: '/fund/subsidies', path: () => '/fund/subsidies', expect: overseers },
  { method: 'GET', name: '/fund/subsidies/new', path: () => `/fund/subsidies/new?licensee=${ids.smeId}&quarter=${ids.subsidyQuarter}`, expect: only(['fund_manager'], 'ok') },
  { method: 'GET', name: '/fund/subsidies/:id', path: () => `/fund/subsidies/${ids.subsidyId}`, expect: overseers },
  { method: 'GET', name: '/fund/payment-runs', path: () => '/fund/payment-runs', expect: overseers },
  { method: 'POST', name: '/fund/claims/:id/submit', path: () => `/fund/claims/${ids.toSubmitClaimId}/submit`, expect: only(['fund_manager'], toClaim) },
  { method: 'POST', name: '/fund/claims/:id/decision (approve)', path: () => `/fund/claims/${ids.submittedClaimId}/decision`, body: reason, expect: only(['regulator'], toClaim) },
  {
    method: 'POST', name: '/fund/claims/:id/write-off (propose)', path: () => `/fund/claims/${ids.paidClaimId}/write-off`,
    body: () => ({ reason: '矩阵测试：被许可方已注销。' }), expect: only(['fund_manager'], toClaim),
  },
  { method: 'POST', name: '/fund/claims/:id/write-off/decision', path: () => `/fund/claims/${ids.writeOffClaimId}/write-off/decision`, body: reason, expect: only(['regulator'], toClaim) },
  {
    method: 'POST', name: '/fund/subsidies (submit)', path: () => '/fund/subsidies',
    body: () => ({ licensee: ids.smeId, quarter: ids.subsidyQuarter }), expect: only(['fund_manager'], toSubsidy),
  },
  { method: 'POST', name: '/fund/subsidies/:id/decision', path: () => `/fund/subsidies/${ids.subsidyId}/decision`, body: reason, expect: only(['regulator'], toSubsidy) },
  { method: 'POST', name: '/fund/payment-runs', path: () => '/fund/payment-runs', expect: only(['fund_manager'], { redirect: '/fund/payment-runs' }) },
  // The regulators' console (routes/fund-console.ts).
  { method: 'GET', name: '/fund', path: () => '/fund', expect: overseers },
  { method: 'GET', name: '/fund/ledger', path: () => '/fund/ledger', expect: overseers },
  { method: 'GET', name: '/fund/ledger/:seq', path: () => `/fund/ledger/${ids.transferSeq}`, expect: overseers },
  { method: 'GET', name: '/fund/trial-balance', path: () => '/fund/trial-balance', expect: overseers },
  { method: 'GET', name: '/fund/trial-balance?by=account', path: () => '/fund/trial-balance?by=account', expect: overseers },
  { method: 'GET', name: '/fund/trial-balance.csv', path: () => '/fund/trial-balance.csv', expect: overseers },
  { method: 'GET', name: '/fund/trial-balance.json', path: () => '/fund/trial-balance.json', expect: overseers },
  { method: 'GET', name: '/fund/reversals', path: () => '/fund/reversals', expect: overseers },
  {
    method: 'POST', name: '/fund/ledger/:seq/reversal-requests', path: () => `/fund/ledger/${ids.reversibleSeq}/reversal-requests`,
    body: () => ({ reason: '矩阵测试：拨款记错了账户。' }), expect: only(['fund_manager'], { redirect: /^\/fund\/ledger\/\d+$/ }),
  },
  {
    method: 'POST', name: '/fund/reversals/:id/approve', path: () => `/fund/reversals/${ids.reversalToApproveId}/approve`,
    body: () => ({ note: '矩阵测试：核对无误，同意冲正。' }), expect: only(['regulator'], { redirect: '/fund/reversals' }),
  },
  {
    method: 'POST', name: '/fund/reversals/:id/reject', path: () => `/fund/reversals/${ids.reversalToRejectId}/reject`,
    body: () => ({ reason: '矩阵测试：并非重复拨款。' }), expect: only(['regulator'], { redirect: '/fund/reversals' }),
  },
  // Tamper evidence (routes/fund-checkpoints.ts).
  { method: 'GET', name: '/fund/checkpoints', path: () => '/fund/checkpoints', expect: overseers },
  { method: 'GET', name: '/fund/checkpoints/key.pem', path: () => '/fund/checkpoints/key.pem', expect: overseers },
  { method: 'GET', name: '/fund/checkpoints/:id.json', path: () => `/fund/checkpoints/${ids.checkpointId}.json`, expect: overseers },
  { method: 'GET', name: '/fund/ledger/export.jsonl', path: () => '/fund/ledger/export.jsonl', expect: overseers },
  { method: 'GET', name: '/fund/ledger/:seq/proof.json', path: () => `/fund/ledger/${ids.transferSeq}/proof.json`, expect: overseers },
  { method: 'POST', name: '/fund/checkpoints (issue)', path: () => '/fund/checkpoints', expect: only(['fund_manager', 'regulator'], { redirect: '/fund/checkpoints' }) },
  { method: 'POST', name: '/fund/checkpoints/verify', path: () => '/fund/checkpoints/verify', expect: overseers },
  { method: 'POST', name: '/fund/checkpoints/check (pasted)', path: () => '/fund/checkpoints/check', body: () => ({ checkpoint: ids.checkpointText }), expect: overseers },
  { method: 'POST', name: '/fund/checkpoints/reconcile', path: () => '/fund/checkpoints/reconcile', expect: only(['fund_manager', 'regulator'], { redirect: '/fund/checkpoints' }) },
];
