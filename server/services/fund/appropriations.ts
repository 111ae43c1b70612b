/**
 * Money the fund receives from its funders (the finance departments the
 * rules name), recorded by the fund manager as an APPROPRIATION: Dr fund:bank
 * / Cr fund:pool, with the funder, the bank's reference and the day the money
 * arrived (China time) as the business date.
 *
 * Each form carries an idempotency key made when it was shown, and the key is
 * the transfer's: a double click, a retried request or a resubmitted page
 * records the money once (the ledger replays the original), and the audit
 * row is written with the original only, in the same transaction. The same
 * form changed and sent again is refused (409), since it no longer says what
 * was recorded under its key.
 */
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { LedgerAccount } from '../../../models/ledger-account.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { User } from '../../../models/user.js';
import { acct, availableBalance, postedBalance } from '../../domain/ledger-chart.js';
import { parseYuanToFen } from '../../domain/money.js';
import { AppError, ConflictError, ValidationError, type FieldError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { requireRole, type Ctx } from '../context.js';
import { rulesInForce, type Rules } from './fund-rules.js';
import { postInTransaction, type PostedRecord, type TransferCommand } from './ledger.js';
import { cstDay } from './ledger-post.js';

/** RMB 10 billion: far above any single appropriation; anything bigger is a typing mistake. */
export const MAX_APPROPRIATION_FEN = 1_000_000_000_000;
const KEY_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Letters, digits and the punctuation bank references use; nothing that could be markup. */
const REFERENCE_SHAPE = /^[\p{L}\p{N}\-_/.# ]{4,64}$/u;
/** Separates funder and bank reference in the transfer's memo (a reference cannot contain it). */
const MEMO_SEPARATOR = ' · ';

export interface AppropriationForm {
  funder?: string;
  amount?: string;
  reference?: string;
  date?: string;
  key?: string;
}

export interface FunderChoice {
  index: number;
  name: string;
  shareBps: number;
}

const fundersOf = (rules: Rules | null): FunderChoice[] => (rules?.funders ?? []).map((f, index) => ({ index, name: f.name, shareBps: f.shareBps }));

/** What the form offers: the funders of the rules in force, today's date, and a fresh idempotency key. */
export async function appropriationFormData(ctx: Ctx, now = new Date()) {
  requireRole(ctx, 'fund_manager');
  const rules = await rulesInForce(now);
  return { funders: fundersOf(rules), rulesVersion: rules?.version ?? null, today: cstDay(now), key: randomUUID() };
}

function parseAppropriation(form: AppropriationForm, rules: Rules | null, now: Date) {
  const errors: Record<string, FieldError> = {};
  const funders = fundersOf(rules);
  const index = /^\d{1,2}$/.test(form.funder ?? '') ? Number(form.funder) : -1;
  const funder = funders[index];
  if (!funder) errors.funder = { key: 'fund.appropriation.funder_invalid' };
  const amountFen = parseYuanToFen(form.amount ?? '');
  if (amountFen === null || amountFen < 1) errors.amount = { key: 'fund.appropriation.amount_invalid' };
  else if (amountFen > MAX_APPROPRIATION_FEN) errors.amount = { key: 'fund.appropriation.amount_too_large' };
  const reference = (form.reference ?? '').normalize('NFKC').trim();
  if (!REFERENCE_SHAPE.test(reference)) errors.reference = { key: 'fund.appropriation.reference_invalid' };
  const day = (form.date ?? '').trim();
  const date = /^\d{4}-\d{2}-\d{2}$/.test(day) ? new Date(`${day}T00:00:00+08:00`) : null;
  if (!date || Number.isNaN(date.getTime()) || cstDay(date) !== day) errors.date = { key: 'fund.appropriation.date_invalid' };
  else if (day > cstDay(now)) errors.date = { key: 'fund.appropriation.date_future' };
  const key = (form.key ?? '').trim();
  if (!KEY_SHAPE.test(key)) errors.key = { key: 'fund.appropriation.key_invalid' };
  if (Object.keys(errors).length) throw new ValidationError(errors);
  const org = rules!.funders[funder!.index]!.organization;
  return { funder: funder!, funderRef: org ? String(org) : String(funder!.index), amountFen: amountFen!, reference, day, date: date!, key };
}

const isRace = (err: unknown) => (err instanceof AppError && err.key === 'ledger.concurrent_change') || (err as { code?: number }).code === 11000;

/** Records one appropriation; returns the ledger record (`replayed` when this form had been submitted before). */
export async function recordAppropriation(ctx: Ctx, form: AppropriationForm, now = new Date()): Promise<PostedRecord> {
  const actor = requireRole(ctx, 'fund_manager');
  const rules = await rulesInForce(now);
  const p = parseAppropriation(form, rules, now);
  const command: TransferCommand = {
    kind: 'transfer', key: `appropriation:${p.key}`, code: 'APPROPRIATION', phase: 'posted',
    entries: [{ account: acct.bank(), side: 'debit', amountFen: p.amountFen }, { account: acct.pool(), side: 'credit', amountFen: p.amountFen }],
    refs: { funder: p.funderRef }, memo: `${p.funder.name}${MEMO_SEPARATOR}${p.reference}`, maker: String(actor.userId), effectiveAt: p.date,
  };
  for (let attempt = 0; ; attempt++) {
    try {
      return await mongoose.connection.transaction(async (session) => {
        const [record] = await postInTransaction([command], session);
        if (!record!.replayed) {
          await recordAudit(ctx, 'fund.appropriation_recorded', { type: 'LedgerTransfer', id: String(record!.seq) }, {
            seq: record!.seq, funder: p.funder.name, funderRef: p.funderRef, rulesVersion: rules!.version, amountFen: p.amountFen, reference: p.reference, date: p.day,
          }, session);
        }
        return record!;
      });
    } catch (err) {
      if (err instanceof AppError && err.key === 'ledger.key_reused') throw new ConflictError('fund.appropriation.already_submitted');
      // Two submissions of one form at once: the loser retries and then finds the winner's transfer.
      if (attempt < 2 && isRace(err)) continue;
      throw err;
    }
  }
}

/** The appropriations recorded (newest first), what they total, and what the pool holds now. */
export async function listAppropriations(ctx: Ctx, limit = 200) {
  requireRole(ctx, 'fund_manager', 'regulator');
  const rows = await LedgerTransfer.find({ code: 'APPROPRIATION' }).sort({ seq: -1 }).limit(limit).select('seq effectiveAt recordedAt entries memo maker').lean();
  const makerIds = [...new Set(rows.map((r) => r.maker).filter((m): m is string => !!m && mongoose.isValidObjectId(m)))];
  const makers = new Map((await User.find({ _id: { $in: makerIds } }).select('name email').lean()).map((u) => [String(u._id), u]));
  // Appropriations are few (a handful a year), so their total is read from the journal itself, always up to date.
  const totals = await LedgerTransfer.aggregate<{ fen: number; n: number }>([
    { $match: { code: 'APPROPRIATION' } }, { $unwind: '$entries' }, { $match: { 'entries.account': acct.pool(), 'entries.side': 'credit' } },
    { $group: { _id: null, fen: { $sum: '$entries.amountFen' }, n: { $sum: 1 } } },
  ]);
  const [pool, bank] = await Promise.all([LedgerAccount.findOne({ key: acct.pool() }).lean(), LedgerAccount.findOne({ key: acct.bank() }).lean()]);
  return {
    rows: rows.map((r) => {
      const cut = r.memo.lastIndexOf(MEMO_SEPARATOR);
      const maker = r.maker ? makers.get(r.maker) : undefined;
      return {
        seq: r.seq, day: cstDay(r.effectiveAt), recordedAt: r.recordedAt, amountFen: r.entries.find((e) => e.side === 'debit')?.amountFen ?? 0,
        funder: cut >= 0 ? r.memo.slice(0, cut) : r.memo, reference: cut >= 0 ? r.memo.slice(cut + MEMO_SEPARATOR.length) : '',
        maker: maker ? `${maker.name} <${maker.email}>` : (r.maker ?? ''),
      };
    }),
    totalFen: totals[0]?.fen ?? 0,
    count: totals[0]?.n ?? 0,
    poolFen: pool ? postedBalance('credit', pool) : 0,
    poolAvailableFen: pool ? availableBalance('credit', pool) : 0,
    bankFen: bank ? postedBalance('debit', bank) : 0,
  };
}
