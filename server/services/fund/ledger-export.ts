/**
 * The journal as a JSONL export a regulator can verify offline with
 * `npm run verify-ledger` (server/ledger-verify-cli.ts): a header, every
 * transfer in seq order with each checkpoint right after the transfer it
 * signs, and — for a current export — every account's stored totals.
 *
 * Streamed a page at a time (keyset on the unique seq index), never the
 * whole journal in memory. "As of" a past day exports the longest prefix of
 * the journal recorded by the end of that day (China time) and the
 * checkpoints issued by then, and nothing else that could change: the same
 * day exported later gives the same bytes. A current export takes the head
 * and the account totals from one snapshot, so they agree with each other.
 */
import mongoose from 'mongoose';
import { LedgerAccount } from '../../../models/ledger-account.js';
import { LedgerCheckpoint } from '../../../models/ledger-checkpoint.js';
import { LedgerHead } from '../../../models/ledger-head.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { AppError } from '../../errors.js';
import { LEDGER } from '../../domain/ledger-chart.js';
import { REF_KEYS, type JournalEntry, type JournalRecord, type TransferRefs } from '../../domain/ledger-record.js';
import { EXPORT_FORMAT, type AccountLine, type CheckpointLine, type ExportHeader, type ExportLine, type TransferLine } from '../../domain/ledger-verify.js';
import { cstDay } from './ledger-post.js';
import { requireRole, type Ctx } from '../context.js';
import type { LedgerSigner } from './signing-key.js';

const PAGE = 2_000;

/** A stored transfer as the JournalRecord that was hashed, fields in canonical order (so exports are byte-stable). */
export function journalRecordFromDoc(doc: Record<string, any>): JournalRecord {
  const refs = {} as TransferRefs;
  for (const k of REF_KEYS) refs[k] = doc.refs?.[k] ?? null;
  return {
    seq: doc.seq, key: doc.key, code: doc.code, phase: doc.phase,
    entries: (doc.entries ?? []).map((e: JournalEntry) => ({ account: e.account, side: e.side, amountFen: e.amountFen })),
    pendingSeq: doc.pendingSeq ?? null, reverses: doc.reverses ?? null, refs, memo: doc.memo ?? '',
    maker: doc.maker ?? null, checker: doc.checker ?? null,
    effectiveAt: new Date(doc.effectiveAt).toISOString(), recordedAt: new Date(doc.recordedAt).toISOString(),
    prevHash: doc.prevHash, hash: doc.hash,
  };
}

/**
 * Transfers seqs from..through, a page at a time, in seq order. Each page
 * asks for one window of seqs (after, after + PAGE] rather than "the next
 * PAGE after": seqs are contiguous, so the window holds the page, and a
 * store that gathers a range before applying the limit (the embedded one
 * does) reads one page per query instead of the rest of the journal. A gap
 * (a deleted transfer) only makes a page short; the verifier names it.
 */
export async function* journalPages(through: number, from = 1): AsyncGenerator<JournalRecord[]> {
  for (let after = from - 1; after < through; after += PAGE) {
    const docs = await LedgerTransfer.find({ seq: { $gt: after, $lte: Math.min(through, after + PAGE) } }).sort({ seq: 1 }).lean();
    if (docs.length) yield docs.map(journalRecordFromDoc);
  }
}

export function checkpointLine(c: Record<string, any>): CheckpointLine {
  return {
    type: 'checkpoint', ledger: c.ledger, seq: c.seq, root: c.root, headHash: c.headHash, time: new Date(c.time).toISOString(),
    signature: c.signature, keyId: c.keyId, publicKey: c.publicKey, issuedBy: c.issuedBy,
  };
}

/** The end of a China-time day, for "as of" that day. */
export function endOfCstDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00.000+08:00`) + 86_400_000 - 1);
}

/** YYYY-MM-DD of a finished day (before today, China time), or a 422 saying what is wrong. */
export function parseAsOf(raw: unknown, now = new Date()): string | null {
  if (raw === undefined || raw === '') return null;
  if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(`${raw}T00:00:00Z`)) || new Date(`${raw}T00:00:00Z`).toISOString().slice(0, 10) !== raw) {
    throw new AppError(422, 'checkpoints.export.bad_date', { value: String(raw).slice(0, 40) });
  }
  if (raw >= cstDay(now)) throw new AppError(422, 'checkpoints.export.not_past', { day: raw });
  return raw;
}

export interface ExportPlan {
  header: ExportHeader;
  checkpoints: CheckpointLine[];
  /** Stored totals (current exports only). */
  accounts: AccountLine[] | null;
}

/** What an export will contain: its last seq, checkpoints and (current) account totals, read consistently. */
export async function planExport(asOf: string | null, signer: LedgerSigner | null): Promise<ExportPlan> {
  let through: number;
  let accounts: AccountLine[] | null = null;
  if (asOf === null) {
    // One snapshot: the head and the totals it produced.
    const snap = await mongoose.connection.transaction(async (session) => {
      const head = await LedgerHead.findById(LEDGER).session(session).lean();
      const docs = await LedgerAccount.find({}, { key: 1, debitsPosted: 1, creditsPosted: 1, debitsPending: 1, creditsPending: 1 }).sort({ key: 1 }).session(session).lean();
      return { seq: head?.seq ?? 0, docs };
    });
    through = snap.seq;
    accounts = snap.docs.map((a) => ({ type: 'account', key: a.key, debitsPosted: a.debitsPosted, creditsPosted: a.creditsPosted, debitsPending: a.debitsPending, creditsPending: a.creditsPending }));
  } else {
    const cutoff = endOfCstDay(asOf);
    const head = await LedgerHead.findById(LEDGER).lean();
    const headSeq = head?.seq ?? 0;
    const later = await LedgerTransfer.findOne({ seq: { $lte: headSeq }, recordedAt: { $gt: cutoff } }).sort({ seq: 1 }).select('seq').lean();
    through = later ? later.seq - 1 : headSeq;
  }
  const filter: Record<string, unknown> = { ledger: LEDGER, seq: { $lte: through } };
  if (asOf !== null) filter.time = { $lte: endOfCstDay(asOf) };
  const checkpoints = (await LedgerCheckpoint.find(filter).sort({ seq: 1, time: 1, _id: 1 }).lean()).map(checkpointLine);
  const keys = new Set(checkpoints.map((c) => c.publicKey!).filter(Boolean));
  if (asOf === null && signer) keys.add(signer.publicKeyPem);
  const header: ExportHeader = { type: 'header', format: EXPORT_FORMAT, ledger: LEDGER, asOf, exportedThroughSeq: through, publicKeys: [...keys].sort() };
  return { header, checkpoints, accounts };
}

/** The export's items, in batches: header, transfers with their checkpoints, account totals. */
export async function* exportItems(plan: ExportPlan): AsyncGenerator<ExportLine[]> {
  const bySeq = new Map<number, CheckpointLine[]>();
  for (const c of plan.checkpoints) bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
  yield [plan.header, ...(bySeq.get(0) ?? [])];
  for await (const page of journalPages(plan.header.exportedThroughSeq)) {
    const batch: ExportLine[] = [];
    for (const r of page) {
      batch.push({ type: 'transfer', ...r } satisfies TransferLine);
      const cps = bySeq.get(r.seq);
      if (cps) batch.push(...cps);
    }
    yield batch;
  }
  if (plan.accounts) yield plan.accounts;
}

/** JSONL text of the export, a page of lines per chunk. */
export async function* exportJsonl(plan: ExportPlan): AsyncGenerator<string> {
  for await (const batch of exportItems(plan)) {
    let text = '';
    for (const item of batch) text += `${JSON.stringify(item)}\n`;
    yield text;
  }
}

/** GET /fund/ledger/export.jsonl: for regulators and the fund's managers. */
export async function ledgerExport(ctx: Ctx, asOfRaw: unknown, signer: LedgerSigner | null): Promise<{ filename: string; chunks: AsyncIterable<string> }> {
  requireRole(ctx, 'regulator', 'fund_manager');
  const asOf = parseAsOf(asOfRaw);
  const plan = await planExport(asOf, signer);
  const stamp = asOf ?? `current-seq${plan.header.exportedThroughSeq}`;
  return { filename: `yrd-fund-ledger-${LEDGER}-${stamp}.jsonl`, chunks: exportJsonl(plan) };
}
