/**
 * The offline verifier on hand-built journals: a realistic clean journal
 * (appropriation, accrual, payment, default, two-phase compensation with a
 * partial post, a voided subsidy, payout, recovery, a reversal) verifies;
 * then each way a journal, a checkpoint or an export can be wrong is built
 * on purpose and must be reported with its code and the seq at fault. Also:
 * the lean canonical text and Merkle root agree with the reference ones in
 * ledger-record.ts and merkle.ts, and unreadable input names its line.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { acct } from '../../server/domain/ledger-chart.js';
import { checkpointText, keyIdOf, type CheckpointClaim } from '../../server/domain/ledger-checkpoint-text.js';
import { canonical, chainHash, emptyRefs, GENESIS_HASH, type JournalEntry, type JournalRecord, type TransferPhase } from '../../server/domain/ledger-record.js';
import { UnreadableExportError, verifyExport } from '../../server/domain/ledger-verify-read.js';
import { EXPORT_FORMAT, fastCanonical, plainJsonLine, LedgerVerifier, type AccountLine, type ExportLine, type VerifyResult } from '../../server/domain/ledger-verify.js';
import { merkleRoot } from '../../server/domain/merkle.js';
import { mergeResults } from '../../server/ledger-verify-file.js';
import { generateSigningKeyPem, signerFromPem, type LedgerSigner } from '../../server/services/fund/signing-key.js';

const UNIV = '64b000000000000000000001';
const SME = '64b000000000000000000002';
const LIC = '64b0000000000000000000a1';
const CLAIM = '64b0000000000000000000c1';
const T0 = Date.parse('2026-03-01T02:00:00.000Z');

const d = (account: string, amountFen: number): JournalEntry => ({ account, side: 'debit', amountFen });
const c = (account: string, amountFen: number): JournalEntry => ({ account, side: 'credit', amountFen });

interface Spec {
  code: JournalRecord['code'];
  phase?: TransferPhase;
  entries: JournalEntry[];
  pendingSeq?: number;
  reverses?: number;
}

/** Records 1..n with seqs, times and a valid hash chain. */
function journal(specs: Spec[]): JournalRecord[] {
  const out: JournalRecord[] = [];
  let prev = GENESIS_HASH;
  specs.forEach((s, i) => {
    const at = new Date(T0 + i * 60_000).toISOString();
    const base = {
      seq: i + 1, key: `k-${i + 1}`, code: s.code, phase: s.phase ?? 'posted', entries: s.entries, pendingSeq: s.pendingSeq ?? null, reverses: s.reverses ?? null,
      refs: { ...emptyRefs(), licence: LIC, institution: UNIV, province: 'SH', field: 'ai' }, memo: `transfer ${i + 1}`, maker: null, checker: null, effectiveAt: at, recordedAt: at,
    };
    const hash = chainHash(prev, canonical(base));
    out.push({ ...base, prevHash: prev, hash });
    prev = hash;
  });
  return out;
}

/** Recomputes every hash from index `from` on, as someone rewriting history would. */
function rechain(records: JournalRecord[], from = 0): JournalRecord[] {
  let prev = from ? records[from - 1]!.hash : GENESIS_HASH;
  return records.map((r, i) => {
    if (i < from) return r;
    const hash = chainHash(prev, canonical(r));
    const next = { ...r, prevHash: prev, hash };
    prev = hash;
    return next;
  });
}

function checkpointAt(records: JournalRecord[], seq: number, signer: LedgerSigner, time = new Date(T0 + 86_400_000).toISOString()): CheckpointClaim {
  const body = { ledger: 'CNY', seq, root: merkleRoot(records.slice(0, seq).map((r) => canonical(r))).toString('hex'), headHash: seq ? records[seq - 1]!.hash : GENESIS_HASH, time };
  return { ...body, signature: signer.sign(checkpointText(body)), keyId: signer.keyId, publicKey: signer.publicKeyPem, issuedBy: 'schedule' };
}

/** The clean journal: every kind of posting the fund makes. */
const SPECS: Spec[] = [
  { code: 'APPROPRIATION', entries: [d(acct.bank(), 1_000_000), c(acct.pool(), 1_000_000)] },
  { code: 'ACCRUAL', entries: [d(acct.receivable(LIC), 50_000), c(acct.revenue(UNIV), 50_000)] },
  { code: 'PAYMENT', entries: [d(acct.clearing(), 20_000), c(acct.receivable(LIC), 20_000)] },
  { code: 'DEFAULT', entries: [d(acct.overdue(LIC), 30_000), c(acct.receivable(LIC), 30_000)] },
  { code: 'COMPENSATION', phase: 'pending', entries: [d(acct.pool(), 24_000), c(acct.compPayable(UNIV), 24_000), d(acct.recoveryRights(CLAIM), 24_000), c(acct.recoveryOffset(), 24_000)] },
  { code: 'COMPENSATION', phase: 'post', pendingSeq: 5, entries: [d(acct.pool(), 20_000), c(acct.compPayable(UNIV), 20_000), d(acct.recoveryRights(CLAIM), 20_000), c(acct.recoveryOffset(), 20_000)] },
  { code: 'SUBSIDY', phase: 'pending', entries: [d(acct.pool(), 5_000), c(acct.subsidyPayable(SME), 5_000)] },
  { code: 'SUBSIDY', phase: 'void', pendingSeq: 7, entries: [d(acct.pool(), 5_000), c(acct.subsidyPayable(SME), 5_000)] },
  { code: 'PAYOUT', entries: [d(acct.compPayable(UNIV), 20_000), c(acct.bank(), 20_000)] },
  { code: 'RECOVERY', entries: [d(acct.clearing(), 10_000), c(acct.overdue(LIC), 10_000)] },
  { code: 'APPROPRIATION', entries: [d(acct.bank(), 1_000), c(acct.pool(), 1_000)] },
  { code: 'REVERSAL', reverses: 11, entries: [c(acct.bank(), 1_000), d(acct.pool(), 1_000)] },
];

let signer: LedgerSigner;
let other: LedgerSigner;

type Item = { transfer: JournalRecord } | { checkpoint: CheckpointClaim } | { account: AccountLine };

/**
 * One verification of `records`, run whole and as the CLI runs it on two
 * threads (ledger-verify-file.ts) split before every item in turn — the
 * chain half over the items before the split, the balances half over all of
 * them with the chain's tail from the split on — which must all agree.
 */
function verify(records: JournalRecord[], opts: { checkpoints?: CheckpointClaim[]; accounts?: AccountLine[]; through?: number; trusted?: string[] } = {}): VerifyResult {
  const cps = opts.checkpoints ?? [];
  // The export's items in file order; checkpoints beyond the last record come after it, as in an export whose tail was cut off.
  const items: Item[] = cps.filter((x) => x.seq === 0).map((checkpoint) => ({ checkpoint }));
  for (const r of records) items.push({ transfer: r }, ...cps.filter((x) => x.seq === r.seq).map((checkpoint) => ({ checkpoint })));
  items.push(...cps.filter((x) => x.seq > (records.at(-1)?.seq ?? 0)).map((checkpoint) => ({ checkpoint })));
  items.push(...(opts.accounts ?? []).map((account) => ({ account })));
  const verifier = (part?: 'chain' | 'balances') => {
    const v = new LedgerVerifier({ trustedKeys: opts.trusted ?? [signer.publicKeyPem], part });
    v.setHeader({ type: 'header', format: EXPORT_FORMAT, ledger: 'CNY', asOf: null, exportedThroughSeq: opts.through ?? records.length, publicKeys: [signer.publicKeyPem] });
    return v;
  };
  const feed = (v: LedgerVerifier, item: Item) => ('transfer' in item ? v.transfer(item.transfer) : 'checkpoint' in item ? v.checkpoint(item.checkpoint) : v.account(item.account));
  const whole = verifier();
  for (const item of items) feed(whole, item);
  const expected = whole.finish();
  const sorted = (r: VerifyResult) => r.problems.map((p) => `${p.seq}|${p.code}|${p.message}`).sort();
  for (let cut = 0; cut <= items.length; cut++) {
    const chain = verifier('chain');
    const balances = verifier('balances');
    items.forEach((item, i) => {
      if (i === cut) balances.beginTail();
      if (i < cut) feed(chain, item);
      feed(balances, item);
    });
    if (cut === items.length) balances.beginTail();
    chain.resumeTail(balances.takeTail()!);
    const merged = mergeResults(chain.finish(), balances.finish(), 100);
    expect({ ...merged, problems: sorted(merged) }, `the two halves split before item ${cut} = the whole`).to.deep.equal({ ...expected, problems: sorted(expected) });
  }
  return expected;
}

const codes = (r: VerifyResult) => r.problems.map((p) => `${p.code}@${p.seq}`);

describe('ledger verifier (offline)', () => {
  before(() => {
    signer = signerFromPem(generateSigningKeyPem());
    other = signerFromPem(generateSigningKeyPem());
  });

  it('the lean canonical text is canonical() byte for byte, whatever the strings hold', () => {
    const text = fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', '中', '\u2028', '\ud800', '\udc00', '😀') });
    fc.assert(fc.property(text, text, text, fc.option(text, { nil: null }), (key, memo, account, maker) => {
      const r = { ...journal(SPECS)[5]!, key, memo, maker, entries: [d(account, 1), c(acct.pool(), 1)], refs: { ...emptyRefs(), field: memo } };
      expect(fastCanonical(r)).to.equal(canonical(r));
      // And read back from an export line, with the shortcut the line allows.
      const line = JSON.stringify({ type: 'transfer', ...r });
      const parsed = JSON.parse(line) as JournalRecord;
      expect(fastCanonical(parsed, plainJsonLine(line))).to.equal(canonical(parsed));
    }), { numRuns: 300 });
    // JSON.stringify escapes a lone surrogate, but a line written by other hands may hold one raw, and JSON.parse takes it.
    const raw = JSON.stringify({ type: 'transfer', ...journal(SPECS)[0]!, memo: 'x' }).replace('"memo":"x"', '"memo":"\ud800"');
    expect(plainJsonLine(raw)).to.equal(false);
    expect(fastCanonical(JSON.parse(raw) as JournalRecord, plainJsonLine(raw))).to.equal(canonical(JSON.parse(raw) as JournalRecord));
  });

  it('recomputes the RFC 6962 root of every prefix exactly as merkle.ts does', () => {
    const records = journal(Array.from({ length: 37 }, (_, i) => ({ code: 'ACCRUAL' as const, entries: [d(acct.receivable(LIC), i + 1), c(acct.revenue(UNIV), i + 1)] })));
    const v = new LedgerVerifier();
    expect(v.root()).to.equal(merkleRoot([]).toString('hex'));
    records.forEach((r, i) => {
      v.transfer(r);
      expect(v.root(), `root at ${i + 1}`).to.equal(merkleRoot(records.slice(0, i + 1).map((x) => canonical(x))).toString('hex'));
    });
  });

  it('a clean journal with checkpoints and matching account totals verifies, and replays the totals as posted', () => {
    const records = journal(SPECS);
    const v = new LedgerVerifier({ trustedKeys: [signer.publicKeyPem] });
    for (const r of records) v.transfer(r);
    const pool = v.replayedAccounts().get(acct.pool())!;
    // Partial post: 24,000 reserved, 20,000 posted, the rest released; the subsidy voided; the appropriation reversed.
    expect(pool).to.include({ creditsPosted: 1_001_000, debitsPosted: 21_000, debitsPending: 0 });
    expect(v.replayedAccounts().get(acct.subsidyPayable(SME))).to.include({ creditsPending: 0, creditsPosted: 0 });
    const accounts: AccountLine[] = [...v.replayedAccounts()].map(([key, t]) => ({ type: 'account', key, debitsPosted: t.debitsPosted, creditsPosted: t.creditsPosted, debitsPending: t.debitsPending, creditsPending: t.creditsPending }));
    const result = verify(records, { checkpoints: [checkpointAt(records, 0, signer), checkpointAt(records, 6, signer), checkpointAt(records, 12, signer)], accounts });
    expect(result.problems).to.deep.equal([]);
    expect(result).to.include({ ok: true, transfers: 12, lastSeq: 12, checkpoints: 3, accountsCompared: accounts.length, firstBadSeq: null, keySource: 'trusted' });
  });

  describe('names the seq of each kind of tampering', () => {
    it('an amount edited in place: the record\'s own hash fails', () => {
      const records = journal(SPECS);
      records[6] = { ...records[6]!, entries: records[6]!.entries.map((e) => ({ ...e, amountFen: 500 })) };
      const r = verify(records, { checkpoints: [checkpointAt(journal(SPECS), 12, signer)] });
      expect(r.ok).to.equal(false);
      expect(r.firstBadSeq).to.equal(7);
      expect(codes(r)[0]).to.equal('hash@7');
      expect(r.problems[0]!.message).to.match(/Transfer 7 was altered/);
    });

    it('a record rewritten with its own hash recomputed: the next record no longer chains to it', () => {
      const records = journal(SPECS);
      const forged = { ...records[2]!, memo: 'nothing to see' };
      records[2] = { ...forged, hash: chainHash(forged.prevHash, canonical(forged)) };
      const r = verify(records);
      expect(codes(r)).to.deep.equal(['prev_hash@3']);
      expect(r.problems[0]!.message).to.equal('Transfer 3 is not the record transfer 4 chained to: it was rewritten (or replaced) after 4 was posted.');
    });

    it('a record that is not a journal record: named as malformed, with no link judged against it and no seq lost', () => {
      const clean = journal(SPECS);
      const cps = [checkpointAt(clean, 8, signer), checkpointAt(clean, 12, signer)];
      // A payout with its memo gone, then an appropriation whose hash is not a hash at all.
      const records = clean.map((r) => (r.seq === 9 ? { ...r, memo: undefined as unknown as string } : r.seq === 11 ? { ...r, hash: 'xyz' } : r));
      const r = verify(records, { checkpoints: cps });
      expect(codes(r)).to.deep.equal(['malformed@9', 'malformed@11', 'reverse_missing@12', 'checkpoint_root@12']);
      expect(r.problems[0]!.message).to.match(/^Transfer 9 is malformed: key, code, phase and memo must be strings/);
      expect(r.transfers).to.equal(12);
      // A seq that is not a number takes no place: the next record is where the verifier expected it.
      const noSeq = clean.map((x) => (x.seq === 5 ? { ...x, seq: 'five' as unknown as number } : x));
      expect(codes(verify(noSeq, { checkpoints: [cps[0]!] }))).to.include.members(['malformed@5', 'seq_gap@5']);
    });

    it('a transfer deleted: the gap names the missing seq', () => {
      const records = journal(SPECS).filter((r) => r.seq !== 4);
      const r = verify(records, { through: 12 });
      expect(r.firstBadSeq).to.equal(4);
      expect(codes(r)[0]).to.equal('seq_gap@4');
      expect(r.problems[0]!.message).to.match(/Transfer 4 is missing/);
    });

    it('the last transfers cut off: the checkpoint that signed them, and the header, say so', () => {
      const full = journal(SPECS);
      const r = verify(full.slice(0, 9), { checkpoints: [checkpointAt(full, 12, signer)], through: 9 });
      expect(codes(r)).to.deep.equal(['checkpoint_beyond@10']);
      const h = verify(full.slice(0, 9), { through: 12 });
      expect(codes(h)).to.deep.equal(['through_seq@10']);
    });

    it('two records swapped in the file: out of order, naming both', () => {
      const records = journal(SPECS);
      [records[3], records[8]] = [records[8]!, records[3]!];
      const r = verify(records);
      expect(r.firstBadSeq).to.equal(4);
      expect(codes(r)).to.include('seq_gap@4');
      expect(codes(r)).to.include('seq_order@4');
    });

    it('two records\' seqs swapped in place: both hashes fail', () => {
      const records = journal(SPECS);
      const [a, b] = [records[3]!, records[8]!];
      records[3] = { ...b, seq: 4 };
      records[8] = { ...a, seq: 9 };
      const r = verify(records);
      expect(r.firstBadSeq).to.equal(4);
      expect(codes(r)).to.include.members(['hash@4', 'hash@9']);
    });

    it('history rewritten and every later hash recomputed: only the signed checkpoints catch it, naming the range', () => {
      const original = journal(SPECS);
      const cps = [checkpointAt(original, 4, signer), checkpointAt(original, 8, signer), checkpointAt(original, 12, signer)];
      const records = [...original];
      records[5] = { ...records[5]!, entries: records[5]!.entries.map((e) => ({ ...e, amountFen: 24_000 })) };
      const rewritten = rechain(records, 5);
      const r = verify(rewritten, { checkpoints: cps });
      expect(codes(r)).to.deep.equal(['checkpoint_root@8', 'checkpoint_root@12']);
      expect(r.problems[0]!.params).to.include({ from: 5, to: 8 });
      expect(r.problems[0]!.message).to.match(/among seqs 5–8/);
    });

    it('a record inserted (and the chain recomputed): the checkpoint root differs', () => {
      const original = journal(SPECS.slice(0, 4));
      const specs = [...SPECS.slice(0, 2), { code: 'ACCRUAL' as const, entries: [d(acct.receivable(LIC), 1), c(acct.revenue(UNIV), 1)] }, ...SPECS.slice(2, 3)];
      const r = verify(journal(specs), { checkpoints: [checkpointAt(original, 4, signer)] });
      expect(codes(r)).to.deep.equal(['checkpoint_root@4']);
    });
  });

  describe('names transfers the ledger could never have posted', () => {
    const bad = (specs: Spec[]) => codes(verify(journal(specs)));
    const base = SPECS.slice(0, 4);

    it('unbalanced, fractional, zero or negative amounts, unknown accounts, bad sides', () => {
      expect(bad([...base, { code: 'ACCRUAL', entries: [d(acct.receivable(LIC), 100), c(acct.revenue(UNIV), 99)] }])).to.deep.equal(['unbalanced@5']);
      expect(bad([...base, { code: 'ACCRUAL', entries: [d(acct.receivable(LIC), 10.5), c(acct.revenue(UNIV), 10.5)] }])).to.deep.equal(['bad_amount@5']);
      expect(bad([...base, { code: 'ACCRUAL', entries: [d(acct.receivable(LIC), 0), c(acct.revenue(UNIV), 0)] }])).to.deep.equal(['bad_amount@5']);
      expect(bad([...base, { code: 'ACCRUAL', entries: [d(acct.receivable(LIC), -5), c(acct.revenue(UNIV), -5)] }])).to.deep.equal(['bad_amount@5']);
      expect(bad([...base, { code: 'ACCRUAL', entries: [d('fund:piggy_bank', 5), c(acct.revenue(UNIV), 5)] }])).to.deep.equal(['unknown_account@5']);
      expect(bad([...base, { code: 'ACCRUAL', entries: [{ account: acct.bank(), side: 'sideways' as never, amountFen: 5 }, c(acct.pool(), 5)] }])).to.deep.equal(['bad_side@5']);
      expect(bad([...base, { code: 'BRIBE' as never, entries: [d(acct.bank(), 5), c(acct.pool(), 5)] }])).to.deep.equal(['bad_code@5']);
    });

    it('a pending transfer resolved twice, one that is not pending, and a post that does not match', () => {
      const claim = SPECS.slice(0, 6);
      expect(bad([...claim, { code: 'COMPENSATION', phase: 'void', pendingSeq: 5, entries: SPECS[4]!.entries }])).to.deep.equal(['pending_twice@7']);
      expect(bad([...base, { code: 'ACCRUAL', phase: 'void', pendingSeq: 2, entries: SPECS[1]!.entries }])).to.deep.equal(['pending_missing@5']);
      const posted = (amount: number) => SPECS[4]!.entries.map((e) => ({ ...e, amountFen: amount }));
      expect(bad([...SPECS.slice(0, 5), { code: 'COMPENSATION', phase: 'post', pendingSeq: 5, entries: posted(30_000) }])).to.deep.equal(['resolve_mismatch@6']);
      expect(bad([...SPECS.slice(0, 5), { code: 'SUBSIDY', phase: 'post', pendingSeq: 5, entries: posted(24_000) }])).to.deep.equal(['resolve_mismatch@6']);
    });

    it('a reversal twice, of a pending transfer, or not the mirror image', () => {
      const rev = SPECS.slice(0, 12);
      expect(bad([...rev, { code: 'REVERSAL', reverses: 11, entries: SPECS[11]!.entries }])).to.deep.equal(['reverse_twice@13']);
      expect(bad([...rev, { code: 'REVERSAL', reverses: 7, entries: [c(acct.pool(), 5_000), d(acct.subsidyPayable(SME), 5_000)] }])).to.deep.equal(['reverse_missing@13']);
      expect(bad([...SPECS.slice(0, 11), { code: 'REVERSAL', reverses: 11, entries: [c(acct.bank(), 999), d(acct.pool(), 999)] }])).to.deep.equal(['reverse_mismatch@12']);
      expect(bad([...SPECS.slice(0, 11), { code: 'APPROPRIATION', reverses: 11, entries: [c(acct.bank(), 1_000), d(acct.pool(), 1_000)] }])).to.deep.equal(['bad_links@12']);
    });

    it('the pool committed beyond its balance, a receivable settled beyond what is owed', () => {
      expect(bad([SPECS[0]!, { code: 'COMPENSATION', phase: 'pending', entries: [d(acct.pool(), 1_000_001), c(acct.compPayable(UNIV), 1_000_001)] }])).to.deep.equal(['constraint@2']);
      expect(bad([SPECS[0]!, SPECS[1]!, { code: 'PAYMENT', entries: [d(acct.clearing(), 50_001), c(acct.receivable(LIC), 50_001)] }])).to.deep.equal(['constraint@3']);
    });
  });

  describe('checkpoints', () => {
    it('a forged signature, an untrusted key, a mismatched key id and a wrong head hash are each reported', () => {
      const records = journal(SPECS);
      const good = checkpointAt(records, 12, signer);
      const flipped = Buffer.from(good.signature, 'base64');
      flipped[0]! ^= 1;
      expect(codes(verify(records, { checkpoints: [{ ...good, signature: flipped.toString('base64') }] }))).to.deep.equal(['checkpoint_signature@12']);
      expect(codes(verify(records, { checkpoints: [{ ...good, time: '2027-01-01T00:00:00.000Z' }] }))).to.deep.equal(['checkpoint_signature@12']);
      expect(codes(verify(records, { checkpoints: [checkpointAt(records, 12, other)] }))).to.deep.equal(['checkpoint_untrusted_key@12']);
      expect(codes(verify(records, { checkpoints: [{ ...good, publicKey: other.publicKeyPem }] }))).to.deep.equal(['checkpoint_key_id@12']);
      const body = { ledger: 'CNY', seq: 12, root: good.root, headHash: records[10]!.hash, time: good.time };
      expect(codes(verify(records, { checkpoints: [{ ...good, ...body, signature: signer.sign(checkpointText(body)) }] }))).to.deep.equal(['checkpoint_head@12']);
    });

    it('without a trusted key, the keys the export carries are used (and a checkpoint by an unknown key is named)', () => {
      const records = journal(SPECS);
      const v = new LedgerVerifier();
      v.setHeader({ type: 'header', format: EXPORT_FORMAT, ledger: 'CNY', asOf: null, exportedThroughSeq: 12, publicKeys: [signer.publicKeyPem] });
      for (const r of records) v.transfer(r);
      v.checkpoint(checkpointAt(records, 12, signer));
      v.checkpoint({ ...checkpointAt(records, 12, other), publicKey: null });
      const r = v.finish();
      expect(r.keySource).to.equal('embedded');
      expect(codes(r)).to.deep.equal(['checkpoint_no_key@12']);
      expect(keyIdOf(signer.publicKeyPem)).to.equal(signer.keyId);
    });

    it('a later checkpoint at a smaller seq means the journal was cut back', () => {
      const records = journal(SPECS);
      const r = verify(records, { checkpoints: [checkpointAt(records, 5, signer, '2026-03-09T00:00:00.000Z'), checkpointAt(records, 10, signer, '2026-03-08T00:00:00.000Z')] });
      expect(codes(r)).to.deep.equal(['checkpoint_order@10']);
    });
  });

  it('stored account totals that differ from the journal are named', () => {
    const records = journal(SPECS);
    const r = verify(records, { accounts: [{ type: 'account', key: acct.pool(), debitsPosted: 21_000, creditsPosted: 1_001_001, debitsPending: 0, creditsPending: 0 }] });
    expect(r.problems.find((p) => p.code === 'account_mismatch')!.params).to.include({ account: 'fund:pool', field: 'creditsPosted', stored: '1001001', replayed: 1_001_000 });
    expect(r.problems.filter((p) => p.code === 'account_missing').length).to.be.greaterThan(5);
  });

  describe('reading an export', () => {
    const lines = (records: JournalRecord[], extra: ExportLine[] = []) => [
      JSON.stringify({ type: 'header', format: EXPORT_FORMAT, ledger: 'CNY', asOf: null, exportedThroughSeq: records.length, publicKeys: [signer.publicKeyPem] }),
      ...records.map((r) => JSON.stringify({ type: 'transfer', ...r })),
      ...extra.map((x) => JSON.stringify(x)),
    ];
    const from = (ls: string[]) => async function* () {
      yield ls;
    };

    it('names the line of bad JSON, a missing header and an unknown line type', async () => {
      const ok = lines(journal(SPECS));
      for (const [broken, line] of [[[...ok.slice(0, 5), '{"type":"transfer",', ...ok.slice(5)], 6], [ok.slice(1), 1], [[...ok, '{"type":"gossip"}'], 14]] as const) {
        try {
          await verifyExport(from([...broken]));
          expect.fail('should not read');
        } catch (err) {
          expect(err).to.be.instanceOf(UnreadableExportError);
          expect((err as UnreadableExportError).line).to.equal(line);
        }
      }
    });

    it('checkpoints placed after all the transfers are still checked (the export is read again)', async () => {
      const records = journal(SPECS);
      const cps = [checkpointAt(records, 4, signer), checkpointAt(records, 12, signer)].map((x) => ({ type: 'checkpoint' as const, ...x }));
      let reads = 0;
      const open = () => {
        reads++;
        return from(lines(records, cps))();
      };
      const r = await verifyExport(open, { trustedKeys: [signer.publicKeyPem] });
      expect(r).to.include({ ok: true, checkpoints: 2 });
      expect(reads).to.equal(2);
      const forged = [{ ...cps[0]!, root: cps[1]!.root }];
      const bad = await verifyExport(() => from(lines(records, forged))(), { trustedKeys: [signer.publicKeyPem] });
      expect(codes(bad)).to.deep.equal(['checkpoint_signature@4', 'checkpoint_root@4']);
    });
  });
});
