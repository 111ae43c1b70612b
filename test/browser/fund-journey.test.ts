/**
 * The risk-compensation fund's journey in Chromium, as one ordered story
 * with three people in their own browsers: a university's TTO files a claim
 * for a defaulted pay-later licence, with a PDF as evidence; the fund
 * manager submits the computed offer, which reserves it in the pool; a
 * regulator approves part of it (four eyes: a different person), then
 * issues a signed checkpoint, runs the verifier over the live journal, and
 * finds the claim's transfers on the dashboard and in the ledger explorer.
 * Button and label names come from the dictionaries, so the story follows
 * the copy; after each step the database is checked as well as the page.
 */
import { expect } from 'chai';
import { ClaimEvidence } from '../../models/claim-evidence.js';
import { FundClaim } from '../../models/fund-claim.js';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerCheckpoint } from '../../models/ledger-checkpoint.js';
import { LedgerHead } from '../../models/ledger-head.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { Licence } from '../../models/licence.js';
import { User } from '../../models/user.js';
import { acct, LEDGER } from '../../server/domain/ledger-chart.js';
import { fenTimesRatio, formatYuan } from '../../server/domain/money.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import { ensureInitialRules, INITIAL_RULES } from '../../server/services/fund/fund-rules.js';
import { generateSigningKeyPem, installLedgerSigner, signerFromPem, type LedgerSigner } from '../../server/services/fund/signing-key.js';
import type { BrowserPage } from '../helpers/browser.js';
import { startJourney, type Journey } from '../helpers/browser-journey.js';
import { appropriate, defaultedLicence, FUND_EMAILS, orgOfEmail, pdfFile } from '../integration/authorization-fund.js';

/** ¥2,000,000 in the pool: enough that only the compensation ratio limits the offer. */
const POOL_FEN = 200_000_000;
/** The defaulted royalty invoice: ¥12,345.67. */
const LOSS_FEN = 1_234_567;
/** The regulator approves part of the offer: ¥5,000.00. */
const APPROVED_YUAN = '5000.00';
const APPROVED_FEN = 500_000;
const STATEMENT = '被许可方自去年起连续两个季度未支付许可费，经书面催告三次仍未付款，现申请风险补偿。';

const pool = async () => (await LedgerAccount.findOne({ key: acct.pool() }).lean())!;
const userId = async (email: string) => String((await User.findOne({ email }).lean())!._id);
const userName = async (email: string) => (await User.findOne({ email }).lean())!.name;

describe('fund journey (Chromium)', function () {
  this.timeout(120_000);
  let j: Journey;
  let signer: LedgerSigner;
  let tto: BrowserPage;
  let fund: BrowserPage;
  let regulator: BrowserPage;
  let licenceId: string;
  let licenceNumber: string;
  let claimId: string;
  let claimNumber: string;
  let offerFen: number;
  const evidence = pdfFile('许可合同-逾期催告.pdf', 'fund journey');

  before(async () => {
    j = await startJourney();
    await loadDemoCatalogue({ patents: 30 });
    await ensureInitialRules();
    await appropriate(POOL_FEN);
    // The app harness installs no signing key (main.ts does): checkpoints need one.
    signer = signerFromPem(generateSigningKeyPem());
    installLedgerSigner(signer);
    const { licence } = await defaultedLicence(await orgOfEmail(FUND_EMAILS.tto), await orgOfEmail(FUND_EMAILS.sme), LOSS_FEN);
    licenceId = String(licence._id);
    licenceNumber = licence.number;
    offerFen = fenTimesRatio(LOSS_FEN, INITIAL_RULES.compensationBps, 10_000);
  });
  after(async () => {
    installLedgerSigner(null);
    await j?.stop();
  });

  it('1. the TTO opens the defaulted licence and files a claim with a PDF as evidence', async () => {
    tto = await j.open();
    await j.login(tto, FUND_EMAILS.tto);
    const { page } = tto;
    await j.clickAndLoad(page, page.locator('nav').getByRole('link', { name: j.zh('nav.licences') }));
    await j.clickAndLoad(page, page.locator('main a[href="/licences?state=defaulted"]'));
    await j.checkPage(tto, 'tto-defaulted-licences');
    await j.clickAndLoad(page, page.locator('main').getByRole('link', { name: licenceNumber, exact: true }).first());
    expect(new URL(page.url()).pathname).to.equal(`/licences/${licenceId}`);
    await j.checkPage(tto, 'tto-defaulted-licence');
    await j.clickAndLoad(page, page.getByRole('link', { name: j.zh('fund.claim.file_link') }));
    expect(new URL(page.url()).pathname).to.equal('/fund/claims/new');
    await j.checkPage(tto, 'tto-claim-form');
    expect(await page.locator('#loss').innerText()).to.equal(formatYuan(LOSS_FEN));

    await page.getByLabel(j.zh('fund.claim.statement')).fill(STATEMENT);
    await page.getByLabel(j.zh('fund.claim.evidence.label')).setInputFiles({ name: evidence.originalname, mimeType: 'application/pdf', buffer: evidence.buffer });
    await j.clickAndLoad(page, page.locator('#claim-form').getByRole('button', { name: j.zh('fund.claim.new.submit') }));
    await j.checkPage(tto, 'tto-claim-filed');

    const claim = (await FundClaim.findOne({ licence: licenceId }).lean())!;
    expect(claim, 'the claim is stored').to.not.equal(null);
    claimId = String(claim._id);
    claimNumber = claim.number;
    expect(new URL(page.url()).pathname).to.equal(`/fund/claims/${claimId}`);
    expect(await page.locator('.flash').innerText()).to.include(j.zh('fund.claim.filed', { number: claimNumber }));
    expect(await page.locator('#claim-state').innerText()).to.equal(j.zh('fund.claim.state.filed'));
    expect(await page.locator('#claim-loss').innerText()).to.equal(formatYuan(LOSS_FEN));
    expect(await page.locator('#evidence').innerText()).to.include(evidence.originalname);

    expect(claim).to.include({ state: 'filed', lossFen: LOSS_FEN, statement: STATEMENT });
    expect(String(claim.filedBy)).to.equal(await userId(FUND_EMAILS.tto));
    expect((await Licence.findById(licenceId).lean())!.state).to.equal('claimed');
    const files = await ClaimEvidence.find({ claim: claim._id });
    expect(files, 'one evidence file, byte for byte').to.have.length(1);
    expect(files[0]).to.include({ name: evidence.originalname, contentType: 'application/pdf', size: evidence.buffer.length });
    expect(files[0]!.data.equals(evidence.buffer), 'the stored bytes are the uploaded ones').to.equal(true);
    expect(await LedgerTransfer.countDocuments({ 'refs.claim': claimId }), 'filing posts nothing').to.equal(0);
  });

  it('2. the fund manager finds the claim, reads the computation and submits it, reserving the pool', async () => {
    fund = await j.open();
    await j.login(fund, FUND_EMAILS.fund_manager);
    const { page } = fund;
    await page.goto('/fund/claims');
    await j.checkPage(fund, 'fund-claims');
    const row = page.locator(`#claim-${claimId}`);
    expect(await row.innerText()).to.include(formatYuan(LOSS_FEN)).and.include(j.zh('fund.claim.state.filed'));
    await j.clickAndLoad(page, row.getByRole('link', { name: claimNumber }));
    await j.checkPage(fund, 'fund-claim-to-submit');

    // The offer: 70% of the loss, limited by the ratio alone (the pool is far larger).
    const offer = page.locator('#offer');
    expect(await offer.innerText()).to.include(formatYuan(LOSS_FEN)).and.include(formatYuan(offerFen)).and.include(formatYuan(POOL_FEN));
    expect(await page.locator('#offer-limit').innerText()).to.equal(j.zh('fund.claim.limit.ratio'));
    const before = await pool();
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('fund.claim.submit.button', { amount: formatYuan(offerFen) }) }));
    await j.checkPage(fund, 'fund-claim-submitted');
    expect(await page.locator('.flash').innerText()).to.include(j.zh('fund.claim.submitted'));
    expect(await page.locator('#claim-state').innerText()).to.equal(j.zh('fund.claim.state.submitted'));
    expect(await page.locator('#claim-submitted').innerText()).to.equal(formatYuan(offerFen));
    expect(await page.locator('#decision-form').count(), 'a regulator decides, not the maker').to.equal(0);

    const claim = (await FundClaim.findById(claimId).lean())!;
    expect(claim).to.include({ state: 'submitted', compensationFen: offerFen });
    expect(String(claim.submittedBy)).to.equal(await userId(FUND_EMAILS.fund_manager));
    const pending = (await LedgerTransfer.findOne({ seq: claim.pendingSeq }).lean())!;
    expect(pending).to.include({ code: 'COMPENSATION', phase: 'pending', maker: String(claim.submittedBy), checker: null });
    expect(pending.refs.claim).to.equal(claimId);
    const after = await pool();
    expect(after.debitsPending - before.debitsPending, 'the offer is reserved in the pool').to.equal(offerFen);
    expect(after.debitsPosted, 'and nothing has left it yet').to.equal(before.debitsPosted);
    expect((await Licence.findById(licenceId).lean())!.state).to.equal('claimed');
  });

  it('3. a regulator approves part of it: posted, the licence compensated, maker and checker two people', async () => {
    regulator = await j.open();
    await j.login(regulator, FUND_EMAILS.regulator);
    const { page } = regulator;
    await page.goto('/fund/claims?state=submitted');
    await j.checkPage(regulator, 'regulator-claims-submitted');
    await j.clickAndLoad(page, page.locator(`#claim-${claimId}`).getByRole('link', { name: claimNumber }));
    await j.checkPage(regulator, 'regulator-claim-to-decide');
    const form = page.locator('#decision-form');
    expect(await form.getByLabel(j.zh('fund.decision.amount')).inputValue(), 'the whole offer is prefilled').to.equal((offerFen / 100).toFixed(2));
    await form.getByLabel(j.zh('fund.decision.amount')).fill(APPROVED_YUAN);
    await form.getByLabel(j.zh('fund.decision.reason')).fill('证据齐全；被许可方已部分履约，按核定损失的一部分先行补偿。');
    const before = await pool();
    await j.clickAndLoad(page, form.getByRole('button', { name: j.zh('fund.decision.approve'), exact: true }));
    await j.checkPage(regulator, 'regulator-claim-approved');
    expect(await page.locator('.flash').innerText()).to.include(j.zh('fund.claim.approved'));
    expect(await page.locator('#claim-state').innerText()).to.equal(j.zh('fund.claim.state.approved'));
    expect(await page.locator('#claim-approved').innerText()).to.equal(formatYuan(APPROVED_FEN));
    expect(await page.locator('#decision-form').count(), 'decided once: no form left').to.equal(0);

    const claim = (await FundClaim.findById(claimId).lean())!;
    expect(claim).to.include({ state: 'approved', approvedFen: APPROVED_FEN, compensationFen: offerFen });
    const [fm, reg] = [await userId(FUND_EMAILS.fund_manager), await userId(FUND_EMAILS.regulator)];
    const posted = (await LedgerTransfer.findOne({ seq: claim.postSeq }).lean())!;
    expect(posted).to.include({ code: 'COMPENSATION', phase: 'post', pendingSeq: claim.pendingSeq, maker: fm, checker: reg });
    expect(posted.maker, 'four eyes').to.not.equal(posted.checker);
    expect(posted.entries.filter((e) => e.side === 'debit').reduce((n, e) => n + e.amountFen, 0), 'only the approved part is posted (both legs)').to.equal(2 * APPROVED_FEN);
    const after = await pool();
    expect(before.debitsPending - after.debitsPending, 'the whole reservation is released').to.equal(offerFen);
    expect(after.debitsPosted - before.debitsPosted, 'the approved part leaves the pool').to.equal(APPROVED_FEN);
    expect((await Licence.findById(licenceId).lean())!.state).to.equal('compensated');
  });

  it('4. the regulator issues a checkpoint, verifies the ledger, and finds the claim on the dashboard and in the explorer', async () => {
    const { page } = regulator;
    await page.goto('/fund/checkpoints');
    await j.checkPage(regulator, 'regulator-checkpoints');
    const head = (await LedgerHead.findById(LEDGER).lean())!;
    expect(await page.locator('[data-figure="head-seq"]').innerText()).to.equal(String(head.seq));
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('checkpoints.issue.submit') }));
    await j.checkPage(regulator, 'regulator-checkpoint-issued');
    expect(await page.locator('.flash').innerText()).to.include(j.zh('checkpoints.issued', { seq: head.seq }));
    const checkpoints = await LedgerCheckpoint.find({}).lean();
    expect(checkpoints, 'one checkpoint, at the head').to.have.length(1);
    expect(checkpoints[0]).to.include({ seq: head.seq, headHash: head.hash, keyId: signer.keyId, issuedBy: await userId(FUND_EMAILS.regulator) });
    expect(await page.locator(`#checkpoint-${checkpoints[0]!._id}`).innerText()).to.include(checkpoints[0]!.root).and.include(signer.keyId);

    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('checkpoints.verify.submit') }));
    await j.checkPage(regulator, 'regulator-ledger-verified');
    const verdict = page.locator('#verdict');
    expect(await verdict.getAttribute('data-verdict')).to.equal('ok');
    const accounts = await LedgerAccount.countDocuments();
    expect(await verdict.innerText()).to.include(j.zh('checkpoints.verdict.ok'))
      .and.include(j.zh('checkpoints.verify.ok_text', { transfers: head.seq, checkpoints: 1, accounts }));
    expect(await page.locator('[data-figure="transfers"]').innerText()).to.equal(String(head.seq));

    // The dashboard: the pool after the approval, nothing reserved any more.
    await j.clickAndLoad(page, page.locator('nav').getByRole('link', { name: j.zh('console.nav.console') }));
    await j.checkPage(regulator, 'regulator-fund-dashboard');
    const p = await pool();
    expect(p.creditsPosted - p.debitsPosted).to.equal(POOL_FEN - APPROVED_FEN);
    expect(await page.locator('[data-figure="pool-balance"]').innerText()).to.equal(formatYuan(POOL_FEN - APPROVED_FEN));
    expect(await page.locator('[data-figure="pool-reserved"]').innerText()).to.equal(formatYuan(0));

    // The explorer: the claim's reservation and its posting, found by the claim's id.
    const claim = (await FundClaim.findById(claimId).lean())!;
    await j.clickAndLoad(page, page.locator('.console-nav').getByRole('link', { name: j.zh('console.nav.ledger') }));
    await page.getByLabel(j.zh('console.ref.claim')).fill(claimId);
    await page.getByLabel(j.zh('console.field.code')).selectOption('COMPENSATION');
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('console.ledger.filter.submit') }));
    await j.checkPage(regulator, 'regulator-ledger-claim');
    const seqs = await page.locator('tr[data-seq]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
    expect(seqs, 'newest first: the posting, then the reservation').to.deep.equal([claim.postSeq, claim.pendingSeq]);
    await j.clickAndLoad(page, page.locator(`tr[data-seq="${claim.postSeq}"]`).getByRole('link', { name: `#${claim.postSeq}`, exact: true }));
    await j.checkPage(regulator, 'regulator-claim-transfer');
    expect(new URL(page.url()).pathname).to.equal(`/fund/ledger/${claim.postSeq}`);
    expect(await page.locator('[data-figure="seq"]').innerText()).to.equal(`#${claim.postSeq}`);
    expect(await page.locator('[data-link="resolves"]').innerText()).to.equal(`#${claim.pendingSeq}`);
    const details = await page.locator('main').innerText();
    expect(details).to.include(await userName(FUND_EMAILS.fund_manager)).and.include(await userName(FUND_EMAILS.regulator)).and.include(formatYuan(APPROVED_FEN));
  });
});
