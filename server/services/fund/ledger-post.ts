/**
 * The one writer of the fund ledger. A batch of commands is checked, applied
 * to the accounts in memory in order — each checked against the balance
 * constraints as it lands — given contiguous seqs and chained hashes, and
 * then written with one insert of transfers, one compare-and-set per account
 * touched, and the head moved conditionally on the seq read: all inside
 * the caller's transaction, so a transfer and the business change it
 * records (a claim approved, an event posted) commit together or not at
 * all. The day rollups are projected from the journal afterwards
 * (ledger-rollups.ts).
 *
 * There is no update or delete of a transfer anywhere in the code: a wrong
 * transfer is corrected by a reversal (ReverseCommand).
 */
import type { ClientSession } from 'mongoose';
import { LedgerAccount } from '../../../models/ledger-account.js';
import { LedgerHead } from '../../../models/ledger-head.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { formatYuan } from '../../domain/money.js';
import { AppError, ConflictError } from '../../errors.js';
import { accountSpec, constraintHeadroom, LEDGER, type AccountSpec, type Totals } from '../../domain/ledger-chart.js';
import { canonical, chainHash, GENESIS_HASH, type JournalEntry, type JournalRecord, type TransferRefs } from '../../domain/ledger-record.js';
import { checkCommand, commandDigest, type LedgerCommand } from './ledger-commands.js';

export type PostedRecord = JournalRecord & { replayed: boolean };

/** Per command: its record, or the error that refused it (isolated batches only). */
export type Outcome = { ok: true; record: PostedRecord } | { ok: false; error: unknown };

interface AccountState extends Totals {
  spec: AccountSpec;
  version: number;
  isNew: boolean;
  touched: boolean;
  lastSeq: number;
}

const TOTAL_FIELDS = ['debitsPosted', 'creditsPosted', 'debitsPending', 'creditsPending'] as const;

/** An account as stored: its four totals, version and last seq. */
export type AccountRow = Totals & { version: number; lastSeq: number };

/**
 * What a caller believes is committed — the journal head and some accounts
 * — so a batch need not read them again. Belief is enough because every
 * write is conditional on it: the head moves only from the seq believed and
 * each account only from the version believed, so a stale belief aborts the
 * transaction instead of writing anything wrong.
 */
export interface KnownState {
  head: { seq: number; hash: string } | null;
  accounts: Map<string, AccountRow>;
}

/** YYYY-MM-DD in China Standard Time (UTC+8, no daylight saving): the business day the console groups by. */
export function cstDay(d: Date): string {
  return new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

function toRecord(doc: Record<string, any>): JournalRecord {
  return {
    seq: doc.seq, key: doc.key, code: doc.code, phase: doc.phase,
    entries: (doc.entries ?? []).map((e: JournalEntry) => ({ account: e.account, side: e.side, amountFen: e.amountFen })),
    pendingSeq: doc.pendingSeq ?? null, reverses: doc.reverses ?? null, refs: { ...doc.refs }, memo: doc.memo ?? '',
    maker: doc.maker ?? null, checker: doc.checker ?? null,
    effectiveAt: new Date(doc.effectiveAt).toISOString(), recordedAt: new Date(doc.recordedAt).toISOString(),
    prevHash: doc.prevHash, hash: doc.hash,
  };
}

export { toRecord as journalRecordOf };

/** Names the account and what it could still take before this change. */
const constraintError = (before: AccountState) => new ConflictError(
  before.spec.constraint === 'debits_must_not_exceed_credits' ? 'ledger.exceeds_available' : 'ledger.exceeds_owed',
  { account: before.spec.key, availableFen: Math.max(0, constraintHeadroom(before.spec.constraint, before)), available: formatYuan(Math.max(0, constraintHeadroom(before.spec.constraint, before))) },
);

/**
 * Applies `commands` in the caller's transaction. With `isolate`, a command
 * that is refused is reported in its outcome and leaves no trace while the
 * rest go on (the group-commit poster); without, the first refusal throws
 * and the caller's transaction aborts whole.
 */
export async function applyCommands(
  commands: LedgerCommand[], session: ClientSession,
  opts: { isolate?: boolean; now?: Date; known?: KnownState | null; learn?: (state: KnownState) => void } = {},
): Promise<Outcome[]> {
  const now = opts.now ?? new Date();
  const outcomes: (Outcome | null)[] = commands.map(() => null);
  const fail = (i: number, error: unknown) => {
    if (!opts.isolate) throw error;
    outcomes[i] = { ok: false, error };
  };
  const checked: { i: number; c: LedgerCommand; refs: TransferRefs; digest: string }[] = [];
  commands.forEach((c, i) => {
    try {
      const refs = checkCommand(c);
      checked.push({ i, c, refs, digest: commandDigest(c, refs) });
    } catch (err) {
      fail(i, err);
    }
  });

  // Everything the batch depends on, read once.
  const keys = [...new Set(checked.map((x) => x.c.key))];
  const seqsNeeded = [...new Set(checked.flatMap(({ c }) => (c.kind === 'resolve' ? [c.pendingSeq] : c.kind === 'reverse' ? [c.reverses] : [])))];
  // One after another: operations of one transaction must not overlap on its session. The driver's collections
  // directly (not Mongoose queries): this is the hot path, and every document it writes is built here from checked commands.
  const transfers = LedgerTransfer.collection;
  const known = opts.known ?? null;
  const head = known ? known.head : await LedgerHead.collection.findOne({ _id: LEDGER as never }, { session });
  const existing = keys.length ? await transfers.find({ key: { $in: keys } }, { session }).toArray() : [];
  const referenced = seqsNeeded.length ? await transfers.find({ seq: { $in: seqsNeeded } }, { session }).toArray() : [];
  const resolutions = seqsNeeded.length ? await transfers.find({ pendingSeq: { $in: seqsNeeded } }, { session, projection: { seq: 1, pendingSeq: 1 } }).toArray() : [];
  const reversals = seqsNeeded.length ? await transfers.find({ reverses: { $in: seqsNeeded } }, { session, projection: { seq: 1, reverses: 1 } }).toArray() : [];
  const byKey = new Map<string, { digest: string; record: JournalRecord }>(existing.map((d) => [d.key, { digest: d.payload, record: toRecord(d) }]));
  const bySeq = new Map<number, JournalRecord>(referenced.map((d) => [d.seq, toRecord(d)]));
  const resolved = new Set<number>(resolutions.map((d) => d.pendingSeq as number));
  const reversed = new Set<number>(reversals.map((d) => d.reverses as number));

  const legsOf = (c: LedgerCommand): JournalEntry[] | null => {
    if (c.kind === 'transfer') return c.entries;
    const orig = bySeq.get(c.kind === 'resolve' ? c.pendingSeq : c.reverses);
    return orig ? orig.entries : null;
  };
  const accountKeys = [...new Set(checked.flatMap(({ c }) => (legsOf(c) ?? []).map((e) => e.account)))];
  const accounts = new Map<string, AccountState>();
  for (const k of accountKeys) {
    const row = known?.accounts.get(k);
    if (row) accounts.set(k, { ...row, spec: accountSpec(k)!, isNew: false, touched: false });
  }
  const unknown = accountKeys.filter((k) => !accounts.has(k));
  if (unknown.length) {
    const docs = await LedgerAccount.collection.find({ key: { $in: unknown } }, { session }).toArray();
    for (const d of docs) accounts.set(d.key, { spec: accountSpec(d.key)!, version: d.version, isNew: false, touched: false, lastSeq: d.lastSeq, debitsPosted: d.debitsPosted, creditsPosted: d.creditsPosted, debitsPending: d.debitsPending, creditsPending: d.creditsPending });
    for (const k of unknown) {
      if (!accounts.has(k)) accounts.set(k, { spec: accountSpec(k)!, version: 0, isNew: true, touched: false, lastSeq: 0, debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 });
    }
  }

  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  const fresh: JournalRecord[] = [];
  const freshDigests: string[] = [];

  for (const { i, c, refs, digest } of checked) {
    const seen = byKey.get(c.key);
    if (seen) {
      if (seen.digest === digest) outcomes[i] = { ok: true, record: { ...seen.record, replayed: true } };
      else fail(i, new ConflictError('ledger.key_reused', { key: c.key }));
      continue;
    }
    try {
      const { record, deltas } = plan(c, refs, bySeq, resolved, reversed);
      // Apply to copies first: a refused command must leave the in-memory accounts as they were.
      const after = new Map<string, AccountState>();
      for (const [key, d] of deltas) {
        const a = { ...accounts.get(key)! };
        for (const f of TOTAL_FIELDS) a[f] += d[f];
        if (TOTAL_FIELDS.some((f) => !Number.isSafeInteger(a[f]) || a[f] < 0)) throw new AppError(422, 'ledger.amount_too_large');
        if (constraintHeadroom(a.spec.constraint, a) < 0 && worsens(a.spec, d)) throw constraintError(accounts.get(key)!);
        after.set(key, a);
      }
      seq += 1;
      const full = { ...record, seq, recordedAt: now.toISOString() };
      const hash = chainHash(prevHash, canonical(full));
      const rec: JournalRecord = { ...full, prevHash, hash };
      prevHash = hash;
      for (const [key, a] of after) accounts.set(key, { ...a, touched: true, lastSeq: seq });
      if (c.kind === 'resolve') resolved.add(c.pendingSeq);
      if (c.kind === 'reverse') reversed.add(c.reverses);
      bySeq.set(seq, rec);
      byKey.set(c.key, { digest, record: rec });
      fresh.push(rec);
      freshDigests.push(digest);
      outcomes[i] = { ok: true, record: { ...rec, replayed: false } };
    } catch (err) {
      fail(i, err);
    }
  }

  if (fresh.length) {
    await write(fresh, freshDigests, accounts, head ? { seq: head.seq, hash: head.hash } : null, seq, prevHash, session);
    const touched = new Map<string, AccountRow>();
    for (const [k, a] of accounts) {
      if (a.touched) touched.set(k, { version: a.isNew ? 1 : a.version + 1, lastSeq: a.lastSeq, debitsPosted: a.debitsPosted, creditsPosted: a.creditsPosted, debitsPending: a.debitsPending, creditsPending: a.creditsPending });
    }
    opts.learn?.({ head: { seq, hash: prevHash }, accounts: touched });
  }
  return outcomes.map((o) => o ?? { ok: false, error: new AppError(422, 'ledger.invalid_phase') });
}

type Delta = Totals;

/** Only a change that eats into the constraint can break it (a void or a partial post releases more than it takes). */
function worsens(spec: AccountSpec, d: Delta): boolean {
  if (spec.constraint === 'debits_must_not_exceed_credits') return d.debitsPosted + d.debitsPending - d.creditsPosted > 0;
  if (spec.constraint === 'credits_must_not_exceed_debits') return d.creditsPosted + d.creditsPending - d.debitsPosted > 0;
  return false;
}

function addDelta(deltas: Map<string, Delta>, e: JournalEntry, phase: 'posted' | 'pending', sign: 1 | -1): void {
  const d = deltas.get(e.account) ?? { debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 };
  const field = `${e.side === 'debit' ? 'debits' : 'credits'}${phase === 'posted' ? 'Posted' : 'Pending'}` as keyof Delta;
  d[field] += sign * e.amountFen;
  deltas.set(e.account, d);
}

/** The record (without seq and chain) and the per-account changes a command makes, or the reason it cannot. */
function plan(c: LedgerCommand, refs: TransferRefs, bySeq: Map<number, JournalRecord>, resolved: Set<number>, reversed: Set<number>) {
  const deltas = new Map<string, Delta>();
  const base = { key: c.key, memo: c.memo ?? '', maker: c.maker, effectiveAt: c.effectiveAt.toISOString(), pendingSeq: null as number | null, reverses: null as number | null };
  if (c.kind === 'transfer') {
    for (const e of c.entries) addDelta(deltas, e, c.phase, 1);
    return { deltas, record: { ...base, code: c.code, phase: c.phase, entries: c.entries.map((e) => ({ ...e })), refs, checker: c.checker ?? null } };
  }
  if (c.kind === 'resolve') {
    const p = bySeq.get(c.pendingSeq);
    if (!p || p.phase !== 'pending') throw new AppError(404, 'ledger.pending_not_found', { seq: c.pendingSeq });
    if (resolved.has(c.pendingSeq)) throw new ConflictError('ledger.pending_resolved', { seq: c.pendingSeq });
    // A partial post names one amount for every leg, so it needs legs of one amount (a claim's pool leg and its memo leg).
    const held = p.entries[0]!.amountFen;
    const partial = c.action === 'post' && c.amountFen !== undefined && c.amountFen !== held;
    if (partial && p.entries.some((e) => e.amountFen !== held)) throw new AppError(422, 'ledger.partial_needs_equal_legs', { seq: c.pendingSeq });
    if (partial && c.amountFen! > held) throw new AppError(422, 'ledger.post_exceeds_pending', { amountFen: c.amountFen!, pendingFen: held, amount: formatYuan(c.amountFen!), pending: formatYuan(held) });
    for (const e of p.entries) addDelta(deltas, e, 'pending', -1);
    const entries = p.entries.map((e) => ({ ...e, amountFen: partial ? c.amountFen! : e.amountFen }));
    if (c.action === 'post') for (const e of entries) addDelta(deltas, e, 'posted', 1);
    return { deltas, record: { ...base, code: p.code, phase: c.action, entries, pendingSeq: c.pendingSeq, refs: { ...p.refs }, checker: c.checker } };
  }
  const o = bySeq.get(c.reverses);
  if (!o) throw new AppError(404, 'ledger.transfer_not_found', { seq: c.reverses });
  if ((o.phase !== 'posted' && o.phase !== 'post') || o.code === 'REVERSAL') throw new ConflictError('ledger.not_reversible', { seq: c.reverses });
  if (reversed.has(c.reverses)) throw new ConflictError('ledger.already_reversed', { seq: c.reverses });
  const entries = o.entries.map((e) => ({ account: e.account, side: e.side === 'debit' ? 'credit' as const : 'debit' as const, amountFen: e.amountFen }));
  for (const e of entries) addDelta(deltas, e, 'posted', 1);
  return { deltas, record: { ...base, code: 'REVERSAL' as const, phase: 'posted' as const, entries, reverses: c.reverses, refs: { ...o.refs }, checker: c.checker } };
}

async function write(
  fresh: JournalRecord[], digests: string[], accounts: Map<string, AccountState>, headRead: { seq: number; hash: string } | null, seq: number, hash: string, session: ClientSession,
): Promise<void> {
  await LedgerTransfer.collection.insertMany(fresh.map((r, i) => ({ ...r, payload: digests[i], effectiveAt: new Date(r.effectiveAt), recordedAt: new Date(r.recordedAt) })), { session });
  const now = new Date();
  const ops = [];
  for (const a of accounts.values()) {
    if (!a.touched) continue;
    const totals = { debitsPosted: a.debitsPosted, creditsPosted: a.creditsPosted, debitsPending: a.debitsPending, creditsPending: a.creditsPending, lastSeq: a.lastSeq };
    if (a.isNew) {
      const s = a.spec;
      ops.push({ insertOne: { document: { key: s.key, ledger: LEDGER, kind: s.kind, normal: s.normal, constraint: s.constraint, book: s.book, ownerType: s.owner?.type ?? null, ownerId: s.owner?.id ?? null, ...totals, version: 1, createdAt: now } } });
    } else {
      ops.push({ updateOne: { filter: { key: a.spec.key, version: a.version }, update: { $set: totals, $inc: { version: 1 } } } });
    }
  }
  const updates = ops.filter((o) => 'updateOne' in o).length;
  const r = await LedgerAccount.collection.bulkWrite(ops as never, { session, ordered: true });
  // Fail closed: a version that moved under a snapshot read means something wrote outside this service.
  if (r.matchedCount !== updates) throw new ConflictError('ledger.concurrent_change');
  // Conditional on the hash as well as the seq: a head believed from an earlier batch (ledger.ts) must be this very
  // history, and the account totals are a function of the history, so their versions can then be trusted too.
  const h = headRead === null
    ? await LedgerHead.collection.insertOne({ _id: LEDGER as never, seq, hash }, { session }).then(() => ({ matchedCount: 1 }))
    : await LedgerHead.collection.updateOne({ _id: LEDGER as never, seq: headRead.seq, hash: headRead.hash }, { $set: { seq, hash } }, { session });
  if (h.matchedCount !== 1) throw new ConflictError('ledger.concurrent_change');
}
