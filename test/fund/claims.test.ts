/**
 * Compensation claims end to end against the embedded store: filing with
 * evidence over HTTP (PDF upload), the fund manager's computed submission
 * (a pending reservation), a regulator's partial approval, the payment run
 * (comp_payable back to zero), the dossier and its reproducible exports;
 * four eyes and roles; decisions exactly once; evidence rules (type by
 * content, size, count) with nothing stored on refusal; the claimable
 * checks; each cap binding; rejection; and the four-eyes write-off.
 */
import { expect } from 'chai';
import mongoose, { Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { ClaimEvidence } from '../../models/claim-evidence.js';
import { FundClaim } from '../../models/fund-claim.js';
import { FundRules } from '../../models/fund-rules.js';
import { Invoice } from '../../models/invoice.js';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { Licence } from '../../models/licence.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { acct, availableBalance, postedBalance } from '../../server/domain/ledger-chart.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../server/errors.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import type { Ctx } from '../../server/services/context.js';
import { computeCompensation } from '../../server/services/fund/claim-compute.js';
import { checkEvidence, sniffType } from '../../server/services/fund/claim-evidence.js';
import { addEvidence, decideClaim, fileClaim, submitClaim } from '../../server/services/fund/claims.js';
import { INITIAL_RULES } from '../../server/services/fund/fund-rules.js';
import { runPayments } from '../../server/services/fund/payment-runs.js';
import { decideWriteOff, proposeWriteOff } from '../../server/services/fund/write-offs.js';
import { csrfFrom, startApp, type AppHarness } from '../helpers/app-harness.js';
import { appropriate, defaultedLicence, FUND_EMAILS, fundCtx, orgOfEmail, pdfFile } from '../integration/authorization-fund.js';
import { DEMO, expectShows, rejects, signedIn, t, type Agent } from '../integration/helpers.js';

const STATEMENT = '被许可方自2026年起拖欠许可费，经三次书面催告仍未支付。';
const account = async (key: string) => LedgerAccount.findOne({ key }).lean();

/** Everything but the demo's people, organisations, patents and sessions: each test starts with an empty fund and no licences. */
const KEEP = new Set(['users', 'organizations', 'sessions', 'patents', 'offers', 'demands']);
async function resetFundState(): Promise<void> {
  for (const c of await mongoose.connection.db!.collections()) if (!KEEP.has(c.collectionName)) await c.deleteMany({});
}

describe('fund claims: computation (pure)', () => {
  const rules = { version: 3, compensationBps: 7_000, capPerLicenceFen: 500_000, capPerLicenseeFen: 800_000, capPerYearFen: 1_000_000 };
  const base = { lossFen: 1_000, rules, usedForLicenceFen: 0, usedForLicenseeFen: 0, usedInYearFen: 0, year: 2026, poolAvailableFen: 10_000_000 };

  it('is the ratio of the loss, rounded half up, when no limit binds', () => {
    const c = computeCompensation({ ...base, lossFen: 1_001 }); // 700.7 → 701
    expect(c).to.include({ rawFen: 701, compensationFen: 701, limitedBy: 'ratio', rulesVersion: 3, compensationBps: 7_000 });
    expect(computeCompensation({ ...base, lossFen: 1_005, rules: { ...rules, compensationBps: 5_000 } }).rawFen).to.equal(503); // 502.5 → 503
    expect(c.caps.map((x) => x.limit)).to.deep.equal(['per_licence', 'per_licensee', 'per_year']);
  });

  it('names each limit when it binds, the tightest winning and ties going to the first', () => {
    expect(computeCompensation({ ...base, lossFen: 1_000_000 })).to.include({ rawFen: 700_000, compensationFen: 500_000, limitedBy: 'per_licence' });
    expect(computeCompensation({ ...base, lossFen: 1_000_000, usedForLicenseeFen: 600_000 })).to.include({ compensationFen: 200_000, limitedBy: 'per_licensee' });
    expect(computeCompensation({ ...base, lossFen: 1_000_000, usedInYearFen: 900_000 })).to.include({ compensationFen: 100_000, limitedBy: 'per_year' });
    expect(computeCompensation({ ...base, lossFen: 1_000_000, poolAvailableFen: 42 })).to.include({ compensationFen: 42, limitedBy: 'pool' });
    expect(computeCompensation({ ...base, lossFen: 1_000_000, usedForLicenseeFen: 300_000 })).to.include({ compensationFen: 500_000, limitedBy: 'per_licence' });
    const c = computeCompensation({ ...base, lossFen: 1_000_000, usedInYearFen: 400_000, usedForLicenceFen: 0 });
    expect(c.caps.find((x) => x.limit === 'per_year')).to.deep.equal({ limit: 'per_year', capFen: 1_000_000, usedFen: 400_000, remainingFen: 600_000 });
  });

  it('never goes below zero (used beyond a cap, a pool in deficit) and refuses fractional inputs', () => {
    expect(computeCompensation({ ...base, usedForLicenceFen: 900_000 })).to.include({ compensationFen: 0, limitedBy: 'per_licence' });
    expect(computeCompensation({ ...base, poolAvailableFen: -5 })).to.include({ compensationFen: 0, limitedBy: 'pool' });
    expect(() => computeCompensation({ ...base, lossFen: 10.5 })).to.throw(RangeError);
  });
});

describe('fund claims: evidence rules (pure)', () => {
  it('recognises PDF, PNG and JPEG by their bytes, whatever the name', () => {
    expect(sniffType(pdfFile().buffer)).to.equal('application/pdf');
    expect(sniffType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]))).to.equal('image/png');
    expect(sniffType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]))).to.equal('image/jpeg');
    expect(sniffType(Buffer.from('MZ\x90\x00\x03', 'latin1'))).to.equal(null);
    expect(sniffType(Buffer.from('%PD', 'latin1'))).to.equal(null);
  });

  it('refuses the batch naming the first bad file and the rule', () => {
    const exe = { originalname: 'C:\\fake\\invoice.pdf', buffer: Buffer.from('MZ\x90\x00 not a pdf', 'latin1') };
    const e = (() => {
      try {
        checkEvidence([pdfFile('a.pdf'), exe]);
      } catch (err) {
        return err as ValidationError;
      }
      throw new Error('expected a refusal');
    })();
    expect(e.fields.evidence).to.deep.equal({ key: 'fund.claim.evidence.bad_type', params: { name: 'invoice.pdf' } });
    expect(() => checkEvidence([], 0, true)).to.throw(ValidationError);
    expect(() => checkEvidence([pdfFile(), pdfFile()], 9)).to.throw(ValidationError);
    expect(() => checkEvidence([{ originalname: 'x.pdf', buffer: Buffer.alloc(0) }])).to.throw(ValidationError);
    expect(checkEvidence([pdfFile('ok.pdf', 'same')])[0]).to.include({ name: 'ok.pdf', contentType: 'application/pdf' });
  });
});

describe('fund claims (embedded store)', function () {
  let h: AppHarness;
  let univ: Types.ObjectId;
  let sme: Types.ObjectId;
  let ctx: Record<'tto' | 'sme' | 'fm' | 'reg' | 'admin' | 'otherTto', Ctx>;

  let agents: Record<'tto' | 'sme' | 'fm' | 'reg' | 'admin' | 'otherTto', Agent>;

  before(async () => {
    h = await startApp();
    await loadDemo();
    await loadDemoCatalogue({ patents: 30 });
    [univ, sme] = [await orgOfEmail(FUND_EMAILS.tto), await orgOfEmail(FUND_EMAILS.sme)];
    ctx = {
      tto: await fundCtx(FUND_EMAILS.tto), sme: await fundCtx(FUND_EMAILS.sme), fm: await fundCtx(FUND_EMAILS.fund_manager),
      reg: await fundCtx(FUND_EMAILS.regulator), admin: await fundCtx(FUND_EMAILS.admin), otherTto: await fundCtx(FUND_EMAILS.otherTto),
    };
    // Signed in once (each sign-in is a slow password hash); the people and their sessions outlive the per-test reset.
    const [tto, smeA, fm, reg, admin, otherTto] = await Promise.all([DEMO.tto, DEMO.sme, DEMO.fund_manager, DEMO.regulator, DEMO.admin, FUND_EMAILS.otherTto].map((e) => signedIn(h, e)));
    agents = { tto: tto!, sme: smeA!, fm: fm!, reg: reg!, admin: admin!, otherTto: otherTto! };
  });
  beforeEach(async () => {
    await resetFundState();
    await FundRules.create({ ...INITIAL_RULES, createdAt: new Date() });
  });
  after(() => h.stop());

  async function filed(lossFen = 1_000_000, licensee = sme) {
    const { licence, invoice } = await defaultedLicence(univ, licensee, lossFen);
    const claim = await fileClaim(ctx.tto, { licence: String(licence._id), statement: STATEMENT }, [pdfFile()]);
    return { licence, invoice, claim };
  }

  const multipartFile = async (agent: Agent, licenceId: string, files: { name: string; data: Buffer }[], statement = STATEMENT) => {
    const page = await agent.get(`/fund/claims/new?licence=${licenceId}`);
    let req = agent.post('/fund/claims').field('_csrf', csrfFrom(page.text)).field('licence', licenceId).field('statement', statement);
    for (const f of files) req = req.attach('evidence', f.data, f.name);
    return req;
  };

  it('happy path over HTTP: file with a PDF, submit, approve in part, pay — ledger and states agree', async () => {
    await appropriate(10_000_000);
    const { licence, invoice } = await defaultedLicence(univ, sme, 1_000_000);
    const tto = agents.tto;
    const form = await tto.get(`/fund/claims/new?licence=${licence._id}`);
    expect(form.status).to.equal(200);
    expectShows(form.text, '¥10,000.00');
    const pdf = pdfFile('催告函.pdf', 'http');
    const res = await multipartFile(tto, String(licence._id), [{ name: '催告函.pdf', data: pdf.buffer }]);
    expect(res.status, res.text.slice(0, 300)).to.equal(303);
    const claim = (await FundClaim.findOne({ licence: licence._id }).lean())!;
    expect(res.headers.location).to.equal(`/fund/claims/${claim._id}`);
    expect(claim).to.include({ state: 'filed', lossFen: 1_000_000, statement: STATEMENT });
    expect(claim.number).to.match(/^CL-\d{4}-000001$/);
    expect(claim.invoices.map(String)).to.deep.equal([String(invoice._id)]);
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('claimed');
    const ev = (await ClaimEvidence.findOne({ claim: claim._id }).lean())!;
    expect(ev).to.include({ name: '催告函.pdf', contentType: 'application/pdf', size: pdf.buffer.length });
    expect(ev.sha256).to.match(/^[0-9a-f]{64}$/);
    const dl = await tto.get(`/fund/claims/${claim._id}/evidence/${ev._id}`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(dl.status).to.equal(200);
    expect(dl.headers['content-type']).to.match(/^application\/pdf/);
    expect(Buffer.compare(dl.body as Buffer, pdf.buffer)).to.equal(0);

    const fm = agents.fm;
    const page = await fm.get(`/fund/claims/${claim._id}`);
    expect(page.status).to.equal(200);
    expectShows(page.text, t('fund.claim.submit.button', { amount: '¥7,000.00' }));
    const sub = await fm.post(`/fund/claims/${claim._id}/submit`).type('form').send({ _csrf: csrfFrom(page.text) });
    expect(sub.status).to.equal(303);
    const submitted = (await FundClaim.findById(claim._id).lean())!;
    expect(submitted).to.include({ state: 'submitted', compensationFen: 700_000 });
    expect(submitted.computation).to.include({ lossFen: 1_000_000, rawFen: 700_000, compensationFen: 700_000, limitedBy: 'ratio', rulesVersion: 1, poolAvailableFen: 10_000_000 });
    expect(await account(acct.pool())).to.include({ creditsPosted: 10_000_000, debitsPending: 700_000, debitsPosted: 0 });
    const pending = (await LedgerTransfer.findOne({ seq: submitted.pendingSeq }).lean())!;
    expect(pending).to.include({ code: 'COMPENSATION', phase: 'pending', maker: String(ctx.fm.actor!.userId) });
    expect(pending.entries.map((e) => [e.account, e.side, e.amountFen])).to.deep.equal([
      [acct.pool(), 'debit', 700_000], [acct.compPayable(univ), 'credit', 700_000],
      [acct.recoveryRights(claim._id), 'debit', 700_000], [acct.recoveryOffset(), 'credit', 700_000],
    ]);
    expect(pending.refs).to.include({ claim: String(claim._id), licence: String(licence._id), institution: String(univ), licensee: String(sme) });

    const reg = agents.reg;
    const regPage = await reg.get(`/fund/claims/${claim._id}`);
    expectShows(regPage.text, t('fund.claim.decide.title'));
    const dec = await reg.post(`/fund/claims/${claim._id}/decision`).type('form').send({ _csrf: csrfFrom(regPage.text), decision: 'approve', amount: '4,000.00', reason: '证据充分，按可核实部分批准。' });
    expect(dec.status).to.equal(303);
    const approved = (await FundClaim.findById(claim._id).lean())!;
    expect(approved).to.include({ state: 'approved', approvedFen: 400_000, decisionReason: '证据充分，按可核实部分批准。' });
    expect(String(approved.decidedBy)).to.equal(String(ctx.reg.actor!.userId));
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('compensated');
    const pool = (await account(acct.pool()))!;
    expect(pool).to.include({ debitsPosted: 400_000, debitsPending: 0 });
    expect(availableBalance('credit', pool)).to.equal(9_600_000);
    expect(postedBalance('debit', (await account(acct.recoveryRights(claim._id)))!)).to.equal(400_000);
    expect(postedBalance('credit', (await account(acct.compPayable(univ)))!)).to.equal(400_000);
    const post = (await LedgerTransfer.findOne({ seq: approved.postSeq }).lean())!;
    expect(post).to.include({ phase: 'post', pendingSeq: submitted.pendingSeq, maker: String(ctx.fm.actor!.userId), checker: String(ctx.reg.actor!.userId) });

    const runs = await fm.get('/fund/payment-runs');
    expectShows(runs.text, approved.number);
    const run = await fm.post('/fund/payment-runs').type('form').send({ _csrf: csrfFrom(runs.text) });
    expect(run).to.include({ status: 303 }).and.have.nested.property('headers.location', '/fund/payment-runs');
    const paid = (await FundClaim.findById(claim._id).lean())!;
    expect(paid.state).to.equal('paid');
    expect(postedBalance('credit', (await account(acct.compPayable(univ)))!)).to.equal(0);
    expect(postedBalance('debit', (await account(acct.bank()))!)).to.equal(9_600_000);
    expect((await LedgerTransfer.findOne({ seq: paid.payoutSeq }).lean())!).to.include({ code: 'PAYOUT', key: `claim:${claim._id}:payout` });
    // A second run pays nothing again.
    const again = await fm.post('/fund/payment-runs').type('form').send({ _csrf: csrfFrom(runs.text) });
    expect(again.status).to.equal(303);
    expect(await LedgerTransfer.countDocuments({ code: 'PAYOUT' })).to.equal(1);
    expect(await AuditEvent.countDocuments({ action: 'fund.payment_run' })).to.equal(2);

    // The dossier: shown to the institution, and exported byte for byte the same twice.
    const dossierPage = await tto.get(`/fund/claims/${claim._id}`);
    expect(dossierPage.status).to.equal(200);
    expectShows(dossierPage.text, ev.sha256);
    expectShows(dossierPage.text, invoice.number);
    const j1 = await fm.get(`/fund/claims/${claim._id}/dossier.json`);
    const j2 = await reg.get(`/fund/claims/${claim._id}/dossier.json`);
    expect(j1.status).to.equal(200);
    expect(j1.text).to.equal(j2.text);
    const d = JSON.parse(j1.text);
    expect(d.claim).to.include({ number: approved.number, approvedFen: 400_000, state: 'paid' });
    expect(d.computation).to.include({ limitedBy: 'ratio', compensationFen: 700_000 });
    expect(d.evidence[0]).to.include({ sha256: ev.sha256, name: '催告函.pdf' });
    expect(d.transfers.map((x: { code: string; phase: string }) => `${x.code}/${x.phase}`)).to.deep.equal(['DEFAULT/posted', 'COMPENSATION/pending', 'COMPENSATION/post', 'PAYOUT/posted']);
    expect(d.checker).to.include({ reason: '证据充分，按可核实部分批准。' });
    const c1 = await fm.get(`/fund/claims/${claim._id}/dossier.csv`);
    const c2 = await tto.get(`/fund/claims/${claim._id}/dossier.csv`);
    expect(c1.text).to.equal(c2.text);
    expect(c1.text).to.include(`claim.number,${approved.number}`).and.include(`evidence[0].sha256,${ev.sha256}`);
  });

  it('four eyes: the maker cannot approve their own submission, even holding the regulator role', async () => {
    await appropriate(10_000_000);
    const { claim } = await filed();
    await submitClaim(ctx.fm, String(claim._id));
    const makerAsRegulator: Ctx = { ...ctx.fm, actor: { ...ctx.fm.actor!, role: 'regulator' } };
    const e = await rejects(decideClaim(makerAsRegulator, String(claim._id), { decision: 'approve', reason: '自己批准自己' }), ForbiddenError);
    expect(e.key).to.equal('fund.decision.four_eyes');
    await rejects(decideClaim(makerAsRegulator, String(claim._id), { decision: 'reject', reason: '自己驳回自己' }), ForbiddenError);
    expect((await FundClaim.findById(claim._id).lean())!.state).to.equal('submitted');
    expect(await account(acct.pool())).to.include({ debitsPending: 700_000, debitsPosted: 0 });
  });

  it('only a regulator decides: SME, TTO, fund manager and admin get 403 (service and HTTP), nothing changes', async () => {
    await appropriate(10_000_000);
    const { claim } = await filed();
    await submitClaim(ctx.fm, String(claim._id));
    for (const who of [ctx.sme, ctx.tto, ctx.fm, ctx.admin]) {
      const e = await rejects(decideClaim(who, String(claim._id), { decision: 'approve', reason: '越权审批' }), ForbiddenError);
      expect(e.key).to.equal('error.forbidden_role');
    }
    for (const [email, agent] of [[DEMO.sme, agents.sme], [DEMO.tto, agents.tto], [DEMO.fund_manager, agents.fm], [DEMO.admin, agents.admin]] as const) {
      const home = await agent.get('/');
      const r = await agent.post(`/fund/claims/${claim._id}/decision`).type('form').send({ _csrf: csrfFrom(home.text), decision: 'approve', reason: '越权审批' });
      expect(r.status, email).to.equal(403);
    }
    expect((await FundClaim.findById(claim._id).lean())!.state).to.equal('submitted');
    expect(await LedgerTransfer.countDocuments({ phase: { $in: ['post', 'void'] } })).to.equal(0);
  });

  it('a decision is made once: a second approval or rejection is a 409, over HTTP too', async () => {
    await appropriate(10_000_000);
    const { claim } = await filed();
    await submitClaim(ctx.fm, String(claim._id));
    await decideClaim(ctx.reg, String(claim._id), { decision: 'approve', reason: '同意补偿。' });
    const e = await rejects(decideClaim(ctx.reg, String(claim._id), { decision: 'reject', reason: '改为驳回' }), ConflictError);
    expect(e).to.include({ key: 'fund.claim.already_decided', status: 409 });
    const reg = agents.reg;
    const home = await reg.get('/');
    const r = await reg.post(`/fund/claims/${claim._id}/decision`).type('form').send({ _csrf: csrfFrom(home.text), decision: 'approve', reason: '再批一次' });
    expect(r.status).to.equal(409);
    expectShows(r.text, t('fund.claim.already_decided', { state: 'approved' }));
    expect(await LedgerTransfer.countDocuments({ phase: 'post' })).to.equal(1);
    expect((await FundClaim.findById(claim._id).lean())!.approvedFen).to.equal(700_000);
  });

  it('approval needs a reason and at most the submitted amount (422 next to the field, nothing posted)', async () => {
    await appropriate(10_000_000);
    const { claim } = await filed();
    await submitClaim(ctx.fm, String(claim._id));
    const noReason = await rejects(decideClaim(ctx.reg, String(claim._id), { decision: 'approve', reason: ' ' }), ValidationError);
    expect(noReason.fields.reason!.key).to.equal('fund.decision.reason_required');
    const tooMuch = await rejects(decideClaim(ctx.reg, String(claim._id), { decision: 'approve', amount: '7000.01', reason: '超额批准' }), ValidationError);
    expect(tooMuch.fields.amount).to.deep.equal({ key: 'fund.decision.amount_exceeds', params: { max: '¥7,000.00' } });
    const reg = agents.reg;
    const page = await reg.get(`/fund/claims/${claim._id}`);
    const r = await reg.post(`/fund/claims/${claim._id}/decision`).type('form').send({ _csrf: csrfFrom(page.text), decision: 'approve', amount: 'abc', reason: '金额有误' });
    expect(r.status).to.equal(422);
    expectShows(r.text, t('fund.decision.amount_invalid'));
    expect(await LedgerTransfer.countDocuments({ phase: 'post' })).to.equal(0);
  });

  it('evidence: a renamed .exe and a file over 10 MB are refused with 422 naming the file; nothing is stored', async () => {
    const { licence } = await defaultedLicence(univ, sme, 1_000_000);
    const tto = agents.tto;
    const exe = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(2048, 7)]);
    const r1 = await multipartFile(tto, String(licence._id), [{ name: 'contract.pdf', data: pdfFile().buffer }, { name: 'invoice.pdf', data: exe }]);
    expect(r1.status).to.equal(422);
    expectShows(r1.text, t('fund.claim.evidence.bad_type', { name: 'invoice.pdf' }));
    expectShows(r1.text, STATEMENT);
    const big = Buffer.concat([pdfFile().buffer, Buffer.alloc(10 * 1024 * 1024, 0x20)]);
    const r2 = await multipartFile(tto, String(licence._id), [{ name: '判决书.pdf', data: big }]);
    expect(r2.status).to.equal(422);
    expectShows(r2.text, t('fund.claim.evidence.too_large', { name: '判决书.pdf', max: 10 }));
    const eleven = Array.from({ length: 11 }, (_, i) => ({ name: `e${i}.pdf`, data: pdfFile(`e${i}.pdf`).buffer }));
    const r3 = await multipartFile(tto, String(licence._id), eleven);
    expect(r3.status).to.equal(422);
    expectShows(r3.text, t('fund.claim.evidence.too_many', { max: 10, already: 0 }));
    const r4 = await multipartFile(tto, String(licence._id), []);
    expect(r4.status).to.equal(422);
    expectShows(r4.text, t('fund.claim.evidence.required'));
    expect(await FundClaim.countDocuments()).to.equal(0);
    expect(await ClaimEvidence.countDocuments()).to.equal(0);
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('defaulted');
  });

  it('evidence can be added while filed (up to 10), not after submission; only the institution, fund managers and regulators download it', async () => {
    await appropriate(10_000_000);
    const { claim } = await filed();
    const tto = agents.tto;
    const page = await tto.get(`/fund/claims/${claim._id}`);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const add = await tto.post(`/fund/claims/${claim._id}/evidence`).field('_csrf', csrfFrom(page.text)).attach('evidence', png, '截图.png');
    expect(add.status).to.equal(303);
    const files = await ClaimEvidence.find({ claim: claim._id }).sort({ uploadedAt: 1 }).lean();
    expect(files.map((f) => f.contentType)).to.deep.equal(['application/pdf', 'image/png']);
    const nine = Array.from({ length: 9 }, (_, i) => pdfFile(`more-${i}.pdf`));
    const e = await rejects(addEvidence(ctx.tto, String(claim._id), nine), ValidationError);
    expect(e.fields.evidence).to.deep.include({ key: 'fund.claim.evidence.too_many' });
    await rejects(addEvidence(ctx.otherTto, String(claim._id), [pdfFile()]), NotFoundError);
    await submitClaim(ctx.fm, String(claim._id));
    const closed = await rejects(addEvidence(ctx.tto, String(claim._id), [pdfFile()]), ConflictError);
    expect(closed.key).to.equal('fund.claim.evidence_closed');
    expect(await ClaimEvidence.countDocuments({ claim: claim._id })).to.equal(2);
    const other = agents.otherTto;
    expect((await other.get(`/fund/claims/${claim._id}/evidence/${files[0]!._id}`)).status).to.equal(404);
    expect((await other.get(`/fund/claims/${claim._id}`)).status).to.equal(404);
    expect((await other.get(`/fund/claims/${claim._id}/dossier.json`)).status).to.equal(404);
    const smeAgent = agents.sme;
    expect((await smeAgent.get(`/fund/claims/${claim._id}/evidence/${files[0]!._id}`)).status).to.equal(403);
    expect((await agents.reg.get(`/fund/claims/${claim._id}/evidence/${files[1]!._id}`)).status).to.equal(200);
  });

  it('filing: only for a defaulted, covered licence of the TTO\'s own institution with no claim in progress', async () => {
    const paying = await defaultedLicence(univ, sme, 500_000, { state: 'paying' });
    const e1 = await rejects(fileClaim(ctx.tto, { licence: String(paying.licence._id), statement: STATEMENT }, [pdfFile()]), ConflictError);
    expect(e1).to.include({ key: 'fund.claim.licence_not_defaulted' });
    const uncovered = await defaultedLicence(univ, sme, 500_000, { covered: false, reason: 'suspended_loss_rate' });
    const e2 = await rejects(fileClaim(ctx.tto, { licence: String(uncovered.licence._id), statement: STATEMENT }, [pdfFile()]), ConflictError);
    expect(e2.key).to.equal('fund.claim.not_covered_suspended');
    const tto = agents.tto;
    const page = await tto.get(`/fund/claims/new?licence=${uncovered.licence._id}`);
    expect(page.status).to.equal(409);
    expectShows(page.text, t('fund.claim.not_covered_suspended'));
    const ok = await defaultedLicence(univ, sme, 500_000);
    await rejects(fileClaim(ctx.otherTto, { licence: String(ok.licence._id), statement: STATEMENT }, [pdfFile()]), NotFoundError);
    expect((await agents.otherTto.get(`/fund/claims/new?licence=${ok.licence._id}`)).status).to.equal(404);
    await rejects(fileClaim(ctx.sme, { licence: String(ok.licence._id), statement: STATEMENT }, [pdfFile()]), ForbiddenError);
    const short = await rejects(fileClaim(ctx.tto, { licence: String(ok.licence._id), statement: '太短' }, [pdfFile()]), ValidationError);
    expect(short.fields.statement!.key).to.equal('fund.claim.statement_required');
    await fileClaim(ctx.tto, { licence: String(ok.licence._id), statement: STATEMENT }, [pdfFile()]);
    // The licence is now claimed; a second claim names the first.
    const e3 = await rejects(fileClaim(ctx.tto, { licence: String(ok.licence._id), statement: STATEMENT }, [pdfFile()]), ConflictError);
    expect(e3.key).to.equal('fund.claim.in_progress');
    expect(await FundClaim.countDocuments()).to.equal(1);
    // The licence page offers the claim link to the TTO of a defaulted licence only.
    expect((await tto.get(`/licences/${paying.licence._id}`)).text).not.to.include('/fund/claims/new');
    const other = await defaultedLicence(univ, sme, 300_000);
    expect((await tto.get(`/licences/${other.licence._id}`)).text).to.include(`/fund/claims/new?licence=${other.licence._id}`);
    // Roles at the HTTP door of the upload: anonymous → login, SME → 403 (before anything is read).
    const anon = h.agent();
    expect((await anon.post('/fund/claims').field('licence', String(other.licence._id))).headers.location).to.equal('/login');
    const smeAgent = agents.sme;
    expect((await smeAgent.post('/fund/claims').field('licence', String(other.licence._id)).attach('evidence', pdfFile().buffer, 'a.pdf')).status).to.equal(403);
  });

  it('caps: per licence, per licensee (reservations count) and per year each bind and are named; then nothing is left', async () => {
    await appropriate(100_000_000);
    await FundRules.create({ ...INITIAL_RULES, version: 2, effectiveFrom: new Date('2025-02-01T00:00:00+08:00'), capPerLicenceFen: 500_000, capPerLicenseeFen: 800_000, capPerYearFen: 1_000_000, reason: 'test caps', createdAt: new Date() });
    const small = await orgOfEmail('sme.small@demo.yrd-exchange.cn');
    const medium = await orgOfEmail('sme.medium@demo.yrd-exchange.cn');
    const a = await filed(1_000_000, sme);
    const sa = await submitClaim(ctx.fm, String(a.claim._id));
    expect(sa.computation).to.include({ rulesVersion: 2, rawFen: 700_000, compensationFen: 500_000, limitedBy: 'per_licence' });
    await decideClaim(ctx.reg, String(a.claim._id), { decision: 'approve', reason: '同意' });
    const b = await filed(1_000_000, sme);
    const sb = await submitClaim(ctx.fm, String(b.claim._id));
    expect(sb.computation).to.include({ compensationFen: 300_000, limitedBy: 'per_licensee' });
    // b is only reserved, not approved: it still counts against the year.
    const c = await filed(1_000_000, small);
    const sc = await submitClaim(ctx.fm, String(c.claim._id));
    expect(sc.computation).to.include({ compensationFen: 200_000, limitedBy: 'per_year' });
    expect((sc.computation as { caps: { limit: string; usedFen: number }[] }).caps.find((x) => x.limit === 'per_year')!.usedFen).to.equal(800_000);
    const d = await filed(1_000_000, medium);
    const e = await rejects(submitClaim(ctx.fm, String(d.claim._id)), ConflictError);
    expect(e).to.include({ key: 'fund.claim.zero.per_year' });
    expect((await FundClaim.findById(d.claim._id).lean())!.state).to.equal('filed');
  });

  it('the pool binds: the offer is cut to what is available, and an empty pool refuses with the pool\'s message', async () => {
    await appropriate(150_000);
    const a = await filed(1_000_000);
    const fm = agents.fm;
    const page = await fm.get(`/fund/claims/${a.claim._id}`);
    expectShows(page.text, t('fund.claim.limit.pool'));
    const sa = await submitClaim(ctx.fm, String(a.claim._id));
    expect(sa.computation).to.include({ rawFen: 700_000, compensationFen: 150_000, limitedBy: 'pool', poolAvailableFen: 150_000 });
    const b = await filed(200_000);
    const e = await rejects(submitClaim(ctx.fm, String(b.claim._id)), ConflictError);
    expect(e.key).to.equal('fund.claim.zero.pool');
    const r = await fm.post(`/fund/claims/${b.claim._id}/submit`).type('form').send({ _csrf: csrfFrom(page.text) });
    expect(r.status).to.equal(409);
    expectShows(r.text, t('fund.claim.zero.pool', { available: '¥0.00' }));
    expect(await account(acct.pool())).to.include({ creditsPosted: 150_000, debitsPending: 150_000 });
  });

  it('rejection voids the reservation, puts the licence back in default, and a new claim may be filed', async () => {
    await appropriate(10_000_000);
    const { claim, licence } = await filed();
    await submitClaim(ctx.fm, String(claim._id));
    await decideClaim(ctx.reg, String(claim._id), { decision: 'reject', reason: '证据不足，催告记录缺失。' });
    expect((await FundClaim.findById(claim._id).lean())!).to.include({ state: 'rejected', approvedFen: 0 });
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('defaulted');
    expect(await account(acct.pool())).to.include({ debitsPending: 0, debitsPosted: 0 });
    expect(await LedgerTransfer.countDocuments({ phase: 'void' })).to.equal(1);
    const again = await fileClaim(ctx.tto, { licence: String(licence._id), statement: STATEMENT }, [pdfFile()]);
    expect(again.number).to.not.equal(claim.number);
    await rejects(submitClaim(ctx.reg, String(again._id)), ForbiddenError);
  });

  it('write-off, four eyes: proposed (pending), refused to the proposer, approved once — invoices, licence and claim closed', async () => {
    await appropriate(10_000_000);
    const { claim, licence, invoice } = await filed(1_000_000);
    await submitClaim(ctx.fm, String(claim._id));
    await decideClaim(ctx.reg, String(claim._id), { decision: 'approve', amount: '6000', reason: '同意' });
    const early = await rejects(proposeWriteOff(ctx.fm, String(claim._id), { reason: '无法追偿' }), ConflictError);
    expect(early.key).to.equal('fund.writeoff.claim_not_paid');
    await runPayments(ctx.fm);
    await rejects(proposeWriteOff(ctx.reg, String(claim._id), { reason: '无法追偿' }), ForbiddenError);
    const proposed = await proposeWriteOff(ctx.fm, String(claim._id), { reason: '被许可方破产，无可追偿财产。' });
    expect(proposed.writeOff).to.include({ state: 'proposed', overdueFen: 1_000_000, rightsFen: 600_000 });
    const pending = (await LedgerTransfer.findOne({ seq: proposed.writeOff!.pendingSeq }).lean())!;
    expect(pending).to.include({ code: 'WRITE_OFF', phase: 'pending' });
    expect(pending.entries.map((e) => [e.account, e.side, e.amountFen])).to.deep.equal([
      [acct.badDebt(univ), 'debit', 1_000_000], [acct.overdue(licence._id), 'credit', 1_000_000],
      [acct.recoveryOffset(), 'debit', 600_000], [acct.recoveryRights(claim._id), 'credit', 600_000],
    ]);
    await rejects(proposeWriteOff(ctx.fm, String(claim._id), { reason: '再提一次' }), ConflictError);
    const makerAsRegulator: Ctx = { ...ctx.fm, actor: { ...ctx.fm.actor!, role: 'regulator' } };
    expect((await rejects(decideWriteOff(makerAsRegulator, String(claim._id), { decision: 'approve', reason: '自批' }), ForbiddenError)).key).to.equal('fund.decision.four_eyes');

    const reg = agents.reg;
    const page = await reg.get(`/fund/claims/${claim._id}`);
    expectShows(page.text, t('fund.writeoff.decide.title'));
    const r = await reg.post(`/fund/claims/${claim._id}/write-off/decision`).type('form').send({ _csrf: csrfFrom(page.text), decision: 'approve', reason: '核实破产裁定，同意核销。' });
    expect(r.status).to.equal(303);
    const closed = (await FundClaim.findById(claim._id).lean())!;
    expect(closed).to.include({ state: 'closed', writtenOffFen: 600_000 });
    expect(closed.writeOff).to.include({ state: 'approved', decisionReason: '核实破产裁定，同意核销。' });
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('written_off');
    expect((await Invoice.findById(invoice._id).lean())!.status).to.equal('written_off');
    const event = (await LicensingEvent.findOne({ type: 'invoice.written_off', invoice: invoice._id }).lean())!;
    expect(event.postedAt).to.be.instanceOf(Date);
    expect(event.amountFen).to.equal(1_000_000);
    expect(postedBalance('debit', (await account(acct.overdue(licence._id)))!)).to.equal(0);
    expect(postedBalance('debit', (await account(acct.recoveryRights(claim._id)))!)).to.equal(0);
    expect(postedBalance('debit', (await account(acct.badDebt(univ)))!)).to.equal(1_000_000);
    const twice = await rejects(decideWriteOff(ctx.reg, String(claim._id), { decision: 'reject', reason: '改主意' }), ConflictError);
    expect(twice.key).to.equal('fund.writeoff.already_decided');
  });

  it('a rejected write-off releases its reservation and may be proposed again', async () => {
    await appropriate(10_000_000);
    const { claim, licence } = await filed(500_000);
    await submitClaim(ctx.fm, String(claim._id));
    await decideClaim(ctx.reg, String(claim._id), { decision: 'approve', reason: '同意' });
    await runPayments(ctx.fm);
    await proposeWriteOff(ctx.fm, String(claim._id), { reason: '暂无法追偿' });
    await decideWriteOff(ctx.reg, String(claim._id), { decision: 'reject', reason: '仍有追偿可能，继续催收。' });
    const after = (await FundClaim.findById(claim._id).lean())!;
    expect(after).to.include({ state: 'paid', writtenOffFen: 0 });
    expect(after.writeOff).to.include({ state: 'rejected' });
    expect(await account(acct.overdue(licence._id))).to.include({ creditsPending: 0 });
    const second = await proposeWriteOff(ctx.fm, String(claim._id), { reason: '催收半年无果' });
    expect(second.writeOffAttempts).to.equal(2);
    expect((await Licence.findById(licence._id).lean())!.state).to.equal('compensated');
  });

  it('lists: a TTO sees its institution\'s claims, the fund manager and regulators all; others 403', async () => {
    await appropriate(10_000_000);
    const own = await filed();
    const js = await orgOfEmail(FUND_EMAILS.otherTto);
    const { licence } = await defaultedLicence(js, sme, 400_000);
    const foreign = await fileClaim(ctx.otherTto, { licence: String(licence._id), statement: STATEMENT }, [pdfFile()]);
    const tto = agents.tto;
    const mine = await tto.get('/fund/claims');
    expect(mine.text).to.include(own.claim.number).and.not.include(foreign.number);
    const fm = agents.fm;
    const all = await fm.get('/fund/claims?state=filed');
    expect(all.text).to.include(own.claim.number).and.include(foreign.number);
    expect((await agents.sme.get('/fund/claims')).status).to.equal(403);
    expect((await h.agent().get('/fund/claims')).headers.location).to.equal('/login');
  });
});
