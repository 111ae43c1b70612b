/**
 * The day rollups are projected from the journal after posting
 * (server/services/fund/ledger-rollups.ts). They must equal the journal
 * summed again however posting and projecting interleave, count every
 * transfer exactly once when two projectors race (two processes), and stop
 * — changing nothing — when the stored journal they read no longer
 * continues from where they stand. (Transfers the group-commit poster has
 * just committed are projected from memory; the others are read back.)
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import { LedgerHead } from '../../models/ledger-head.js';
import { LedgerRollup } from '../../models/ledger-rollup.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { acct, LEDGER } from '../../server/domain/ledger-chart.js';
import { post, postInTransaction, type LedgerCommand } from '../../server/services/fund/ledger.js';
import { addToRollups, projectChunk, projectRollups, ROLLUP_CURSOR, rollupCursor, type RollupSums } from '../../server/services/fund/ledger-rollups.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';

const UNIVS = ['64b000000000000000000001', '64b000000000000000000002', '64b000000000000000000003'];
const PROVINCES = ['SH', 'JS', 'ZJ', 'AH'];

/** An accrual for licence `n`, on day `n % 5` of March, with the console's dimensions. */
function accrual(key: string, n: number, amountFen: number): LedgerCommand {
  const univ = UNIVS[n % UNIVS.length]!;
  const licence = `64b0000000000000000${(0xa0000 + n).toString(16)}`;
  return {
    kind: 'transfer', key, code: 'ACCRUAL', phase: 'posted', maker: null, effectiveAt: new Date(Date.UTC(2026, 2, 1 + (n % 5), 2)),
    refs: { licence, institution: univ, province: PROVINCES[n % 4]!, field: n % 2 ? 'biomed' : 'materials' },
    entries: [{ account: acct.receivable(licence), side: 'debit', amountFen }, { account: acct.revenue(univ), side: 'credit', amountFen }],
  };
}

/** The rollups as they should be: the whole journal summed again. */
async function expected(): Promise<Record<string, unknown>> {
  const sums: RollupSums = new Map();
  for (const d of await LedgerTransfer.find().sort({ seq: 1 }).lean()) addToRollups(sums, d as never);
  return Object.fromEntries([...sums].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, s]) => [id, { ...s.identity, ...s.figures }]));
}

async function stored(): Promise<Record<string, unknown>> {
  const rows = await LedgerRollup.find().sort({ _id: 1 }).lean();
  return Object.fromEntries(rows.map(({ _id, ...rest }) => [_id, rest]));
}

describe('fund ledger day rollups (projected)', function () {
  let h: AppHarness;
  before(async () => {
    h = await startApp();
  });
  beforeEach(() => h.reset());
  after(() => h.stop());

  it('posting writes no rollup; a projection brings them to the head, and a second finds nothing to do', async () => {
    for (let i = 0; i < 12; i++) await post(accrual(`a-${i}`, i, 1_000 + i));
    expect(await LedgerRollup.countDocuments(), 'posting alone writes none').to.equal(0);
    expect(await projectRollups()).to.equal(12);
    expect(await stored()).to.deep.equal(await expected());
    const head = await LedgerHead.findById(LEDGER).lean();
    expect(await rollupCursor()).to.deep.equal({ seq: 12, hash: head!.hash });
    const before = await stored();
    expect(await projectRollups()).to.equal(12);
    expect(await stored(), 'nothing counted twice').to.deep.equal(before);
  });

  it('equals the journal summed again while posting and projecting interleave', async () => {
    const posts: Promise<unknown>[] = [];
    const projections: Promise<number>[] = [];
    for (let i = 0; i < 120; i++) {
      posts.push(post(accrual(`b-${i}`, i, 500 + i)));
      if (i % 15 === 0) projections.push(projectRollups());
    }
    await Promise.all([...posts, ...projections]);
    await projectRollups();
    expect(await stored()).to.deep.equal(await expected());
    expect((await rollupCursor()).seq).to.equal(120);
  });

  it('two projectors racing (as two processes would) count each transfer once', async () => {
    for (let i = 0; i < 30; i++) await post(accrual(`c-${i}`, i, 700 + i));
    await projectRollups();
    for (let i = 30; i < 60; i++) await post(accrual(`c-${i}`, i, 700 + i));
    const results = await Promise.allSettled([projectChunk(), projectChunk(), projectChunk()]);
    expect(results.filter((r) => r.status === 'fulfilled').length, 'at least one projector wins').to.be.at.least(1);
    await projectRollups();
    expect(await stored()).to.deep.equal(await expected());
    expect((await rollupCursor()).seq).to.equal(60);
  });

  it('a history replaced under a running process (a restored database) is read back, not taken from memory', async () => {
    for (let i = 0; i < 6; i++) await post(accrual(`e-${i}`, i, 100 + i));
    await h.reset();
    for (let i = 0; i < 6; i++) await post(accrual(`f-${i}`, i + 1, 5_000 + i));
    await projectRollups();
    expect(await stored()).to.deep.equal(await expected());
  });

  it('stops at a journal changed behind the service, naming the seq, and changes nothing', async () => {
    for (let i = 0; i < 10; i++) await post(accrual(`d-${i}`, i, 900 + i));
    await projectRollups();
    // Posted in callers' transactions (as the subscriber posts), so the projector reads them back from the journal.
    for (let i = 10; i < 20; i++) await mongoose.connection.transaction((session) => postInTransaction([accrual(`d-${i}`, i, 900 + i)], session));
    await mongoose.connection.db!.collection('ledgertransfers').deleteOne({ seq: 14 });
    const before = { rollups: await stored(), cursor: await rollupCursor() };
    const err = await projectRollups().then(() => null, (e: unknown) => e as { status: number; key: string; params: Record<string, unknown> });
    expect(err).to.include({ status: 409, key: 'ledger.rollups_diverged' });
    expect(err!.params).to.deep.equal({ seq: 14 });
    expect({ rollups: await stored(), cursor: await rollupCursor() }).to.deep.equal(before);
    expect(await LedgerHead.findById(ROLLUP_CURSOR).lean()).to.include({ seq: 10 });
  });
});
