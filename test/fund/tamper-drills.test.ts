/**
 * Tamper drills (../shared/reference/ledger.md T7) against the embedded
 * store: a realistic journal of 50 transfers is posted through the real
 * ledger service and signed with checkpoints at seqs 25 and 50; then the
 * journal is altered behind the service's back with the raw driver — an
 * amount edited, a transfer deleted, two seqs swapped, a record rewritten
 * with its hash and every later hash recomputed — and the verifier must fail
 * naming the seq each time: run by the service, through the console route,
 * and by the stand-alone CLI (a child process, as a regulator runs it) on
 * the route's export.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import mongoose, { Types } from 'mongoose';
import { acct } from '../../server/domain/ledger-chart.js';
import { canonical, chainHash } from '../../server/domain/ledger-record.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import type { Ctx } from '../../server/services/context.js';
import { issueCheckpoint, verifyLedger } from '../../server/services/fund/checkpoints.js';
import { post, type LedgerCommand } from '../../server/services/fund/ledger.js';
import { journalRecordFromDoc } from '../../server/services/fund/ledger-export.js';
import { generateSigningKeyPem, installLedgerSigner, signerFromPem, type LedgerSigner } from '../../server/services/fund/signing-key.js';
import { verifyFile } from '../../server/ledger-verify-file.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { csrfOf, DEMO, signedIn, type Agent } from '../integration/helpers.js';

const T0 = Date.parse('2026-02-01T01:00:00.000Z');
const UNIV = '64b000000000000000000001';
const SME = '64b000000000000000000002';
const LICS = Array.from({ length: 6 }, (_, i) => `64b0000000000000000000a${i + 1}`);
const CLAIMS = ['64b0000000000000000000c1', '64b0000000000000000000c2'];
const MAKER = '64b0000000000000000000f1';
const CHECKER = '64b0000000000000000000f2';

const regulator: Ctx = {
  actor: { userId: new Types.ObjectId(), email: 'regulator@example.cn', role: 'regulator', orgId: new Types.ObjectId(), orgVerified: true, orgAdmin: true },
  meta: { requestId: 'drill', ip: '' },
};

const raw = () => mongoose.connection.db!.collection('ledgertransfers');

/** Fifty transfers of a fund's month or two: royalties accrued, paid and remitted, two defaults, two claims, two subsidies, payouts, a recovery, a mistake reversed. */
async function postJournal(signer: LedgerSigner): Promise<void> {
  let n = 0;
  const send = async (c: Record<string, unknown>) => post({ key: `drill-${n}`, ...c, effectiveAt: new Date(T0 + n++ * 3_600_000) } as LedgerCommand);
  const tx = (code: 'APPROPRIATION' | 'ACCRUAL' | 'PAYMENT' | 'DEFAULT' | 'COMPENSATION' | 'SUBSIDY' | 'RECOVERY' | 'PAYOUT', entries: [string, 'debit' | 'credit', number][], phase: 'posted' | 'pending' = 'posted', licence?: string) =>
    send({ kind: 'transfer', code, phase, maker: phase === 'pending' ? MAKER : null, refs: { licence: licence ?? null, institution: UNIV, province: 'SH', field: 'ai' }, entries: entries.map(([account, side, amountFen]) => ({ account, side, amountFen })) });
  const resolve = (pendingSeq: number, action: 'post' | 'void', amountFen?: number) => send({ kind: 'resolve', pendingSeq, action, amountFen, maker: MAKER, checker: CHECKER });

  await tx('APPROPRIATION', [[acct.bank(), 'debit', 5_000_000], [acct.pool(), 'credit', 5_000_000]]);
  for (const lic of LICS) {
    await tx('ACCRUAL', [[acct.receivable(lic), 'debit', 100_000], [acct.revenue(UNIV), 'credit', 100_000]], 'posted', lic);
    await tx('PAYMENT', [[acct.clearing(), 'debit', 40_000], [acct.receivable(lic), 'credit', 40_000]], 'posted', lic);
    await tx('PAYMENT', [[acct.settled(UNIV), 'debit', 40_000], [acct.clearing(), 'credit', 40_000]], 'posted', lic);
  }
  for (const lic of LICS.slice(0, 2)) await tx('DEFAULT', [[acct.overdue(lic), 'debit', 60_000], [acct.receivable(lic), 'credit', 60_000]], 'posted', lic);
  const claim = (i: number, fen: number) => tx('COMPENSATION', [[acct.pool(), 'debit', fen], [acct.compPayable(UNIV), 'credit', fen], [acct.recoveryRights(CLAIMS[i]), 'debit', fen], [acct.recoveryOffset(), 'credit', fen]], 'pending', LICS[i]);
  const c1 = await claim(0, 48_000);
  const c2 = await claim(1, 48_000);
  await resolve(c1.seq, 'post');
  const partial = await resolve(c2.seq, 'post', 30_000);
  expect(partial.seq).to.equal(25);
  await issueCheckpoint(signer, 'schedule', { now: new Date(T0 + 30 * 3_600_000) });
  const s1 = await tx('SUBSIDY', [[acct.pool(), 'debit', 8_000], [acct.subsidyPayable(SME), 'credit', 8_000]], 'pending');
  const s2 = await tx('SUBSIDY', [[acct.pool(), 'debit', 6_000], [acct.subsidyPayable(SME), 'credit', 6_000]], 'pending');
  await resolve(s1.seq, 'void');
  await resolve(s2.seq, 'post');
  await tx('PAYOUT', [[acct.compPayable(UNIV), 'debit', 78_000], [acct.bank(), 'credit', 78_000]]);
  await tx('PAYOUT', [[acct.subsidyPayable(SME), 'debit', 6_000], [acct.bank(), 'credit', 6_000]]);
  await tx('RECOVERY', [[acct.clearing(), 'debit', 10_000], [acct.overdue(LICS[0]), 'credit', 10_000]], 'posted', LICS[0]);
  await tx('RECOVERY', [[acct.bank(), 'debit', 10_000], [acct.clearing(), 'credit', 10_000]], 'posted', LICS[0]);
  await tx('RECOVERY', [[acct.recoveryOffset(), 'debit', 10_000], [acct.recoveryRights(CLAIMS[0]), 'credit', 10_000]], 'posted', LICS[0]);
  for (const lic of LICS) await tx('ACCRUAL', [[acct.receivable(lic), 'debit', 100_000], [acct.revenue(UNIV), 'credit', 100_000]], 'posted', lic);
  for (const lic of LICS.slice(2)) await tx('PAYMENT', [[acct.clearing(), 'debit', 100_000], [acct.receivable(lic), 'credit', 100_000]], 'posted', lic);
  await tx('PAYMENT', [[acct.clearing(), 'debit', 20_000], [acct.receivable(LICS[1]), 'credit', 20_000]], 'posted', LICS[1]);
  await tx('PAYMENT', [[acct.settled(UNIV), 'debit', 420_000], [acct.clearing(), 'credit', 420_000]]);
  const wrong = await tx('ACCRUAL', [[acct.receivable(LICS[5]), 'debit', 99_999], [acct.revenue(UNIV), 'credit', 99_999]], 'posted', LICS[5]);
  await send({ kind: 'reverse', reverses: wrong.seq, maker: MAKER, checker: CHECKER, memo: 'accrued twice' });
  await tx('APPROPRIATION', [[acct.bank(), 'debit', 1_000_000], [acct.pool(), 'credit', 1_000_000]]);
  const last = await tx('ACCRUAL', [[acct.receivable(LICS[2]), 'debit', 5_000], [acct.revenue(UNIV), 'credit', 5_000]], 'posted', LICS[2]);
  expect(last.seq).to.equal(50);
  await issueCheckpoint(signer, 'schedule', { now: new Date(T0 + 60 * 3_600_000) });
}

/** Rewrites the stored hashes from `fromSeq` on (and the head), as an attacker with database access would. */
async function rechainFrom(fromSeq: number): Promise<void> {
  const docs = await raw().find({ seq: { $gte: fromSeq - 1 } }).sort({ seq: 1 }).toArray();
  let prev = docs[0]!.hash as string;
  for (const doc of docs.slice(1)) {
    const hash = chainHash(prev, canonical(journalRecordFromDoc(doc)));
    await raw().updateOne({ _id: doc._id }, { $set: { prevHash: prev, hash } });
    prev = hash;
  }
  await mongoose.connection.db!.collection('ledgerheads').updateOne({}, { $set: { hash: prev } });
}

/** The verifier CLI in a child process, started as `npm run verify-ledger` starts it. */
function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['server/verify-ledger.cjs', ...args], { cwd: path.resolve('.') });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** supertest keeps non-text bodies (JSONL, PEM) unread: collect them as text. */
const textBody = (res: NodeJS.ReadableStream & { setEncoding(e: string): void }, cb: (err: Error | null, body: string) => void) => {
  let data = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (data += c));
  res.on('end', () => cb(null, data));
};

describe('tamper drills: the verifier catches every alteration of the stored journal', function () {
  let h: AppHarness;
  let signer: LedgerSigner;
  let agent: Agent;

  before(async () => {
    h = await startApp();
    await loadDemo();
    signer = signerFromPem(generateSigningKeyPem());
    installLedgerSigner(signer);
    agent = await signedIn(h, DEMO.regulator);
  });
  after(async () => {
    installLedgerSigner(null);
    await h.stop();
  });
  beforeEach(async () => {
    for (const c of ['ledgertransfers', 'ledgeraccounts', 'ledgerheads', 'ledgerrollups', 'ledgercheckpoints']) await mongoose.connection.db!.collection(c).deleteMany({});
    await postJournal(signer);
  });

  it('the untouched journal verifies: chain, balances, both checkpoints, every account', async () => {
    const r = await verifyLedger(regulator, signer);
    expect(r.problems).to.deep.equal([]);
    expect(r).to.include({ ok: true, transfers: 50, checkpoints: 2, keySource: 'trusted' });
    expect(r.accountsCompared).to.be.greaterThan(15);
  });

  it('an amount edited in place → seq 17, from the service and the console route', async () => {
    await raw().updateOne({ seq: 17 }, { $set: { 'entries.0.amountFen': 1, 'entries.1.amountFen': 1 } });
    const r = await verifyLedger(regulator, signer);
    expect(r.ok).to.equal(false);
    expect(r.firstBadSeq).to.equal(17);
    expect(r.problems[0]).to.include({ seq: 17, code: 'hash' });
    const _csrf = await csrfOf(agent, '/fund/checkpoints');
    const page = await agent.post('/fund/checkpoints/verify').type('form').send({ _csrf });
    expect(page.status).to.equal(200);
    expect(page.text).to.include('data-verdict="failed" data-first-bad-seq="17"');
    expect(page.text).to.include('第 17 笔转账已被篡改');
  });

  it('a transfer deleted → the missing seq 17', async () => {
    await raw().deleteOne({ seq: 17 });
    const r = await verifyLedger(regulator, signer);
    expect(r.firstBadSeq).to.equal(17);
    expect(r.problems[0]).to.include({ seq: 17, code: 'seq_gap' });
    expect(r.problems.map((p) => p.code)).to.include('checkpoint_root');
  });

  it('two seqs swapped → seq 10 (and 20)', async () => {
    await raw().updateOne({ seq: 10 }, { $set: { seq: -10 } });
    await raw().updateOne({ seq: 20 }, { $set: { seq: 10 } });
    await raw().updateOne({ seq: -10 }, { $set: { seq: 20 } });
    const r = await verifyLedger(regulator, signer);
    expect(r.firstBadSeq).to.equal(10);
    expect(r.problems.filter((p) => p.code === 'hash').map((p) => p.seq)).to.deep.equal([10, 20]);
  });

  it('a record rewritten with its hash and every later hash recomputed → only the checkpoint catches it, naming seqs 26–50', async () => {
    await raw().updateOne({ seq: 30 }, { $set: { checker: MAKER, memo: 'approved by the maker himself' } });
    await rechainFrom(30);
    const r = await verifyLedger(regulator, signer);
    expect(r.ok).to.equal(false);
    expect(r.problems.map((p) => `${p.code}@${p.seq}`)).to.deep.equal(['checkpoint_root@50']);
    expect(r.problems[0]!.params).to.include({ from: 26, to: 50 });
    const _csrf = await csrfOf(agent, '/fund/checkpoints');
    const page = await agent.post('/fund/checkpoints/verify').type('form').send({ _csrf });
    expect(page.text).to.include('data-first-bad-seq="50"');
    expect(page.text).to.include('序号 26–50 之间有记录被更改、删除或插入');
    // And no new checkpoint can be signed over the rewritten journal.
    await expectRefused(() => issueCheckpoint(signer, 'schedule'));
  });

  it('the export verifies with the CLI; an edited, a history-rewritten, an unreadable and an empty export fail naming the seq or line', async function () {
    this.timeout(180_000);
    const dir = await fs.mkdtemp(path.join(h.dir, 'export-'));
    const exp = await agent.get('/fund/ledger/export.jsonl').buffer(true).parse(textBody as never);
    expect(exp.status).to.equal(200);
    expect(exp.headers['content-disposition']).to.match(/attachment; filename="?yrd-fund-ledger-CNY-current-seq50\.jsonl/);
    const key = await agent.get('/fund/checkpoints/key.pem').buffer(true).parse(textBody as never);
    expect(key.status).to.equal(200);
    const keyFile = path.join(dir, 'key.pem');
    await fs.writeFile(keyFile, key.body as string);
    const clean = path.join(dir, 'clean.jsonl');
    await fs.writeFile(clean, exp.body as string);
    const ok = await runCli([clean, '--public-key', keyFile]);
    expect(ok.out).to.include('VERDICT: OK');
    expect(ok.code).to.equal(0);

    const lines = (exp.body as string).split('\n');
    const i = lines.findIndex((l) => l.startsWith('{"type":"transfer","seq":17,'));
    lines[i] = lines[i]!.replace(/"amountFen":(\d+)/g, (_m, a: string) => `"amountFen":${Number(a) + 100}`);
    const edited = path.join(dir, 'edited.jsonl');
    await fs.writeFile(edited, lines.join('\n'));
    const bad = await runCli([edited, '--public-key', keyFile]);
    expect(bad.code).to.equal(1);
    expect(bad.out).to.include('VERDICT: FAILED — first bad seq 17');
    expect(bad.out).to.include('seq 17: Transfer 17 was altered');

    await raw().updateOne({ seq: 30 }, { $set: { memo: 'rewritten' } });
    await rechainFrom(30);
    const rewritten = path.join(dir, 'rewritten.jsonl');
    await fs.writeFile(rewritten, (await agent.get('/fund/ledger/export.jsonl').buffer(true).parse(textBody as never)).body as string);
    const caught = await runCli([rewritten, '--public-key', keyFile]);
    expect(caught.code).to.equal(1);
    expect(caught.out).to.include('first bad seq 50');
    expect(caught.out).to.include('among seqs 26–50');

    // The CLI's two threads divide the chain at a batch of lines agreed while they run (ledger-verify-split.ts): wherever
    // that falls — here forced, in 4 KB batches, from the second batch to none at all — the verdict is one thread's.
    for (const file of [clean, edited, rewritten]) {
      const opts = { trustedKeys: [key.body as string] };
      const one = await verifyFile(file, opts, 1);
      expect(await verifyFile(file, opts, 2), `${path.basename(file)}, split as the CLI splits it`).to.deep.equal(one);
      for (const claimShare of [0, 0.3, 0.7, 1]) expect(await verifyFile(file, opts, 2, { chunkBytes: 4096, claimShare }), `${path.basename(file)} claimed at ${claimShare}`).to.deep.equal(one);
    }

    const unreadable = path.join(dir, 'unreadable.jsonl');
    await fs.writeFile(unreadable, [...(exp.body as string).split('\n').slice(0, 4), '{"type": "transfer", "seq": 4,'].join('\n'));
    const u = await runCli([unreadable]);
    expect(u.code).to.equal(2);
    expect(u.out).to.include('line 5: not JSON');
    const empty = path.join(dir, 'empty.jsonl');
    await fs.writeFile(empty, '');
    const e = await runCli([empty]);
    expect(e.code, 'an empty file is not an export that verifies').to.equal(2);
    expect(e.out).to.include('line 1: the file is empty');
  });
});

async function expectRefused(f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch (err) {
    expect(err).to.include({ status: 409, key: 'checkpoints.journal_invalid' });
    return;
  }
  throw new Error('expected the checkpoint to be refused');
}
