/**
 * A transfer's inclusion proof end to end against the embedded store:
 * downloaded from the console (first covering checkpoint; refused before
 * any checkpoint covers it, for other roles, and when the journal no longer
 * matches its checkpoint), checked by the domain and by the stand-alone CLI
 * — and a proof edited in any way fails, naming why.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import mongoose from 'mongoose';
import { acct } from '../../server/domain/ledger-chart.js';
import { checkInclusionProof, type InclusionProof } from '../../server/domain/ledger-proof.js';
import { canonical, chainHash } from '../../server/domain/ledger-record.js';
import { issueCheckpoint } from '../../server/services/fund/checkpoints.js';
import { post } from '../../server/services/fund/ledger.js';
import { journalRecordOf } from '../../server/services/fund/ledger-post.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { generateSigningKeyPem, installLedgerSigner, signerFromPem, type LedgerSigner } from '../../server/services/fund/signing-key.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DEMO, signedIn, type Agent } from '../integration/helpers.js';

const UNIV = '64b000000000000000000001';
const LIC = '64b0000000000000000000a1';
let n = 0;
const accrue = (fen: number) => post({ kind: 'transfer', key: `proof-${n++}`, code: 'ACCRUAL', phase: 'posted', maker: null, effectiveAt: new Date('2026-01-05T02:00:00Z'), refs: { licence: LIC, institution: UNIV },
  entries: [{ account: acct.receivable(LIC), side: 'debit', amountFen: fen }, { account: acct.revenue(UNIV), side: 'credit', amountFen: fen }] });

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['server/verify-ledger.cjs', ...args]);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('transfer inclusion proofs', function () {
  this.timeout(60_000);
  let h: AppHarness;
  let signer: LedgerSigner;
  const agents = {} as Record<'regulator' | 'fund_manager' | 'sme' | 'tto', Agent>;
  const proofOf = async (seq: number | string, who: Agent = agents.regulator) => who.get(`/fund/ledger/${seq}/proof.json`);

  before(async () => {
    h = await startApp();
    await loadDemo();
    signer = signerFromPem(generateSigningKeyPem());
    installLedgerSigner(signer);
    for (const role of ['regulator', 'fund_manager', 'sme', 'tto'] as const) agents[role] = await signedIn(h, DEMO[role]);
    for (const c of ['ledgertransfers', 'ledgeraccounts', 'ledgerheads', 'ledgerrollups', 'ledgercheckpoints']) await mongoose.connection.db!.collection(c).deleteMany({});
  });
  after(async () => {
    installLedgerSigner(null);
    await h.stop();
  });

  it('none before a checkpoint covers the transfer; then against the first that does, verifying with the ledger\'s key', async () => {
    for (const fen of [100, 200, 300, 400, 500]) await accrue(fen);
    const early = await proofOf(3);
    expect(early.status).to.equal(409);
    expect(early.text).to.match(/尚无检查点覆盖转账 3|No checkpoint covers transfer 3/);

    await issueCheckpoint(signer, 'schedule');
    for (const fen of [600, 700]) await accrue(fen);
    await issueCheckpoint(signer, 'schedule');
    for (const [seq, size] of [[3, 5], [5, 5], [6, 7], [1, 5]] as const) {
      const res = await proofOf(seq);
      expect(res.status, `seq ${seq}`).to.equal(200);
      expect(res.headers['content-disposition']).to.include(`yrd-fund-ledger-proof-seq${seq}-checkpoint${size}.json`);
      const proof = JSON.parse(res.text) as InclusionProof;
      expect(proof).to.include({ leafIndex: seq - 1, treeSize: size });
      expect(proof.transfer).to.deep.equal(journalRecordOf((await LedgerTransfer.findOne({ seq }).lean())!));
      expect(checkInclusionProof(proof, [signer.publicKeyPem]), `seq ${seq}`).to.deep.equal({ ok: true, problems: [], keySource: 'trusted' });
    }
    expect((await proofOf(3, agents.fund_manager)).status).to.equal(200);
    const page = await agents.regulator.get('/fund/ledger/3');
    expect(page.text).to.include('href="/fund/ledger/3/proof.json" data-link="proof"');
  });

  it('refused to other roles, for a seq that is not one or does not exist', async () => {
    expect((await proofOf(3, agents.sme)).status).to.equal(403);
    expect((await proofOf(3, agents.tto)).status).to.equal(403);
    expect((await proofOf('abc')).status).to.equal(400);
    expect((await proofOf(99)).status).to.equal(404);
  });

  it('the CLI checks a proof; an edited transfer, a rewritten one, a bent path or a foreign key fail, naming why', async () => {
    const dir = await fs.mkdtemp(path.join(h.dir, 'proofs-'));
    const proof = JSON.parse((await proofOf(3)).text) as InclusionProof;
    const keyFile = path.join(dir, 'key.pem');
    await fs.writeFile(keyFile, signer.publicKeyPem);
    const run = async (name: string, p: unknown, key = keyFile) => {
      const file = path.join(dir, `${name}.json`);
      await fs.writeFile(file, JSON.stringify(p));
      return runCli(['--proof', file, '--public-key', key]);
    };
    const ok = await run('genuine', proof);
    expect(ok.out).to.include('VERDICT: OK — the transfer, exactly as written, is in the journal the checkpoint signed.');
    expect(ok.code).to.equal(0);

    const edited = { ...proof, transfer: { ...proof.transfer, memo: 'edited' } };
    const e = await run('edited', edited);
    expect(e.code).to.equal(1);
    expect(e.out).to.include('Transfer 3 was altered: its hash does not match its contents.');

    const rewrittenRecord = { ...proof.transfer, memo: 'rewritten' };
    const rewritten = { ...proof, transfer: { ...rewrittenRecord, hash: chainHash(rewrittenRecord.prevHash, canonical(rewrittenRecord)) } };
    expect((await run('rewritten', rewritten)).out).to.include('The audit path does not lead from transfer 3 to the checkpoint\'s root');

    const bent = { ...proof, auditPath: [...proof.auditPath].reverse() };
    expect((await run('bent', bent)).out).to.include('The audit path does not lead');

    const otherKey = path.join(dir, 'other.pem');
    await fs.writeFile(otherKey, signerFromPem(generateSigningKeyPem()).publicKeyPem);
    expect((await run('foreign', proof, otherKey)).out).to.include(`is signed with key ${signer.keyId}, which is not among the keys you gave`);

    const notJson = path.join(dir, 'not.json');
    await fs.writeFile(notJson, '{');
    const u = await runCli(['--proof', notJson]);
    expect(u.code).to.equal(2);
    expect(u.out).to.include('not JSON');
  });

  it('no proof for a journal that no longer matches its checkpoint', async () => {
    await mongoose.connection.db!.collection('ledgertransfers').updateOne({ seq: 2 }, { $set: { memo: 'changed behind the service' } });
    const res = await proofOf(4);
    expect(res.status).to.equal(409);
    expect(res.text).to.match(/截至序号 5 的日记账已与其签名检查点不符|no longer matches its signed checkpoint/);
  });
});
