/**
 * The oracle of the ledger's model-based and concurrency tests: an in-memory
 * ledger small enough to trust (account totals, the records by seq, which
 * pending transfers were resolved and which transfers reversed), and the
 * audit that reads the stored journal and accounts back after every step and
 * checks them against it and against each other.
 *
 * The model is written from the accounting rules (../shared/reference/
 * ledger.md §2, §4 T1), not from ledger-post.ts, and the audit recomputes the
 * chain and the totals with its own code, so a bug in the service cannot
 * hide behind the same bug in the check.
 */
import { expect } from 'chai';
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerHead } from '../../models/ledger-head.js';
import { LedgerRollup } from '../../models/ledger-rollup.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { accountSpec, type Totals } from '../../server/domain/ledger-chart.js';
import { canonical, chainHash, GENESIS_HASH, REF_KEYS, type JournalEntry, type JournalRecord } from '../../server/domain/ledger-record.js';
import type { LedgerCommand } from '../../server/services/fund/ledger.js';
import { projectRollups } from '../../server/services/fund/ledger-rollups.js';

/** What the model knows of a record: everything but refs, memo, people, times and the chain. */
export type ModelRecord = Pick<JournalRecord, 'seq' | 'key' | 'code' | 'phase' | 'entries' | 'pendingSeq' | 'reverses'>;

export type Simulation = { ok: true; records: ModelRecord[]; next: LedgerModel } | { ok: false; key: string };

const zero = (): Totals => ({ debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 });

function bump(totals: Map<string, Totals>, e: JournalEntry, phase: 'Posted' | 'Pending', sign: 1 | -1): void {
  const t = totals.get(e.account) ?? zero();
  t[`${e.side === 'debit' ? 'debits' : 'credits'}${phase}`] += sign * e.amountFen;
  totals.set(e.account, t);
}

/** How much more the account's constraint allows: negative means broken; Infinity when it has none. */
export function headroom(account: string, t: Totals): number {
  const c = accountSpec(account)!.constraint;
  if (c === 'debits_must_not_exceed_credits') return t.creditsPosted - t.debitsPosted - t.debitsPending;
  if (c === 'credits_must_not_exceed_debits') return t.debitsPosted - t.creditsPosted - t.creditsPending;
  return Number.POSITIVE_INFINITY;
}

export const shapeOf = (r: JournalRecord | ModelRecord): ModelRecord => ({
  seq: r.seq, key: r.key, code: r.code, phase: r.phase,
  entries: r.entries.map((e) => ({ account: e.account, side: e.side, amountFen: e.amountFen })),
  pendingSeq: r.pendingSeq, reverses: r.reverses,
});

export class LedgerModel {
  totals = new Map<string, Totals>();
  records: ModelRecord[] = [];
  resolved = new Set<number>();
  reversed = new Set<number>();

  get nextSeq(): number {
    return this.records.length + 1;
  }

  total(account: string): Totals {
    return { ...(this.totals.get(account) ?? zero()) };
  }

  /** What the constraint on `account` still allows (the pool's free balance, what a receivable still owes). */
  room(account: string): number {
    return headroom(account, this.total(account));
  }

  clone(): LedgerModel {
    const m = new LedgerModel();
    m.totals = new Map([...this.totals].map(([k, t]) => [k, { ...t }]));
    m.records = [...this.records];
    m.resolved = new Set(this.resolved);
    m.reversed = new Set(this.reversed);
    return m;
  }

  assign(o: LedgerModel): void {
    Object.assign(this, { totals: o.totals, records: o.records, resolved: o.resolved, reversed: o.reversed });
  }

  /** Applies one command as the ledger should, or names why it must be refused; `this` is changed only on success. */
  private step(c: LedgerCommand): { ok: true; record: ModelRecord } | { ok: false; key: string } {
    const seq = this.nextSeq;
    const after = new Map<string, Totals>();
    const touch = (e: JournalEntry, phase: 'Posted' | 'Pending', sign: 1 | -1) => {
      if (!after.has(e.account)) after.set(e.account, this.total(e.account));
      bump(after, e, phase, sign);
    };
    let record: ModelRecord;
    if (c.kind === 'transfer') {
      for (const e of c.entries) touch(e, c.phase === 'posted' ? 'Posted' : 'Pending', 1);
      record = { seq, key: c.key, code: c.code, phase: c.phase, entries: c.entries.map((e) => ({ ...e })), pendingSeq: null, reverses: null };
    } else if (c.kind === 'resolve') {
      const p = this.records[c.pendingSeq - 1];
      if (!p || p.phase !== 'pending') return { ok: false, key: 'ledger.pending_not_found' };
      if (this.resolved.has(p.seq)) return { ok: false, key: 'ledger.pending_resolved' };
      const held = p.entries[0]!.amountFen;
      const amount = c.action === 'post' ? c.amountFen ?? held : held;
      if (amount !== held && p.entries.some((e) => e.amountFen !== held)) return { ok: false, key: 'ledger.partial_needs_equal_legs' };
      if (amount > held) return { ok: false, key: 'ledger.post_exceeds_pending' };
      for (const e of p.entries) touch(e, 'Pending', -1);
      const entries = p.entries.map((e) => ({ ...e, amountFen: amount }));
      if (c.action === 'post') for (const e of entries) touch(e, 'Posted', 1);
      record = { seq, key: c.key, code: p.code, phase: c.action, entries, pendingSeq: p.seq, reverses: null };
    } else {
      const o = this.records[c.reverses - 1];
      if (!o) return { ok: false, key: 'ledger.transfer_not_found' };
      if ((o.phase !== 'posted' && o.phase !== 'post') || o.code === 'REVERSAL') return { ok: false, key: 'ledger.not_reversible' };
      if (this.reversed.has(o.seq)) return { ok: false, key: 'ledger.already_reversed' };
      const entries = o.entries.map((e) => ({ account: e.account, side: e.side === 'debit' ? 'credit' as const : 'debit' as const, amountFen: e.amountFen }));
      for (const e of entries) touch(e, 'Posted', 1);
      record = { seq, key: c.key, code: 'REVERSAL', phase: 'posted', entries, pendingSeq: null, reverses: o.seq };
    }
    // Every constraint held before, so any account now below its floor was pushed there by this command.
    for (const [account, t] of after) {
      if (headroom(account, t) < 0) {
        const pool = accountSpec(account)!.constraint === 'debits_must_not_exceed_credits';
        return { ok: false, key: pool ? 'ledger.exceeds_available' : 'ledger.exceeds_owed' };
      }
    }
    for (const [account, t] of after) this.totals.set(account, t);
    this.records.push(record);
    if (record.pendingSeq !== null) this.resolved.add(record.pendingSeq);
    if (record.reverses !== null) this.reversed.add(record.reverses);
    return { ok: true, record };
  }

  /** Commands that land together or not at all (one transaction), tried on a copy: `next` is the model after them. */
  simulate(commands: LedgerCommand[]): Simulation {
    const next = this.clone();
    const records: ModelRecord[] = [];
    for (const c of commands) {
      const r = next.step(c);
      if (!r.ok) return r;
      records.push(r.record);
    }
    return { ok: true, records, next };
  }
}

/** A stored transfer as a JournalRecord, converted here rather than by the service under test. */
export function storedRecord(d: Record<string, any>): JournalRecord {
  const refs = Object.fromEntries(REF_KEYS.map((k) => [k, d.refs?.[k] ?? null])) as JournalRecord['refs'];
  return {
    seq: d.seq, key: d.key, code: d.code, phase: d.phase,
    entries: d.entries.map((e: JournalEntry) => ({ account: e.account, side: e.side, amountFen: e.amountFen })),
    pendingSeq: d.pendingSeq ?? null, reverses: d.reverses ?? null, refs, memo: d.memo ?? '', maker: d.maker ?? null, checker: d.checker ?? null,
    effectiveAt: new Date(d.effectiveAt).toISOString(), recordedAt: new Date(d.recordedAt).toISOString(), prevHash: d.prevHash, hash: d.hash,
  };
}

/** Seqs 1..n without a gap and every hash recomputed from its predecessor and the record's canonical text. */
export function verifyChain(records: JournalRecord[]): void {
  let prev = GENESIS_HASH;
  records.forEach((r, i) => {
    expect(r.seq, 'seqs are contiguous from 1').to.equal(i + 1);
    expect(r.prevHash, `prevHash of #${r.seq}`).to.equal(prev);
    const { prevHash: _p, hash: _h, ...body } = r;
    expect(chainHash(prev, canonical(body)), `hash of #${r.seq}`).to.equal(r.hash);
    prev = r.hash;
  });
}

/** Account totals replayed from the journal alone. */
export function totalsFromJournal(records: JournalRecord[]): Map<string, Totals> {
  const totals = new Map<string, Totals>();
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  for (const r of records) {
    if (r.phase === 'posted') r.entries.forEach((e) => bump(totals, e, 'Posted', 1));
    else if (r.phase === 'pending') r.entries.forEach((e) => bump(totals, e, 'Pending', 1));
    else {
      const p = bySeq.get(r.pendingSeq!);
      expect(p?.phase, `#${r.seq} resolves a pending transfer`).to.equal('pending');
      // A post or void releases the whole reservation; a post books what it names (a partial post less).
      p!.entries.forEach((e) => bump(totals, e, 'Pending', -1));
      if (r.phase === 'post') r.entries.forEach((e) => bump(totals, e, 'Posted', 1));
      else expect(r.entries, `void #${r.seq} releases the legs held`).to.deep.equal(p!.entries);
    }
  }
  return totals;
}

const plain = (t: Totals): Totals => ({ debitsPosted: t.debitsPosted, creditsPosted: t.creditsPosted, debitsPending: t.debitsPending, creditsPending: t.creditsPending });
const sorted = (m: Map<string, Totals>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, t]) => [k, plain(t)]));

/**
 * Everything stored, read back and checked: the journal is the model's (when
 * there is one) and chains; stored totals = totals replayed from the journal = the model's;
 * the books balance (posted and pending separately); no constraint is
 * broken; each pending transfer is resolved at most once and each transfer
 * reversed at most once, by its exact mirror; the head and the day rollups
 * agree with the journal.
 */
export async function auditLedger(model: LedgerModel | null): Promise<JournalRecord[]> {
  // The rollups are projected after posting (ledger-rollups.ts): bring them up to the head, then check them.
  await projectRollups();
  const [docs, accounts, head, rollups] = await Promise.all([
    LedgerTransfer.find().sort({ seq: 1 }).lean(), LedgerAccount.find().lean(), LedgerHead.findOne().lean(), LedgerRollup.find().lean(),
  ]);
  const records = docs.map(storedRecord);
  if (model) expect(records.map(shapeOf), 'the stored journal is the model journal').to.deep.equal(model.records);
  verifyChain(records);
  if (records.length) expect({ seq: head?.seq, hash: head?.hash }, 'the head is the last record').to.deep.equal({ seq: records.at(-1)!.seq, hash: records.at(-1)!.hash });
  else expect(head, 'no head before the first transfer').to.equal(null);

  const stored = new Map(accounts.map((a) => [a.key, plain(a as unknown as Totals)]));
  const replayed = totalsFromJournal(records);
  expect(sorted(stored), 'stored account totals = totals replayed from the journal').to.deep.equal(sorted(replayed));
  if (model) expect(sorted(stored), 'stored account totals = the model').to.deep.equal(sorted(model.totals));

  const sum = (f: keyof Totals) => [...stored.values()].reduce((s, t) => s + t[f], 0);
  expect(sum('debitsPosted'), 'Σ posted debits = Σ posted credits').to.equal(sum('creditsPosted'));
  expect(sum('debitsPending'), 'Σ pending debits = Σ pending credits').to.equal(sum('creditsPending'));
  for (const [key, t] of stored) {
    expect(headroom(key, t), `constraint of ${key}: ${JSON.stringify(t)}`).to.be.at.least(0);
    expect(Object.values(t).every((v) => Number.isSafeInteger(v) && v >= 0), `totals of ${key} are whole fen`).to.equal(true);
  }

  const resolutions = new Map<number, number>();
  const reversals = new Map<number, JournalRecord>();
  for (const r of records) {
    if (r.pendingSeq !== null) resolutions.set(r.pendingSeq, (resolutions.get(r.pendingSeq) ?? 0) + 1);
    if (r.reverses !== null) {
      expect(reversals.has(r.reverses), `#${r.reverses} reversed at most once`).to.equal(false);
      reversals.set(r.reverses, r);
    }
  }
  for (const [seq, n] of resolutions) expect(n, `pending #${seq} resolved at most once`).to.equal(1);
  for (const [seq, rev] of reversals) {
    const net = new Map<string, number>();
    for (const e of [...records[seq - 1]!.entries, ...rev.entries]) net.set(e.account, (net.get(e.account) ?? 0) + (e.side === 'debit' ? e.amountFen : -e.amountFen));
    expect([...net.values()].every((v) => v === 0), `reversal #${rev.seq} exactly undoes #${seq}`).to.equal(true);
  }

  // The day rollups by kind add up to the accounts' posted totals of that kind.
  const byKind = (rows: { kind: string; debitsPosted: number; creditsPosted: number }[]) => {
    const m = new Map<string, [number, number]>();
    for (const r of rows) {
      const [d, c] = m.get(r.kind) ?? [0, 0];
      m.set(r.kind, [d + r.debitsPosted, c + r.creditsPosted]);
    }
    return Object.fromEntries([...m].filter(([, v]) => v[0] || v[1]).sort(([a], [b]) => a.localeCompare(b)));
  };
  expect(byKind(rollups.filter((r) => r.type === 'day') as never), 'day rollups by kind = posted totals by kind').to.deep.equal(byKind(accounts));
  return records;
}
