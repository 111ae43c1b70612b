/**
 * The golden audit scenario (../shared/reference/ledger.md §4 T8), through
 * the real services end to end: an appropriation, royalties accrued and one
 * paid, a default, a claim approved in part and paid, a partial recovery
 * (the fund takes back its share), a write-off of the rest, and a wrong
 * appropriation reversed with four eyes. The trial balance the regulators
 * download is compared byte for byte with the checked-in file, the
 * per-account balances with the figures worked out by hand below, and the
 * journal must verify with a signed checkpoint.
 *
 * Worked by hand (fen): appropriation 100,000,000 (+123,456 recorded in
 * error and reversed); invoices 300,000 (paid) and 1,000,000 (defaulted);
 * claim: loss 1,000,000 × 70 % = 700,000 reserved, 500,000 approved and
 * paid; recovery 200,000, the fund's share 200,000 × 500,000 ÷ 1,000,000 =
 * 100,000; write-off: 800,000 overdue and 400,000 rights left. So bank =
 * pool = 100,000,000 − 500,000 + 100,000 = 99,600,000; revenue 1,300,000;
 * settled 500,000; bad debt 800,000; every other account 0.
 *
 * Regenerate the golden file (after checking the new figures by hand) with
 * GOLDEN_UPDATE=1.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { FundClaim } from '../../models/fund-claim.js';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { Licence } from '../../models/licence.js';
import { User } from '../../models/user.js';
import { postedBalance } from '../../server/domain/ledger-chart.js';
import { runDefaultSweep } from '../../server/jobs/default-sweep.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import { recordAppropriation } from '../../server/services/fund/appropriations.js';
import { issueCheckpoint, verifyLedger } from '../../server/services/fund/checkpoints.js';
import { decideClaim, fileClaim, submitClaim } from '../../server/services/fund/claims.js';
import { ensureInitialRules } from '../../server/services/fund/fund-rules.js';
import { cstDay } from '../../server/services/fund/ledger-post.js';
import { runPayments } from '../../server/services/fund/payment-runs.js';
import { approveReversal, requestReversal } from '../../server/services/fund/reversal-requests.js';
import { generateSigningKeyPem, signerFromPem } from '../../server/services/fund/signing-key.js';
import { runFundLedgerSync } from '../../server/services/fund/subscriber.js';
import { parseTrialBalanceQuery, trialBalanceFile } from '../../server/services/fund/trial-balance.js';
import { decideWriteOff, proposeWriteOff } from '../../server/services/fund/write-offs.js';
import { recordGranted } from '../../server/services/licensing-common.js';
import { confirmBankTransfer, declareBankTransfer } from '../../server/services/payments.js';
import mongoose from 'mongoose';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DAY, makeInvoice, makeLicence } from '../helpers/licensing-fixtures.js';
import { FUND_EMAILS, fundCtx, orgOfEmail, pdfFile } from '../integration/authorization-fund.js';
import { DEMO } from '../integration/helpers.js';

const GOLDEN = path.join(import.meta.dirname, 'golden', 'trial-balance-by-kind.csv');

describe('fund ledger: the golden audit scenario', function () {
  let h: AppHarness;
  before(async () => {
    h = await startApp();
    await loadDemo();
    await loadDemoCatalogue({ patents: 30 });
    await ensureInitialRules();
  });
  after(() => h.stop());

  it('ends with the expected trial balance, claim figures and a journal that verifies', async () => {
    const [tto, fm, reg, sme] = await Promise.all([fundCtx(FUND_EMAILS.tto), fundCtx(FUND_EMAILS.fund_manager), fundCtx(FUND_EMAILS.regulator), fundCtx(DEMO.sme)]);
    const univ = await orgOfEmail(FUND_EMAILS.tto);
    const smeOrg = await orgOfEmail(DEMO.sme);
    const sync = async () => {
      const r = await runFundLedgerSync({ mailer: h.mailer, publicUrl: 'http://localhost:3000', logger: { error() {} } });
      expect(r.blocked, 'the ledger sync is not blocked').to.equal(null);
    };
    const pay = async (invoice: Types.ObjectId, fen: number, ref: string) => {
      const p = await declareBankTransfer(sme, String(invoice), { amount: (fen / 100).toFixed(2), reference: ref, date: cstDay(new Date()) });
      await confirmBankTransfer(tto, String(p._id));
    };
    const today = cstDay(new Date());

    // 1. The funders' money arrives.
    await recordAppropriation(fm, { funder: '0', amount: '1000000', reference: 'BANK-2026-001', date: today, key: randomUUID() });

    // 2. A pay-later licence, covered; two royalty invoices; the first paid, the second left unpaid for 200 days.
    const licence = await makeLicence(univ, smeOrg, 'paying', { kind: 'deferred', effectiveAt: new Date(Date.now() - 400 * DAY) });
    await mongoose.connection.transaction(async (s) => recordGranted((await Licence.findById(licence._id).session(s))!, new Date(Date.now() - 400 * DAY), s));
    const paid = await makeInvoice(licence, { amountFen: 300_000, dueAt: new Date(Date.now() + 10 * DAY) });
    const unpaid = await makeInvoice(licence, { amountFen: 1_000_000, dueAt: new Date(Date.now() - 200 * DAY) });
    await pay(paid._id, 300_000, 'PAY-0001');
    await runDefaultSweep({ mailer: h.mailer, daysToDefault: 90 });
    await sync();
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('defaulted');

    // 3. The claim: filed with evidence, 70 % reserved, 5,000 yuan approved by a different person, paid.
    const filed = await fileClaim(tto, { licence: String(licence._id), statement: '被许可方逾期两百天未付许可费，三次书面催告无果。' }, [pdfFile()]);
    const submitted = await submitClaim(fm, String(filed._id));
    expect(submitted.compensationFen).to.equal(700_000);
    await decideClaim(reg, String(filed._id), { decision: 'approve', amount: '5000', reason: '证据充分，按可回收前景部分核准。' });
    const run = await runPayments(fm);
    expect(run.totalFen).to.equal(500_000);

    // 4. The SME pays 2,000 yuan of the defaulted invoice: the fund takes back its share.
    await pay(unpaid._id, 200_000, 'PAY-0002');
    await sync();
    expect((await FundClaim.findById(filed._id).lean())!.recoveredFen).to.equal(100_000);

    // 5. The rest is written off, proposed by the fund manager and approved by the regulator.
    await proposeWriteOff(fm, String(filed._id), { reason: '被许可方已注销，无可执行财产。' });
    await decideWriteOff(reg, String(filed._id), { decision: 'approve', reason: '同意核销。' });
    await sync();

    // 6. An appropriation recorded in error, reversed with four eyes.
    const wrong = await recordAppropriation(fm, { funder: '1', amount: '1234.56', reference: 'BANK-2026-ERR', date: today, key: randomUUID() });
    const request = await requestReversal(fm, wrong.seq, '重复录入的拨款，应冲销。');
    await approveReversal(reg, String(request._id), '已核对银行流水，同意冲销。');
    const reversal = (await LedgerTransfer.findOne({ reverses: wrong.seq }).lean())!;
    expect(reversal.maker).to.equal(String(fm.actor!.userId));
    expect(reversal.checker).to.equal(String(reg.actor!.userId));

    // The balances worked out by hand (header comment).
    const balances = new Map<string, number>();
    for (const a of await LedgerAccount.find().lean()) {
      const kind = a.kind;
      balances.set(kind, (balances.get(kind) ?? 0) + postedBalance(a.normal as 'debit' | 'credit', a));
      expect(a.debitsPending + a.creditsPending, `${a.key} has nothing pending`).to.equal(0);
    }
    expect(Object.fromEntries([...balances].sort())).to.deep.equal({
      bad_debt: 800_000, clearing: 0, comp_payable: 0, fund_bank: 99_600_000, fund_pool: 99_600_000, overdue: 0, receivable: 0,
      recovery_rights: 0, recovery_rights_offset: 0, royalty_revenue: 1_300_000, settled: 500_000,
    });
    const claim = (await FundClaim.findById(filed._id).lean())!;
    expect(claim).to.include({ state: 'closed', lossFen: 1_000_000, compensationFen: 700_000, approvedFen: 500_000, recoveredFen: 100_000, writtenOffFen: 400_000 });
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('written_off');

    // The regulators' trial balance, byte for byte.
    const file = await trialBalanceFile(reg, parseTrialBalanceQuery({ asOf: today, by: 'kind' }), 'csv');
    if (process.env.GOLDEN_UPDATE) await fs.writeFile(GOLDEN, file.body);
    expect(file.body.toString('utf8')).to.equal(await fs.readFile(GOLDEN, 'utf8'));

    // Every user of the journal can check it: signed, chained, balanced.
    const signer = signerFromPem(generateSigningKeyPem());
    await issueCheckpoint(signer, String(reg.actor!.userId));
    const verdict = await verifyLedger(reg, signer);
    expect(verdict.problems).to.deep.equal([]);
    expect(verdict).to.include({ ok: true, transfers: await LedgerTransfer.countDocuments(), firstBadSeq: null });
    expect(await User.countDocuments({ role: 'regulator' })).to.be.greaterThan(0);
  });
});
