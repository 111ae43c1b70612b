/**
 * The balance half of the offline verifier: replays a journal's transfers
 * into account totals exactly as the posting service applies them
 * (server/services/fund/ledger-post.ts) and reports every transfer the
 * service could never have written — unbalanced, unknown accounts, a
 * pending transfer resolved twice or not matching what it resolves, a
 * reversal that is not the mirror of its original, a balance floor broken.
 *
 * Semantics, as posted: `posted` adds to the posted totals; `pending` adds
 * to the pending totals; `post` removes the pending amounts of the transfer
 * it resolves and adds its own legs as posted (all legs, or a partial
 * amount on every leg); `void` removes the pending amounts; a reversal is a
 * posted mirror of a posted transfer, at most once.
 *
 * Built for a million transfers: what later transfers need of earlier ones
 * is kept per seq in typed arrays (a flag byte and a 64-bit fingerprint of
 * the legs), and only unresolved pending transfers are kept whole.
 */
import { accountSpec, constraintHeadroom, TRANSFER_CODES, type AccountSpec, type Totals } from './ledger-chart.js';
import type { JournalEntry, JournalRecord } from './ledger-record.js';

/** What the replay reads of a record. */
export type ReplayRecord = Pick<JournalRecord, 'seq' | 'code' | 'phase' | 'entries' | 'pendingSeq' | 'reverses'>;

export type Report = (seq: number | null, code: string, params: Record<string, string | number>) => void;

interface Account extends Totals {
  spec: AccountSpec;
  /** The account's number in this replay, in the order first met. */
  id: number;
}

const PENDING = 1;
const RESOLVED = 2;
const REVERSIBLE = 4;
const REVERSED = 8;
const CODES = new Set<string>(TRANSFER_CODES);

/**
 * Two 32-bit FNV-1a lanes over the legs (sides optionally flipped): what a
 * reversal must mirror. Each leg's account enters by its number in this
 * replay (`accounts[i]` is entries[i]'s), not its name: one multiply where
 * hashing the name cost a loop over forty-odd characters per leg.
 */
function fingerprint(accounts: Account[], entries: JournalEntry[], flip: boolean): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ entries.length;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const id = accounts[i]!.id;
    const side = (e.side === 'debit') !== flip ? 1 : 2;
    const lo = e.amountFen % 0x100000000;
    const hi = Math.floor(e.amountFen / 0x100000000);
    a = Math.imul(a ^ id, 0x01000193);
    a = Math.imul(a ^ side, 0x01000193);
    a = Math.imul(a ^ lo, 0x01000193);
    a = Math.imul(a ^ hi, 0x01000193);
    b = Math.imul(b ^ id, 0x5bd1e995);
    b = Math.imul(b ^ (lo + side), 0x5bd1e995);
    b = Math.imul(b ^ hi, 0x5bd1e995);
  }
  return [a >>> 0, b >>> 0];
}

export class BalanceReplay {
  readonly accounts = new Map<string, Account>();
  private flags = new Uint8Array(1 << 16);
  private fpA = new Uint32Array(1 << 16);
  private fpB = new Uint32Array(1 << 16);
  /** Unresolved pending transfers: what their resolution must match. */
  private readonly open = new Map<number, { code: string; entries: JournalEntry[] }>();

  constructor(private readonly report: Report) {}

  private grow(seq: number): void {
    if (seq < this.flags.length) return;
    let n = this.flags.length;
    while (n <= seq) n *= 2;
    const f = new Uint8Array(n);
    f.set(this.flags);
    const a = new Uint32Array(n);
    a.set(this.fpA);
    const b = new Uint32Array(n);
    b.set(this.fpB);
    this.flags = f;
    this.fpA = a;
    this.fpB = b;
  }

  /** The accounts of the legs being applied, in leg order (reused: no allocation per transfer). */
  private readonly legAccounts: Account[] = [];
  private readonly headroomBefore: number[] = [];

  /** Legs are whole positive fen on known accounts, and balance. False when the transfer cannot be applied. */
  private legsValid(r: ReplayRecord): boolean {
    const entries = r.entries;
    if (entries.length < 2) {
      this.report(r.seq, 'no_entries', { seq: r.seq });
      return false;
    }
    let debits = 0;
    let credits = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!Number.isSafeInteger(e.amountFen) || e.amountFen <= 0) {
        this.report(r.seq, 'bad_amount', { seq: r.seq, leg: i + 1, amount: String(e.amountFen) });
        return false;
      }
      if (e.side === 'debit') debits += e.amountFen;
      else if (e.side === 'credit') credits += e.amountFen;
      else {
        this.report(r.seq, 'bad_side', { seq: r.seq, leg: i + 1 });
        return false;
      }
      const a = this.account(e.account);
      if (!a) {
        this.report(r.seq, 'unknown_account', { seq: r.seq, account: e.account });
        return false;
      }
      this.legAccountOf[i] = a;
    }
    if (debits !== credits || !Number.isSafeInteger(debits)) {
      this.report(r.seq, 'unbalanced', { seq: r.seq, debits, credits });
      return false;
    }
    return true;
  }

  private account(key: string): Account | null {
    let a = this.accounts.get(key);
    if (!a) {
      const spec = accountSpec(key);
      if (!spec) return null;
      a = { spec, id: this.accounts.size + 1, debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 };
      this.accounts.set(key, a);
    }
    return a;
  }

  /** Each leg's account, as legsValid() found it (saves a second Map lookup per leg). */
  private readonly legAccountOf: Account[] = [];

  /** Moves one leg's amount into (sign 1) or out of (−1) the posted or pending totals, noting the account's headroom first. */
  private move(e: JournalEntry, pending: boolean, sign: number, known?: Account): void {
    const a = known ?? this.accounts.get(e.account)!;
    if (!this.legAccounts.includes(a)) {
      this.legAccounts.push(a);
      this.headroomBefore.push(constraintHeadroom(a.spec.constraint, a));
    }
    const amount = sign * e.amountFen;
    if (e.side === 'debit') {
      if (pending) a.debitsPending += amount;
      else a.debitsPosted += amount;
    } else if (pending) a.creditsPending += amount;
    else a.creditsPosted += amount;
  }

  /** Applies one transfer (already known to sit at its place in the chain). */
  apply(r: ReplayRecord): void {
    const seq = r.seq;
    this.grow(seq);
    const phase = r.phase;
    if (!CODES.has(r.code) || (phase !== 'posted' && phase !== 'pending' && phase !== 'post' && phase !== 'void')) {
      this.report(seq, 'bad_code', { seq, code: String(r.code), phase: String(phase) });
      return;
    }
    if (!this.legsValid(r)) return;
    const resolves = phase === 'post' || phase === 'void';
    if (resolves !== (r.pendingSeq !== null) || (r.code === 'REVERSAL') !== (r.reverses !== null) || (r.reverses !== null && phase !== 'posted')) {
      this.report(seq, 'bad_links', { seq });
      return;
    }
    this.legAccounts.length = 0;
    this.headroomBefore.length = 0;
    const entries = r.entries;
    if (!resolves) {
      if (r.reverses !== null && !this.mirrors(r)) return;
      const pending = phase === 'pending';
      for (let i = 0; i < entries.length; i++) this.move(entries[i]!, pending, 1, this.legAccountOf[i]);
      if (pending) {
        this.flags[seq] = PENDING;
        this.open.set(seq, { code: r.code, entries });
      } else if (r.code !== 'REVERSAL') this.remember(seq, entries);
    } else {
      const p = this.resolvable(r);
      if (!p) return;
      for (const e of p.entries) this.move(e, true, -1);
      if (phase === 'post') {
        for (let i = 0; i < entries.length; i++) this.move(entries[i]!, false, 1, this.legAccountOf[i]);
        this.remember(seq, entries);
      }
    }
    for (let i = 0; i < this.legAccounts.length; i++) this.checkFloors(seq, this.legAccounts[i]!, this.headroomBefore[i]!);
  }

  private remember(seq: number, entries: JournalEntry[]): void {
    const [a, b] = fingerprint(this.legAccountOf, entries, false);
    this.flags[seq] = REVERSIBLE;
    this.fpA[seq] = a;
    this.fpB[seq] = b;
  }

  /** A reversal names an earlier posted transfer, once, and mirrors its legs. */
  private mirrors(r: ReplayRecord): boolean {
    const o = r.reverses!;
    const f = Number.isSafeInteger(o) && o >= 1 && o < r.seq ? this.flags[o]! : 0;
    if (!(f & REVERSIBLE)) {
      this.report(r.seq, 'reverse_missing', { seq: r.seq, reverses: String(o) });
      return false;
    }
    if (f & REVERSED) {
      this.report(r.seq, 'reverse_twice', { seq: r.seq, reverses: o });
      return false;
    }
    const [a, b] = fingerprint(this.legAccountOf, r.entries, true);
    if (a !== this.fpA[o] || b !== this.fpB[o]) {
      this.report(r.seq, 'reverse_mismatch', { seq: r.seq, reverses: o });
      return false;
    }
    this.flags[o] = f | REVERSED;
    return true;
  }

  /** The pending transfer a post/void resolves, if it may: open, same code, legs matching (a partial post: one amount on equal legs). */
  private resolvable(r: ReplayRecord): { code: string; entries: JournalEntry[] } | null {
    const ps = r.pendingSeq!;
    const f = Number.isSafeInteger(ps) && ps >= 1 && ps < r.seq ? this.flags[ps]! : 0;
    if (f & RESOLVED) {
      this.report(r.seq, 'pending_twice', { seq: r.seq, pending: ps });
      return null;
    }
    const p = f & PENDING ? this.open.get(ps) : undefined;
    if (!p) {
      this.report(r.seq, 'pending_missing', { seq: r.seq, pending: String(ps) });
      return null;
    }
    const held = p.entries[0]!.amountFen;
    const amount = r.entries[0]!.amountFen;
    const sameLegs = p.entries.length === r.entries.length
      && p.entries.every((e, i) => e.account === r.entries[i]!.account && e.side === r.entries[i]!.side);
    const full = sameLegs && p.entries.every((e, i) => e.amountFen === r.entries[i]!.amountFen);
    const partial = sameLegs && r.phase === 'post' && amount < held
      && p.entries.every((e) => e.amountFen === held) && r.entries.every((e) => e.amountFen === amount);
    if (p.code !== r.code || !(full || partial)) {
      this.report(r.seq, 'resolve_mismatch', { seq: r.seq, pending: ps });
      return null;
    }
    this.flags[ps] = f | RESOLVED;
    this.open.delete(ps);
    return p;
  }

  /** No total below zero; a balance floor may not be broken by a change that eats into it (as the service checks). */
  private checkFloors(seq: number, a: Account, before: number): void {
    if (a.debitsPosted < 0 || a.creditsPosted < 0 || a.debitsPending < 0 || a.creditsPending < 0) {
      this.report(seq, 'negative_total', { seq, account: a.spec.key });
      return;
    }
    const after = constraintHeadroom(a.spec.constraint, a);
    if (after < 0 && after < before) this.report(seq, 'constraint', { seq, account: a.spec.key, shortFen: -after });
  }

  /** Σ debits = Σ credits over every account, posted and pending apart. */
  sums(): Totals {
    const s = { debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 };
    for (const a of this.accounts.values()) {
      s.debitsPosted += a.debitsPosted;
      s.creditsPosted += a.creditsPosted;
      s.debitsPending += a.debitsPending;
      s.creditsPending += a.creditsPending;
    }
    return s;
  }
}
