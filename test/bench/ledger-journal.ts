/**
 * Part (b) set-up of bench:ledger: a journal of N transfers, built fast.
 *
 * Posting a million transfers through the service would take the better
 * part of an hour and is what part (a) measures anyway, so the records are
 * computed here — the same shapes the services post (ACCRUAL; the four-leg
 * PAYMENT of subscriber-postings.ts; DEFAULT; COMPENSATION, SUBSIDY and
 * WRITE_OFF reservations with their posts, partial posts and voids; PAYOUT;
 * RECOVERY; APPROPRIATION; REVERSAL), chained with canonical()/chainHash(),
 * every balance floor respected — and inserted with the driver, with the
 * account totals, the head and the rollups they imply (summed by
 * ledger-rollups.ts's addToRollups, with their cursor at the head), so the
 * console and the verifier see a consistent ledger. Two years of business days, 8,000 licences, 120 institutions.
 */
import { LedgerAccount } from '../../models/ledger-account.js';
import { LedgerHead } from '../../models/ledger-head.js';
import { LedgerRollup } from '../../models/ledger-rollup.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { accountSpec, acct, LEDGER, type Totals, type TransferCode } from '../../server/domain/ledger-chart.js';
import { canonical, chainHash, emptyRefs, GENESIS_HASH, type JournalEntry, type JournalRecord, type TransferRefs } from '../../server/domain/ledger-record.js';
import { commandDigest, type LedgerCommand } from '../../server/services/fund/ledger-commands.js';
import { headroom } from '../fund/ledger-model-helpers.js';
import { rng } from './ledger-posting.js';
import { addToRollups, ROLLUP_CURSOR, type RollupSums } from '../../server/services/fund/ledger-rollups.js';

const hex = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(24 - prefix.length, '0')}`;
const LICENCES = 8_000;
const INSTITUTIONS = 120;
const DAYS = 730;
const PROVINCES = ['SH', 'JS', 'ZJ', 'AH'];
const FIELDS = ['biomed', 'new_materials', 'ai', 'ic', 'new_energy', 'equipment', 'agri', 'environment', 'auto', 'software'];
const MAKER = hex('64e3', 1);
const CHECKER = hex('64e3', 2);
const BATCH = 2_000;

interface Lic { id: string; univ: string; sme: string; province: string; field: string; owed: number; overdue: number; claimed: boolean }
interface Account extends Totals { version: number; lastSeq: number }
type Leg = [string, 'debit' | 'credit', number];

export interface BuiltJournal {
  transfers: number;
  accounts: number;
  rollups: number;
  seconds: number;
  head: { seq: number; hash: string };
}

/** Generates the records in seq order, each checked against the balance floors before it is kept. */
class Synthetic {
  seq = 0;
  prevHash = GENESIS_HASH;
  readonly accounts = new Map<string, Account>();
  readonly rollups: RollupSums = new Map();
  readonly pending = new Map<number, { record: JournalRecord; claim: { id: string; lic: Lic } | null }>();
  readonly claims: { id: string; lic: Lic }[] = [];
  readonly accruals: { seq: number; lic: Lic; amount: number }[] = [];
  readonly reversed = new Set<number>();
  readonly next: () => number;
  readonly licences: Lic[];
  readonly start: number;

  constructor(readonly total: number, seed: number) {
    this.next = rng(seed);
    this.start = Date.now() - DAYS * 86_400_000;
    this.licences = Array.from({ length: LICENCES }, (_, i) => {
      const u = i % INSTITUTIONS;
      return { id: hex('64e0', i), univ: hex('64e1', u), sme: hex('64e2', i % 3_000), province: PROVINCES[u % 4]!, field: FIELDS[i % FIELDS.length]!, owed: 0, overdue: 0, claimed: false };
    });
  }

  private pick<T>(list: T[], ok: (x: T) => boolean): T | null {
    for (let i = 0; i < 4 && list.length; i++) {
      const x = list[Math.floor(this.next() * list.length)]!;
      if (ok(x)) return x;
    }
    return null;
  }

  private refs(l: Lic | null, extra: Partial<TransferRefs> = {}): TransferRefs {
    return { ...emptyRefs(), ...(l ? { licence: l.id, institution: l.univ, licensee: l.sme, province: l.province, field: l.field } : {}), ...extra };
  }

  /** Applies one transfer if every floor holds; returns the record and its document, or null (skipped). */
  emit(t: { code: TransferCode; phase: JournalRecord['phase']; legs: Leg[]; refs: TransferRefs; pendingSeq?: number; reverses?: number; release?: JournalEntry[]; maker?: string | null; checker?: string | null }) {
    const seq = this.seq + 1;
    const entries = t.legs.map(([account, side, amountFen]) => ({ account, side, amountFen }));
    const after = new Map<string, Account>();
    const bump = (e: JournalEntry, field: 'Posted' | 'Pending', sign: number) => {
      const a = after.get(e.account) ?? { ...(this.accounts.get(e.account) ?? { debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0, version: 0, lastSeq: 0 }) };
      a[`${e.side === 'debit' ? 'debits' : 'credits'}${field}`] += sign * e.amountFen;
      after.set(e.account, a);
    };
    for (const e of t.release ?? []) bump(e, 'Pending', -1);
    if (t.phase !== 'void') for (const e of entries) bump(e, t.phase === 'pending' ? 'Pending' : 'Posted', 1);
    for (const [k, a] of after) if (headroom(k, a) < 0) return null;
    const effectiveAt = new Date(this.start + Math.floor((seq / this.total) * DAYS * 86_400_000) + Math.floor(this.next() * 3_600_000));
    const body = {
      seq, key: `synthetic:${seq}`, code: t.code, phase: t.phase, entries, pendingSeq: t.pendingSeq ?? null, reverses: t.reverses ?? null, refs: t.refs, memo: '',
      maker: t.maker ?? null, checker: t.checker ?? null, effectiveAt: effectiveAt.toISOString(), recordedAt: new Date(effectiveAt.getTime() + 1_000).toISOString(),
    };
    const text = canonical(body);
    const record: JournalRecord = { ...body, prevHash: this.prevHash, hash: chainHash(this.prevHash, text) };
    this.seq = seq;
    this.prevHash = record.hash;
    for (const [k, a] of after) this.accounts.set(k, { ...a, version: a.version + 1, lastSeq: seq });
    addToRollups(this.rollups, record);
    // The digest a retry of the command behind the record would be compared with, as the service stores it.
    const base = { key: body.key, maker: body.maker, checker: body.checker, effectiveAt };
    const command: LedgerCommand = t.reverses ? { kind: 'reverse', ...base, reverses: t.reverses }
      : t.pendingSeq ? { kind: 'resolve', ...base, pendingSeq: t.pendingSeq, action: t.phase === 'void' ? 'void' : 'post', amountFen: entries[0]!.amountFen }
        : { kind: 'transfer', ...base, code: t.code, phase: t.phase === 'pending' ? 'pending' : 'posted', entries };
    const payload = commandDigest(command, t.refs);
    return { record, doc: { ...record, payload, effectiveAt, recordedAt: new Date(body.recordedAt) } };
  }

  /** The next transfer of the mix (falling back to an accrual when the chosen step has nothing to act on). */
  step() {
    const r = this.next();
    const amount = (lo: number, hi: number) => lo + Math.floor(this.next() * (hi - lo));
    const room = (k: string) => headroom(k, this.accounts.get(k) ?? { debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 });
    if (this.seq === 0 || r < 0.004) {
      const x = amount(500_000_000, 2_000_000_000);
      return this.emit({ code: 'APPROPRIATION', phase: 'posted', legs: [[acct.bank(), 'debit', x], [acct.pool(), 'credit', x]], refs: this.refs(null), maker: MAKER, checker: CHECKER });
    }
    if (r < 0.4) {
      const l = this.pick(this.licences, (x) => x.owed > 0);
      if (l) {
        const x = this.next() < 0.8 ? l.owed : amount(1, l.owed + 1);
        const out = this.emit({ code: 'PAYMENT', phase: 'posted', refs: this.refs(l), legs: [[acct.clearing(), 'debit', x], [acct.receivable(l.id), 'credit', x], [acct.settled(l.univ), 'debit', x], [acct.clearing(), 'credit', x]] });
        if (out) l.owed -= x;
        return out;
      }
    } else if (r < 0.43) {
      const l = this.pick(this.licences, (x) => x.owed > 0);
      if (l) {
        const x = l.owed;
        const out = this.emit({ code: 'DEFAULT', phase: 'posted', refs: this.refs(l), legs: [[acct.overdue(l.id), 'debit', x], [acct.receivable(l.id), 'credit', x]] });
        if (out) [l.owed, l.overdue] = [0, l.overdue + x];
        return out;
      }
    } else if (r < 0.45) {
      const l = this.pick(this.licences, (x) => x.overdue > 0 && !x.claimed);
      if (l) {
        const claim = { id: hex('64e4', this.seq), lic: l };
        const x = Math.min(Math.floor(l.overdue * 0.7) || 1, room(acct.pool()));
        const out = x > 0 ? this.emit({ code: 'COMPENSATION', phase: 'pending', refs: this.refs(l, { claim: claim.id }), maker: MAKER,
          legs: [[acct.pool(), 'debit', x], [acct.compPayable(l.univ), 'credit', x], [acct.recoveryRights(claim.id), 'debit', x], [acct.recoveryOffset(), 'credit', x]] }) : null;
        if (out) {
          l.claimed = true;
          this.pending.set(out.record.seq, { record: out.record, claim });
        }
        return out;
      }
    } else if (r < 0.47 && this.pending.size) {
      const [seq, p] = this.pending.entries().next().value!;
      this.pending.delete(seq);
      const held = p.record.entries[0]!.amountFen;
      const action = this.next() < 0.8 ? 'post' : 'void';
      const x = action === 'post' && this.next() < 0.2 ? Math.max(1, Math.floor(held / 2)) : held;
      const out = this.emit({ code: p.record.code, phase: action, pendingSeq: seq, refs: p.record.refs, release: p.record.entries, maker: MAKER, checker: CHECKER,
        legs: p.record.entries.map((e) => [e.account, e.side, x]) });
      if (out && action === 'post' && p.claim) this.claims.push(p.claim);
      return out;
    } else if (r < 0.48) {
      const c = this.pick(this.claims, (x) => room(acct.compPayable(x.lic.univ)) > 0);
      if (c) {
        const x = room(acct.compPayable(c.lic.univ));
        return this.emit({ code: 'PAYOUT', phase: 'posted', refs: this.refs(c.lic, { claim: c.id }), maker: MAKER, checker: CHECKER, legs: [[acct.compPayable(c.lic.univ), 'debit', x], [acct.bank(), 'credit', x]] });
      }
    } else if (r < 0.49) {
      const c = this.pick(this.claims, (x) => x.lic.overdue > 0 && room(acct.recoveryRights(x.id)) > 0);
      if (c) {
        const x = Math.min(c.lic.overdue, room(acct.recoveryRights(c.id)), amount(1_000, 2_000_000));
        const out = this.emit({ code: 'RECOVERY', phase: 'posted', refs: this.refs(c.lic, { claim: c.id }), legs: [
          [acct.clearing(), 'debit', x], [acct.overdue(c.lic.id), 'credit', x], [acct.settled(c.lic.univ), 'debit', x], [acct.clearing(), 'credit', x],
          [acct.bank(), 'debit', x], [acct.pool(), 'credit', x], [acct.recoveryOffset(), 'debit', x], [acct.recoveryRights(c.id), 'credit', x]] });
        if (out) c.lic.overdue -= x;
        return out;
      }
    } else if (r < 0.495) {
      const c = this.pick(this.claims, (x) => room(acct.recoveryRights(x.id)) > 0);
      if (c) {
        const x = room(acct.recoveryRights(c.id));
        const out = this.emit({ code: 'WRITE_OFF', phase: 'pending', refs: this.refs(c.lic, { claim: c.id }), maker: MAKER, legs: [[acct.recoveryOffset(), 'debit', x], [acct.recoveryRights(c.id), 'credit', x]] });
        if (out) this.pending.set(out.record.seq, { record: out.record, claim: null });
        return out;
      }
    } else if (r < 0.505) {
      const l = this.licences[Math.floor(this.next() * LICENCES)]!;
      const x = Math.min(amount(10_000, 500_000), room(acct.pool()));
      const out = x > 0 ? this.emit({ code: 'SUBSIDY', phase: 'pending', refs: this.refs(null, { licensee: l.sme, province: l.province }), maker: MAKER, legs: [[acct.pool(), 'debit', x], [acct.subsidyPayable(l.sme), 'credit', x]] }) : null;
      if (out) this.pending.set(out.record.seq, { record: out.record, claim: null });
      return out;
    } else if (r < 0.51 && this.accruals.length) {
      const a = this.accruals[Math.floor(this.next() * this.accruals.length)]!;
      if (!this.reversed.has(a.seq) && a.lic.owed >= a.amount) {
        const out = this.emit({ code: 'REVERSAL', phase: 'posted', reverses: a.seq, refs: this.refs(a.lic), maker: MAKER, checker: CHECKER, legs: [[acct.receivable(a.lic.id), 'credit', a.amount], [acct.revenue(a.lic.univ), 'debit', a.amount]] });
        if (out) {
          this.reversed.add(a.seq);
          a.lic.owed -= a.amount;
        }
        return out;
      }
    }
    const l = this.licences[Math.floor(this.next() * LICENCES)]!;
    const x = amount(1_000, 5_000_000);
    const out = this.emit({ code: 'ACCRUAL', phase: 'posted', refs: this.refs(l), legs: [[acct.receivable(l.id), 'debit', x], [acct.revenue(l.univ), 'credit', x]] })!;
    l.owed += x;
    this.accruals.push({ seq: out.record.seq, lic: l, amount: x });
    if (this.accruals.length > 5_000) this.accruals.splice(0, 1_000);
    return out;
  }
}

/** Builds and inserts `total` transfers (with accounts, head, rollups and their cursor) into empty ledger collections. */
export async function buildJournal(total: number, log: (line: string) => void): Promise<BuiltJournal> {
  const t0 = performance.now();
  for (const m of [LedgerTransfer, LedgerAccount, LedgerHead, LedgerRollup]) await m.collection.deleteMany({});
  const gen = new Synthetic(total, 20_260_301);
  let batch: Record<string, unknown>[] = [];
  let inFlight: Promise<unknown> = Promise.resolve();
  while (gen.seq < total) {
    const out = gen.step();
    if (!out) continue;
    batch.push(out.doc);
    if (batch.length === BATCH || gen.seq === total) {
      // One insert in flight while the next batch is computed.
      await inFlight;
      inFlight = LedgerTransfer.collection.insertMany(batch, { ordered: true });
      batch = [];
      if (gen.seq % 100_000 === 0) log(`  ${gen.seq.toLocaleString('en')} transfers inserted (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  }
  await inFlight;
  const now = new Date();
  const accounts = [...gen.accounts].map(([key, a]) => {
    const s = accountSpec(key)!;
    return { key, ledger: LEDGER, kind: s.kind, normal: s.normal, constraint: s.constraint, book: s.book, ownerType: s.owner?.type ?? null, ownerId: s.owner?.id ?? null,
      debitsPosted: a.debitsPosted, creditsPosted: a.creditsPosted, debitsPending: a.debitsPending, creditsPending: a.creditsPending, version: a.version, lastSeq: a.lastSeq, createdAt: now };
  });
  for (let i = 0; i < accounts.length; i += 5_000) await LedgerAccount.collection.insertMany(accounts.slice(i, i + 5_000));
  const rollups = [...gen.rollups].map(([_id, r]) => ({ _id, ...r.identity, ...r.figures }));
  for (let i = 0; i < rollups.length; i += 5_000) await LedgerRollup.collection.insertMany(rollups.slice(i, i + 5_000) as never[]);
  await LedgerHead.collection.insertOne({ _id: LEDGER, seq: gen.seq, hash: gen.prevHash } as never);
  // The rollups were summed over the whole journal: their cursor (ledger-rollups.ts) stands at the head.
  await LedgerHead.collection.insertOne({ _id: ROLLUP_CURSOR, seq: gen.seq, hash: gen.prevHash } as never);
  return {
    transfers: gen.seq, accounts: accounts.length, rollups: rollups.length, seconds: +((performance.now() - t0) / 1000).toFixed(1),
    head: { seq: gen.seq, hash: gen.prevHash },
  };
}
