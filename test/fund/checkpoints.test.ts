/**
 * Signed checkpoints end to end against the embedded store: the signing key
 * (configuration, generation under DATA_DIR, key id), issuing on demand
 * (audited; refused for other roles and without a key), the nightly job,
 * downloads checked with nothing but node:crypto, the check of an uploaded
 * checkpoint file (genuine → 200; forged, foreign or malformed → 422 and
 * nothing written), "as of" exports that are byte-for-byte reproducible,
 * and reconciliation breaks shown on the console page.
 */
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import mongoose, { Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { LedgerCheckpoint } from '../../models/ledger-checkpoint.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { User } from '../../models/user.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { acct } from '../../server/domain/ledger-chart.js';
import { checkpointText, pemBlocks } from '../../server/domain/ledger-checkpoint-text.js';
import { canonical } from '../../server/domain/ledger-record.js';
import { verifyExport } from '../../server/domain/ledger-verify-read.js';
import { merkleRoot } from '../../server/domain/merkle.js';
import { ForbiddenError } from '../../server/errors.js';
import { runFundCheckpoint } from '../../server/jobs/fund-checkpoint.js';
import type { Ctx } from '../../server/services/context.js';
import { checkCheckpointFile, checkpointFile, issueCheckpoint, requestCheckpoint, verifyLedger } from '../../server/services/fund/checkpoints.js';
import { post } from '../../server/services/fund/ledger.js';
import { ledgerExport } from '../../server/services/fund/ledger-export.js';
import { applyCommands, journalRecordOf } from '../../server/services/fund/ledger-post.js';
import { generateSigningKeyPem, installLedgerSigner, loadLedgerSigner, signerFromPem, SIGNING_KEY_FILE, type LedgerSigner } from '../../server/services/fund/signing-key.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { csrfOf, DEMO, signedIn, type Agent } from '../integration/helpers.js';

const UNIV = '64b000000000000000000001';
const LIC = '64b0000000000000000000a1';
const at = new Date('2026-01-05T02:00:00Z');

const ctxAs = (role: 'regulator' | 'fund_manager' | 'sme'): Ctx => ({
  actor: { userId: new Types.ObjectId(), email: `${role}@example.cn`, role, orgId: new Types.ObjectId(), orgVerified: true, orgAdmin: true },
  meta: { requestId: 't', ip: '' },
});

let n = 0;
const accrue = (fen: number) => post({ kind: 'transfer', key: `acc-${n++}`, code: 'ACCRUAL', phase: 'posted', maker: null, effectiveAt: at, refs: { licence: LIC, institution: UNIV },
  entries: [{ account: acct.receivable(LIC), side: 'debit', amountFen: fen }, { account: acct.revenue(UNIV), side: 'credit', amountFen: fen }] });
/** Transfers recorded at a chosen moment (the service stamps recordedAt with its clock). */
const accrueRecordedAt = (when: Date, fen: number) => mongoose.connection.transaction((session) => applyCommands([{ kind: 'transfer', key: `acc-${n++}`, code: 'ACCRUAL', phase: 'posted', maker: null, effectiveAt: when,
  entries: [{ account: acct.receivable(LIC), side: 'debit', amountFen: fen }, { account: acct.revenue(UNIV), side: 'credit', amountFen: fen }] }], session, { now: when }));

const textBody = (res: NodeJS.ReadableStream & { setEncoding(e: string): void }, cb: (err: Error | null, body: string) => void) => {
  let data = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (data += c));
  res.on('end', () => cb(null, data));
};
const exportText = async (ctx: Ctx, asOf: string | undefined, signer: LedgerSigner | null) => {
  let text = '';
  for await (const chunk of (await ledgerExport(ctx, asOf, signer)).chunks) text += chunk;
  return text;
};

describe('ledger signing key', () => {
  it('LEDGER_SIGNING_KEY takes a PEM (line breaks as \\n too) or a file, refuses anything else, and is required in production with MONGODB_URI', async () => {
    const pem = generateSigningKeyPem();
    expect(loadConfig({ LEDGER_SIGNING_KEY: pem }).ledgerSigningKey).to.equal(pem.trim());
    expect(loadConfig({ LEDGER_SIGNING_KEY: pem.replace(/\n/g, '\\n') }).ledgerSigningKey!.trim()).to.equal(pem.trim());
    const dir = await fs.mkdtemp(path.join(process.cwd(), 'test-output', 'key-'));
    try {
      await fs.writeFile(path.join(dir, 'k.pem'), pem);
      expect(loadConfig({ LEDGER_SIGNING_KEY: path.join(dir, 'k.pem') }).ledgerSigningKey).to.equal(pem);
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      for (const bad of [path.join(dir, 'missing.pem'), '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----', rsa]) {
        expect(() => loadConfig({ LEDGER_SIGNING_KEY: bad })).to.throw(ConfigError, /LEDGER_SIGNING_KEY/);
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    expect(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 's'.repeat(40), MONGODB_URI: 'mongodb://db/x' })).to.throw(ConfigError, /LEDGER_SIGNING_KEY is required/);
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 's'.repeat(40) }).ledgerSigningKey).to.equal(null);
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 's'.repeat(40), MONGODB_URI: 'mongodb://db/x', LEDGER_SIGNING_KEY: pem }).ledgerSigningKey).to.equal(pem.trim());
  });

  it('LEDGER_RETIRED_KEYS takes the public keys a rotation replaced — inline, one or more blocks, or a file — and names a bad one', async () => {
    const [a, b] = [signerFromPem(generateSigningKeyPem()), signerFromPem(generateSigningKeyPem())];
    expect(loadConfig({}).ledgerRetiredKeys).to.deep.equal([]);
    expect(loadConfig({ LEDGER_RETIRED_KEYS: a.publicKeyPem }).ledgerRetiredKeys).to.deep.equal([a.publicKeyPem]);
    expect(loadConfig({ LEDGER_RETIRED_KEYS: (a.publicKeyPem + b.publicKeyPem).replace(/\n/g, '\\n') }).ledgerRetiredKeys).to.deep.equal([a.publicKeyPem, b.publicKeyPem]);
    const dir = await fs.mkdtemp(path.join(process.cwd(), 'test-output', 'retired-'));
    try {
      await fs.writeFile(path.join(dir, 'old.pem'), `${a.publicKeyPem}\n${b.publicKeyPem}`);
      expect(loadConfig({ LEDGER_RETIRED_KEYS: path.join(dir, 'old.pem') }).ledgerRetiredKeys).to.deep.equal([a.publicKeyPem, b.publicKeyPem]);
      expect(() => loadConfig({ LEDGER_RETIRED_KEYS: path.join(dir, 'missing.pem') })).to.throw(ConfigError, /LEDGER_RETIRED_KEYS must be PEM public keys or the path of a file of them/);
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
      expect(() => loadConfig({ LEDGER_RETIRED_KEYS: a.publicKeyPem + rsa })).to.throw(ConfigError, /LEDGER_RETIRED_KEYS: key 2 of 2 is not an Ed25519 public key/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('unset: generated once under DATA_DIR (mode 0600) and the same key on every start; an unusable file is never replaced', async () => {
    const dir = await fs.mkdtemp(path.join(process.cwd(), 'test-output', 'keys-'));
    try {
      const first = await loadLedgerSigner({ configuredPem: null, dataDir: dir });
      const file = path.join(dir, SIGNING_KEY_FILE);
      expect((await fs.stat(file)).mode & 0o777).to.equal(0o600);
      expect((await loadLedgerSigner({ configuredPem: null, dataDir: dir })).keyId).to.equal(first.keyId);
      const spki = createPublicKey(first.publicKeyPem).export({ type: 'spki', format: 'der' });
      expect(first.keyId).to.equal(createHash('sha256').update(spki).digest('hex').slice(0, 16));
      const configured = generateSigningKeyPem();
      expect((await loadLedgerSigner({ configuredPem: configured, dataDir: dir })).keyId).to.equal(signerFromPem(configured).keyId);
      await fs.writeFile(file, 'garbage');
      let refused = false;
      await loadLedgerSigner({ configuredPem: null, dataDir: dir }).catch(() => (refused = true));
      expect(refused).to.equal(true);
      expect(await fs.readFile(file, 'utf8')).to.equal('garbage');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ledger checkpoints', function () {
  let h: AppHarness;
  let signer: LedgerSigner;
  const agents = {} as Record<'regulator' | 'fund_manager' | 'sme' | 'tto' | 'admin', Agent>;

  before(async () => {
    h = await startApp();
    await loadDemo();
    signer = signerFromPem(generateSigningKeyPem());
    for (const role of ['regulator', 'fund_manager', 'sme', 'tto', 'admin'] as const) agents[role] = await signedIn(h, DEMO[role]);
  });
  beforeEach(async () => {
    installLedgerSigner(signer);
    for (const c of ['ledgertransfers', 'ledgeraccounts', 'ledgerheads', 'ledgerrollups', 'ledgercheckpoints']) await mongoose.connection.db!.collection(c).deleteMany({});
    await AuditEvent.deleteMany({ action: { $in: ['ledger.checkpoint_issued', 'ledger.reconciled'] } });
  });
  after(async () => {
    installLedgerSigner(null);
    await h.stop();
  });

  it('a fund manager signs one now: root over the records, head hash, a signature node:crypto accepts, and an audit row', async () => {
    for (const fen of [100, 200, 300, 400, 500]) await accrue(fen);
    const _csrf = await csrfOf(agents.fund_manager, '/fund/checkpoints');
    const res = await agents.fund_manager.post('/fund/checkpoints').type('form').send({ _csrf });
    expect(res.status).to.equal(303);
    const cp = (await LedgerCheckpoint.findOne().lean())!;
    const records = (await LedgerTransfer.find().sort({ seq: 1 }).lean()).map(journalRecordOf);
    expect(cp).to.include({ seq: 5, headHash: records[4]!.hash, keyId: signer.keyId, root: merkleRoot(records.map((r) => canonical(r))).toString('hex') });
    const fm = await User.findOne({ email: DEMO.fund_manager }).lean();
    expect(cp.issuedBy).to.equal(String(fm!._id));
    const text = checkpointText({ ledger: 'CNY', seq: 5, root: cp.root, headHash: cp.headHash, time: cp.time.toISOString() });
    expect(verify(null, Buffer.from(text), createPublicKey(signer.publicKeyPem), Buffer.from(cp.signature, 'base64'))).to.equal(true);
    expect(await AuditEvent.countDocuments({ action: 'ledger.checkpoint_issued', targetId: String(cp._id) })).to.equal(1);
    const page = await agents.fund_manager.get('/fund/checkpoints');
    expect(page.text).to.include(`id="checkpoint-${String(cp._id)}"`);
    expect(page.text).to.include('已在序号 5 处签发检查点');
  });

  it('only regulators and fund managers see, issue, download or check; others get 403 and nothing is written', async () => {
    await accrue(100);
    expect((await agents.regulator.get('/fund/checkpoints')).status).to.equal(200);
    expect((await h.agent().get('/fund/checkpoints')).headers.location).to.equal('/login');
    for (const role of ['sme', 'tto', 'admin'] as const) {
      expect((await agents[role].get('/fund/checkpoints')).status, role).to.equal(403);
      expect((await agents[role].get('/fund/checkpoints/key.pem')).status, role).to.equal(403);
      expect((await agents[role].get('/fund/ledger/export.jsonl')).status, role).to.equal(403);
      const _csrf = await csrfOf(agents[role], '/');
      for (const p of ['/fund/checkpoints', '/fund/checkpoints/verify', '/fund/checkpoints/reconcile', '/fund/checkpoints/check']) {
        expect((await agents[role].post(p).type('form').send({ _csrf, checkpoint: '{}' })).status, `${role} ${p}`).to.equal(403);
      }
    }
    expect(await LedgerCheckpoint.countDocuments()).to.equal(0);
    let denied: unknown = null;
    await requestCheckpoint(ctxAs('sme'), signer).catch((e) => (denied = e));
    expect(denied).to.be.instanceOf(ForbiddenError);
  });

  it('without a signing key nothing is signed (503, said on the page) and nothing is written', async () => {
    await accrue(100);
    installLedgerSigner(null);
    const _csrf = await csrfOf(agents.regulator, '/fund/checkpoints');
    const res = await agents.regulator.post('/fund/checkpoints').type('form').send({ _csrf });
    expect(res.status).to.equal(503);
    expect(res.text).to.include('账本签名密钥未加载');
    expect(await LedgerCheckpoint.countDocuments()).to.equal(0);
  });

  it('downloads: the checkpoint JSON and the key verify with node:crypto alone; an unknown id is 404', async () => {
    await accrue(100);
    await requestCheckpoint(ctxAs('regulator'), signer);
    const cp = (await LedgerCheckpoint.findOne().lean())!;
    const file = await agents.regulator.get(`/fund/checkpoints/${String(cp._id)}.json`);
    expect(file.status).to.equal(200);
    const json = JSON.parse(file.text);
    expect(json).to.include({ format: 'yrd-fund-ledger-checkpoint/1', ledger: 'CNY', seq: 1, keyId: signer.keyId });
    const key = await agents.regulator.get('/fund/checkpoints/key.pem').buffer(true).parse(textBody as never);
    expect(key.body).to.equal(signer.publicKeyPem);
    expect(verify(null, Buffer.from(checkpointText(json)), createPublicKey(key.body as string), Buffer.from(json.signature, 'base64'))).to.equal(true);
    expect((await agents.regulator.get(`/fund/checkpoints/${String(new Types.ObjectId())}.json`)).status).to.equal(404);
    expect((await agents.regulator.get('/fund/checkpoints/not-an-id.json')).status).to.equal(404);
  });

  it('checks an uploaded checkpoint: genuine → 200; forged, foreign-key, beyond-the-journal or malformed → 422, nothing written', async () => {
    for (const fen of [100, 200, 300]) await accrue(fen);
    await requestCheckpoint(ctxAs('regulator'), signer);
    const cp = (await LedgerCheckpoint.findOne().lean())!;
    const genuine = JSON.parse((await agents.regulator.get(`/fund/checkpoints/${String(cp._id)}.json`)).text);
    const before = { checkpoints: await LedgerCheckpoint.countDocuments(), audit: await AuditEvent.countDocuments() };
    const check = async (body: string, asFile = false) => {
      const _csrf = await csrfOf(agents.regulator, '/fund/checkpoints');
      const req = agents.regulator.post('/fund/checkpoints/check');
      return asFile ? req.field('_csrf', _csrf).attach('file', Buffer.from(body), 'checkpoint.json') : req.type('form').send({ _csrf, checkpoint: body });
    };
    const ok = await check(JSON.stringify(genuine), true);
    expect(ok.status).to.equal(200);
    expect(ok.text).to.include('data-verdict="ok"');
    expect(ok.text).to.include(`由账本密钥 ${signer.keyId} 签名`);

    const forged = await check(JSON.stringify({ ...genuine, root: 'ab'.repeat(32) }));
    expect(forged.status).to.equal(422);
    expect(forged.text).to.include('data-code="checkpoint_signature"');
    expect(forged.text).to.include('签名对密钥');

    const intruder = signerFromPem(generateSigningKeyPem());
    const body = { ledger: 'CNY', seq: genuine.seq, root: genuine.root, headHash: genuine.headHash, time: genuine.time };
    const foreign = await check(JSON.stringify({ ...body, signature: intruder.sign(checkpointText(body)), keyId: intruder.keyId, publicKey: intruder.publicKeyPem }), true);
    expect(foreign.status).to.equal(422);
    expect(foreign.text).to.include('data-code="checkpoint_untrusted_key"');

    const beyond = await check(JSON.stringify({ ...genuine, seq: 99 }));
    expect(beyond.status).to.equal(422);
    expect(beyond.text).to.include('日记账只有 3 笔转账');
    for (const [bad, says] of [['{"seq": 3,', '内容不是 JSON 对象'], [JSON.stringify({ ...genuine, root: 'xyz' }), '格式有误'], ['', '请先选择检查点文件']] as const) {
      const r = await check(bad);
      expect(r.status, bad).to.equal(422);
      expect(r.text, bad).to.include(says);
    }
    expect({ checkpoints: await LedgerCheckpoint.countDocuments(), audit: await AuditEvent.countDocuments() }).to.deep.equal(before);
  });

  it('an export "as of" a past day is the journal recorded by then, reproducible byte for byte, and verifies', async () => {
    const day = (iso: string) => new Date(iso);
    for (const fen of [100, 200, 300]) await accrueRecordedAt(day('2026-01-10T03:00:00Z'), fen);
    await issueCheckpoint(signer, 'schedule', { now: day('2026-01-10T14:00:00Z') });
    for (const fen of [400, 500]) await accrueRecordedAt(day('2026-01-12T03:00:00Z'), fen);
    await issueCheckpoint(signer, 'schedule', { now: day('2026-01-12T14:00:00Z') });
    await accrue(600);
    const ctx = ctxAs('regulator');
    const first = await exportText(ctx, '2026-01-11', signer);
    const lines = first.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).to.include({ type: 'header', asOf: '2026-01-11', exportedThroughSeq: 3 });
    expect(lines.map((l) => l.type)).to.deep.equal(['header', 'transfer', 'transfer', 'transfer', 'checkpoint']);
    await accrue(700);
    await requestCheckpoint(ctx, signer);
    expect(await exportText(ctx, '2026-01-11', signer)).to.equal(first);
    const through12 = await exportText(ctx, '2026-01-12', signer);
    expect(through12.split('\n').filter((l) => l.startsWith('{"type":"checkpoint"')).length).to.equal(2);
    const verdict = await verifyExport(async function* () {
      yield through12.trim().split('\n');
    }, { trustedKeys: [signer.publicKeyPem] });
    expect(verdict).to.include({ ok: true, transfers: 5, checkpoints: 2 });
    const current = await exportText(ctx, undefined, signer);
    expect(current.split('\n').filter((l) => l.startsWith('{"type":"account"')).length).to.equal(2);
    for (const [asOf, key] of [['2026-13-01', '不是日期'], ['yesterday', '不是日期'], ['2999-01-01', '尚未结束']] as const) {
      const res = await agents.regulator.get(`/fund/ledger/export.jsonl?asOf=${asOf}`);
      expect(res.status, asOf).to.equal(422);
      expect(res.text, asOf).to.include(key);
    }
  });

  it('reconciliation: clean, then every break named (a stored counter, a day total, a clearing balance) and shown on the page', async () => {
    await accrue(1_000);
    const clean = await runFundCheckpoint({ signer, logger: { error: () => {} } });
    expect(clean.checkpointSeq).to.equal(1);
    expect(clean.reconciliation.breakCount).to.equal(0);
    expect((await runFundCheckpoint({ signer, logger: { error: () => {} } })).checkpointSeq, 'nothing new: no second checkpoint').to.equal(null);
    await post({ kind: 'transfer', key: 'pay-1', code: 'PAYMENT', phase: 'posted', maker: null, effectiveAt: at, entries: [
      { account: acct.clearing(), side: 'debit', amountFen: 400 }, { account: acct.receivable(LIC), side: 'credit', amountFen: 400 }] });
    await mongoose.connection.db!.collection('ledgeraccounts').updateOne({ key: acct.revenue(UNIV) }, { $inc: { creditsPosted: 1 } });
    await mongoose.connection.db!.collection('ledgerrollups').updateOne({ kind: 'receivable', code: 'ACCRUAL' }, { $inc: { count: 5 } });
    const errors: string[] = [];
    const run = await runFundCheckpoint({ signer, logger: { error: (m: string) => errors.push(m) } });
    const breaks = run.reconciliation.breaks.map((b) => `${b.kind} ${b.subject} ${b.field} ${b.stored}/${b.expected}`);
    expect(breaks).to.have.members([
      `account ${acct.revenue(UNIV)} creditsPosted 1001/1000`,
      'rollup d|2026-01-05|receivable|ACCRUAL count 6/1',
      'zero_at_close clearing:settlement balance 400/0',
    ]);
    expect(errors.join('\n')).to.match(/LEDGER RECONCILIATION: 3 break\(s\) through seq 2/);
    const page = await agents.regulator.get('/fund/checkpoints');
    expect(page.text).to.include('id="reconcile-breaks"');
    expect(page.text).to.include('发现 3 处差异');
    const _csrf = await csrfOf(agents.regulator, '/fund/checkpoints');
    const res = await agents.regulator.post('/fund/checkpoints/reconcile').type('form').send({ _csrf });
    expect(res.status).to.equal(303);
    expect(await AuditEvent.countDocuments({ action: 'ledger.reconciled' })).to.equal(4);
  });

  it('the nightly job refuses to sign a journal that no longer verifies, loudly', async () => {
    for (const fen of [100, 200]) await accrue(fen);
    await mongoose.connection.db!.collection('ledgertransfers').updateOne({ seq: 1 }, { $set: { memo: 'edited' } });
    const errors: string[] = [];
    const run = await runFundCheckpoint({ signer, logger: { error: (m: string) => errors.push(m) } });
    expect(run.checkpointSeq).to.equal(null);
    expect(await LedgerCheckpoint.countDocuments()).to.equal(0);
    expect(errors[0]).to.match(/LEDGER CHECKPOINT REFUSED: the journal does not verify \(first bad seq 1/);
    const _csrf = await csrfOf(agents.regulator, '/fund/checkpoints');
    const refused = await agents.regulator.post('/fund/checkpoints').type('form').send({ _csrf });
    expect(refused.status).to.equal(409);
    expect(refused.text).to.include('未签发检查点：日记账核验未通过（首个问题序号 1');
  });
  it('after a key rotation the retired key\'s checkpoints still count once it is declared retired: console check, uploaded file, key download and the CLI', async function () {
    this.timeout(60_000);
    for (const fen of [100, 200]) await accrue(fen);
    const old = await issueCheckpoint(signer, 'schedule');
    const nextPem = generateSigningKeyPem();
    const forgetful = signerFromPem(nextPem);
    const rotated = signerFromPem(nextPem, [signer.publicKeyPem]);
    await accrue(300);
    // Signing goes on with the new key either way.
    await issueCheckpoint(rotated, 'schedule');
    const oldFile = JSON.stringify(await checkpointFile(ctxAs('regulator'), String(old._id)));

    // The old key not declared: its checkpoint is named as signed by a key the ledger does not trust.
    const undeclared = await verifyLedger(ctxAs('regulator'), forgetful);
    expect(undeclared.problems.map((p) => `${p.code}@${p.seq}`)).to.deep.equal(['checkpoint_untrusted_key@2']);
    expect((await checkCheckpointFile(ctxAs('regulator'), oldFile, forgetful)).valid).to.equal(false);

    const declared = await verifyLedger(ctxAs('regulator'), rotated);
    expect(declared).to.include({ ok: true, checkpoints: 2, keySource: 'trusted' });
    expect((await checkCheckpointFile(ctxAs('regulator'), oldFile, rotated)).valid).to.equal(true);

    installLedgerSigner(rotated);
    const key = await agents.regulator.get('/fund/checkpoints/key.pem').buffer(true).parse(textBody as never);
    expect(key.status).to.equal(200);
    expect(pemBlocks(key.body as string), 'the current key first, then the retired one').to.deep.equal([rotated.publicKeyPem, signer.publicKeyPem]);
    const dir = await fs.mkdtemp(path.join(h.dir, 'rotated-'));
    const [exportFile, keyFile] = [path.join(dir, 'export.jsonl'), path.join(dir, 'keys.pem')];
    await fs.writeFile(exportFile, await exportText(ctxAs('regulator'), undefined, rotated));
    await fs.writeFile(keyFile, key.body as string);
    const cli = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['server/verify-ledger.cjs', exportFile, '--public-key', keyFile]);
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(cli.out).to.include('Checkpoints checked: 2, signatures against the public key(s) you gave');
    expect(cli.out).to.include('VERDICT: OK');
    expect(cli.code).to.equal(0);
  });
});
