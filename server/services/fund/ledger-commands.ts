/**
 * What callers ask the ledger to do, and the checks every command passes
 * before anything is read: integer fen, known accounts, balanced legs, a key.
 * Errors are dictionary keys (views/locales/<locale>/fund.json) naming the
 * leg or account at fault.
 */
import { AppError } from '../../errors.js';
import { accountSpec, TRANSFER_CODES, type TransferCode } from '../../domain/ledger-chart.js';
import { emptyRefs, payloadDigest, REF_KEYS, type JournalEntry, type TransferRefs } from '../../domain/ledger-record.js';

export interface TransferCommand {
  kind: 'transfer';
  key: string;
  code: TransferCode;
  /** 'pending' reserves (two-phase: claims, subsidies, write-offs); 'posted' is final. */
  phase: 'posted' | 'pending';
  entries: JournalEntry[];
  refs?: Partial<TransferRefs>;
  memo?: string;
  maker: string | null;
  checker?: string | null;
  effectiveAt: Date;
}

/** Post (all or part of) or void a pending transfer — at most once. */
export interface ResolveCommand {
  kind: 'resolve';
  key: string;
  pendingSeq: number;
  action: 'post' | 'void';
  /** post: the amount of each leg to post (≤ the pending amount); default all. */
  amountFen?: number;
  memo?: string;
  maker: string | null;
  checker: string | null;
  effectiveAt: Date;
}

/** The mirror image of a posted transfer, carrying `reverses`. */
export interface ReverseCommand {
  kind: 'reverse';
  key: string;
  reverses: number;
  memo?: string;
  maker: string | null;
  checker: string | null;
  effectiveAt: Date;
}

export type LedgerCommand = TransferCommand | ResolveCommand | ReverseCommand;

const unprocessable = (key: string, params: Record<string, string | number> = {}) => new AppError(422, key, params);

export function isWholeFen(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}

function checkEntries(entries: JournalEntry[]): void {
  if (!Array.isArray(entries) || entries.length === 0) throw unprocessable('ledger.no_entries');
  let debits = 0;
  let credits = 0;
  entries.forEach((e, i) => {
    if (!isWholeFen(e.amountFen)) throw unprocessable('ledger.invalid_amount', { leg: i + 1, amount: String(e.amountFen) });
    if (e.side !== 'debit' && e.side !== 'credit') throw unprocessable('ledger.invalid_side', { leg: i + 1 });
    if (!accountSpec(e.account)) throw unprocessable('ledger.unknown_account', { account: String(e.account) });
    if (e.side === 'debit') debits += e.amountFen;
    else credits += e.amountFen;
  });
  if (!Number.isSafeInteger(debits) || !Number.isSafeInteger(credits)) throw unprocessable('ledger.amount_too_large');
  if (debits !== credits) throw unprocessable('ledger.unbalanced', { debits, credits });
}

/** Throws 422 unless the command is well formed; returns the refs with every key present. */
export function checkCommand(c: LedgerCommand): TransferRefs {
  if (typeof c.key !== 'string' || !c.key.trim() || c.key.length > 200) throw unprocessable('ledger.key_required');
  if (!(c.effectiveAt instanceof Date) || Number.isNaN(c.effectiveAt.getTime())) throw unprocessable('ledger.invalid_date');
  if (c.memo !== undefined && (typeof c.memo !== 'string' || c.memo.length > 2000)) throw unprocessable('ledger.memo_too_long');
  if (c.kind === 'transfer') {
    if (!TRANSFER_CODES.includes(c.code)) throw unprocessable('ledger.invalid_code', { code: String(c.code) });
    if (c.code === 'REVERSAL') throw unprocessable('ledger.reversal_by_command');
    if (c.phase !== 'posted' && c.phase !== 'pending') throw unprocessable('ledger.invalid_phase');
    checkEntries(c.entries);
    const refs = emptyRefs();
    for (const k of REF_KEYS) {
      const v = c.refs?.[k];
      if (v !== undefined && v !== null) refs[k] = String(v);
    }
    return refs;
  }
  if (c.kind === 'resolve') {
    if (!Number.isSafeInteger(c.pendingSeq) || c.pendingSeq < 1) throw unprocessable('ledger.pending_not_found', { seq: String(c.pendingSeq) });
    if (c.action !== 'post' && c.action !== 'void') throw unprocessable('ledger.invalid_phase');
    if (c.amountFen !== undefined && !isWholeFen(c.amountFen)) throw unprocessable('ledger.invalid_amount', { leg: 1, amount: String(c.amountFen) });
    return emptyRefs();
  }
  if (c.kind === 'reverse') {
    if (!Number.isSafeInteger(c.reverses) || c.reverses < 1) throw unprocessable('ledger.transfer_not_found', { seq: String(c.reverses) });
    return emptyRefs();
  }
  throw unprocessable('ledger.invalid_phase');
}

/** What the idempotency key stands for: everything the caller chose, nothing the ledger assigns. */
export function commandDigest(c: LedgerCommand, refs: TransferRefs): string {
  const base = { kind: c.kind, key: c.key, memo: c.memo ?? '', maker: c.maker, effectiveAt: c.effectiveAt.toISOString() };
  if (c.kind === 'transfer') return payloadDigest({ ...base, code: c.code, phase: c.phase, entries: c.entries.map((e) => [e.account, e.side, e.amountFen]), refs, checker: c.checker ?? null });
  if (c.kind === 'resolve') return payloadDigest({ ...base, pendingSeq: c.pendingSeq, action: c.action, amountFen: c.amountFen ?? null, checker: c.checker });
  return payloadDigest({ ...base, reverses: c.reverses, checker: c.checker });
}
