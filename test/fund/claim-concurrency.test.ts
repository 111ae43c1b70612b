/**
 * The concurrency requirement, end to end through the claim
 * services (not the ledger alone): with two-phase reservations the pool is
 * committed at submission, so 20 filed claims against a pool that covers 10
 * compensations are submitted all at once (exactly 10 reserved, the rest
 * refused with the pool's message and left `filed`), then approved all at
 * once (exactly the 10 reserved ones posted, the others refused as not
 * submitted) — with the pool sampled throughout and never negative, and
 * Σ posted ≤ capital. Then 10 simultaneous decisions on ONE claim, by two
 * regulators: exactly one decision.
 */
import { expect } from 'chai';
import type { Types } from 'mongoose';
import { FundClaim } from '../../models/fund-claim.js';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { Licence } from '../../models/licence.js';
import { User } from '../../models/user.js';
import { acct, constraintHeadroom, ZERO_TOTALS } from '../../server/domain/ledger-chart.js';
import { AppError } from '../../server/errors.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import { actorFor } from '../../server/services/accounts.js';
import type { Ctx } from '../../server/services/context.js';
import { decideClaim, fileClaim, submitClaim } from '../../server/services/fund/claims.js';
import { ensureInitialRules } from '../../server/services/fund/fund-rules.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { appropriate, defaultedLicence, FUND_EMAILS, fundCtx, orgOfEmail, pdfFile } from '../integration/authorization-fund.js';

const LOSS = 100_000;
/** 70 % of the loss under the initial rules. */
const COMPENSATION = 70_000;
const CAPITAL = 10 * COMPENSATION;

/** Reads the pool every few milliseconds while `run` goes on; returns the run's result and every sample's headroom. */
async function watchingPool<T>(run: () => Promise<T>): Promise<{ result: T; headrooms: number[] }> {
  const headrooms: number[] = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const pool = await LedgerAccount.findOne({ key: acct.pool() }).lean();
      headrooms.push(constraintHeadroom('debits_must_not_exceed_credits', pool ?? ZERO_TOTALS));
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  try {
    return { result: await run(), headrooms };
  } finally {
    done = true;
    await sampler;
  }
}

const refusalKeys = (results: PromiseSettledResult<unknown>[]) => results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as AppError).key ?? String(r.reason)] : []));

describe('fund claims under concurrency', function () {
  this.timeout(180_000);
  let h: AppHarness;
  let univ: Types.ObjectId;
  let sme: Types.ObjectId;
  let tto: Ctx;
  let fm: Ctx;
  let reg: Ctx;
  let reg2: Ctx;

  before(async () => {
    h = await startApp();
    await loadDemo();
    await loadDemoCatalogue({ patents: 30 });
    await ensureInitialRules();
    [univ, sme] = [await orgOfEmail(FUND_EMAILS.tto), await orgOfEmail(FUND_EMAILS.sme)];
    [tto, fm, reg] = [await fundCtx(FUND_EMAILS.tto), await fundCtx(FUND_EMAILS.fund_manager), await fundCtx(FUND_EMAILS.regulator)];
    // A second regulator, so two different checkers can race for one claim.
    const first = (await User.findOne({ email: FUND_EMAILS.regulator }).lean())!;
    const second = await User.create({ email: 'regulator2@demo.yrd-exchange.cn', name: '监管专员 二', passwordHash: 'unused', organization: first.organization, role: 'regulator' });
    reg2 = { actor: await actorFor(second._id), meta: { requestId: 'race', ip: '203.0.113.10' } };
  });
  after(() => h.stop());

  async function fileClaims(n: number) {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { licence } = await defaultedLicence(univ, sme, LOSS);
      ids.push(String((await fileClaim(tto, { licence: String(licence._id), statement: `第${i + 1}号违约许可：多次催告未果，申请补偿。` }, [pdfFile()]))._id));
    }
    return ids;
  }

  it('20 simultaneous submissions against a pool for 10: exactly 10 reserved; then 20 simultaneous approvals: exactly those 10 posted', async () => {
    await appropriate(CAPITAL);
    const ids = await fileClaims(20);

    const submissions = await watchingPool(() => Promise.allSettled(ids.map((id) => submitClaim(fm, id))));
    const reserved = submissions.result.filter((r) => r.status === 'fulfilled').length;
    expect(reserved).to.equal(10);
    expect(refusalKeys(submissions.result)).to.deep.equal(Array(10).fill('fund.claim.zero.pool'));
    expect(await FundClaim.countDocuments({ state: 'submitted', compensationFen: COMPENSATION })).to.equal(10);
    expect(await FundClaim.countDocuments({ state: 'filed' })).to.equal(10);
    expect(await LedgerAccount.findOne({ key: acct.pool() }).lean()).to.include({ creditsPosted: CAPITAL, debitsPending: CAPITAL, debitsPosted: 0 });

    const approvals = await watchingPool(() => Promise.allSettled(ids.map((id) => decideClaim(reg, id, { decision: 'approve', reason: '同意补偿。' }))));
    expect(approvals.result.filter((r) => r.status === 'fulfilled').length).to.equal(10);
    expect(refusalKeys(approvals.result)).to.deep.equal(Array(10).fill('fund.claim.not_submitted'));
    const pool = (await LedgerAccount.findOne({ key: acct.pool() }).lean())!;
    expect(pool).to.include({ creditsPosted: CAPITAL, debitsPosted: CAPITAL, debitsPending: 0 });
    const headrooms = [...submissions.headrooms, ...approvals.headrooms];
    expect(headrooms.length, 'the pool was sampled while the calls ran').to.be.greaterThan(2);
    expect(Math.min(...headrooms), 'the pool never went negative').to.be.at.least(0);
    // Σ posted from the journal itself, not the counters.
    const posts = await LedgerTransfer.find({ code: 'COMPENSATION', phase: 'post' }).lean();
    const postedFromPool = posts.flatMap((t) => t.entries).filter((e) => e.account === acct.pool() && e.side === 'debit').reduce((s, e) => s + e.amountFen, 0);
    expect(posts).to.have.length(10);
    expect(postedFromPool).to.equal(CAPITAL).and.to.be.at.most(CAPITAL);
    expect(await FundClaim.countDocuments({ state: 'approved', approvedFen: COMPENSATION })).to.equal(10);
    expect(await Licence.countDocuments({ state: 'compensated' })).to.equal(10);
    expect(await Licence.countDocuments({ state: 'claimed' })).to.equal(10);
  });

  it('10 simultaneous decisions on one claim by two regulators: exactly one decision, one resolution of the reservation', async () => {
    await appropriate(COMPENSATION);
    const [id] = await fileClaims(1);
    const submitted = await submitClaim(fm, id!);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => decideClaim(i % 2 ? reg2 : reg, id!, {
      decision: i % 3 === 0 ? 'reject' : 'approve', reason: `第${i + 1}位审批人的意见`,
    })));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    expect(refusalKeys(results)).to.deep.equal(Array(9).fill('fund.claim.already_decided'));
    expect(await LedgerTransfer.countDocuments({ pendingSeq: submitted.pendingSeq })).to.equal(1);
    const claim = (await FundClaim.findById(id).lean())!;
    expect(claim.history.filter((x) => x.from === 'submitted')).to.have.length(1);
    const licence = (await Licence.findById(claim.licence).lean())!;
    expect(licence.state).to.equal(claim.state === 'approved' ? 'compensated' : 'defaulted');
    expect(licence.history.filter((x) => x.from === 'claimed')).to.have.length(1);
  });
});
