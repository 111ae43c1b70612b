/**
 * Whether the fund covers a licence, decided once when it is granted (the
 * ledger subscriber calls decideCover for `licence.granted`, inside the
 * transaction that stamps the event posted; FundCover is unique per licence).
 *
 * Rules:
 * - Only a pay-later (`deferred`) licence to an SME (micro, small or medium as
 *   recorded when it was granted) can be covered; anything else is
 *   `not_pay_later`.
 * - The fund rules in force at the licence's start (its effectiveAt, else the
 *   grant) decide; with none, `no_rules`.
 * - New cover is suspended (`suspended_loss_rate`) while the loss rate is
 *   above the rules' lossRateCapBps; at or below it the licence is covered.
 *
 * The loss rate, cheaply and from the ledger itself: over the licences
 * covered so far, the debit totals of their `royalty:overdue` accounts (what
 * was ever declared in default — DEFAULT postings) divided by the debit
 * totals of their `royalty:receivable` accounts (what was ever billed —
 * ACCRUAL postings), in basis points, 0 when nothing was billed. Gross on
 * purpose: a recovery does not undo a default and a voided invoice's
 * reversal does not unbill it (a reversal of a payment or a recovery would
 * add to the debits too; such corrections are rare and only make the rate
 * move the cautious way for defaults). It reads two accounts per covered
 * licence — no scan of the journal — and the subscriber keeps the sums up to
 * date in memory as it posts within a batch.
 *
 * When a pay-later licence is refused because cover is suspended, the SME and
 * the TTO are told once (notifiedAt), each user in their own language, after
 * the decision has committed (notifySuspendedCovers).
 */
import type { ClientSession, Types } from 'mongoose';
import { FundCover } from '../../../models/fund-cover.js';
import { LedgerAccount } from '../../../models/ledger-account.js';
import { Licence } from '../../../models/licence.js';
import { User, type Locale } from '../../../models/user.js';
import { acct } from '../../domain/ledger-chart.js';
import { fenTimesRatio } from '../../domain/money.js';
import { loadDictionaries, translator, type Dictionary } from '../../http/i18n.js';
import type { Mailer } from '../mail.js';
import { rulesInForce, rulesVersion } from './fund-rules.js';

export const SME_SIZE_CLASSES: readonly string[] = ['micro', 'small', 'medium'];

/** The loss-rate sums over covered licences (see the file header), and which licences they cover. */
export interface LossBook {
  covered: Set<string>;
  accruedFen: number;
  defaultedFen: number;
}

const CHUNK = 5_000;

async function accountDebits(licenceIds: string[], session?: ClientSession): Promise<{ accruedFen: number; defaultedFen: number }> {
  let accruedFen = 0;
  let defaultedFen = 0;
  for (let i = 0; i < licenceIds.length; i += CHUNK) {
    const keys = licenceIds.slice(i, i + CHUNK).flatMap((id) => [acct.receivable(id), acct.overdue(id)]);
    const docs = await LedgerAccount.find({ key: { $in: keys } }).select('kind debitsPosted').session(session ?? null).lean();
    for (const d of docs) {
      if (d.kind === 'receivable') accruedFen += d.debitsPosted;
      else if (d.kind === 'overdue') defaultedFen += d.debitsPosted;
    }
  }
  return { accruedFen, defaultedFen };
}

export async function loadLossBook(session?: ClientSession): Promise<LossBook> {
  const covers = await FundCover.find({ covered: true }).select('licence').session(session ?? null).lean();
  const covered = new Set(covers.map((c) => String(c.licence)));
  return { covered, ...(await accountDebits([...covered], session)) };
}

/** A licence just covered brings whatever it had already accrued or defaulted into the sums. */
export async function addCoveredLicence(book: LossBook, licenceId: string, session?: ClientSession): Promise<void> {
  if (book.covered.has(licenceId)) return;
  book.covered.add(licenceId);
  const own = await accountDebits([licenceId], session);
  book.accruedFen += own.accruedFen;
  book.defaultedFen += own.defaultedFen;
}

export function lossRateBps(book: Pick<LossBook, 'accruedFen' | 'defaultedFen'>): number {
  return book.accruedFen > 0 ? fenTimesRatio(book.defaultedFen, 10_000, book.accruedFen) : 0;
}

/** Exact (no rounding at the cap): defaulted ÷ accrued ≤ cap ÷ 10,000. */
export function withinLossCap(book: Pick<LossBook, 'accruedFen' | 'defaultedFen'>, capBps: number): boolean {
  return BigInt(book.defaultedFen) * 10_000n <= BigInt(capBps) * BigInt(book.accruedFen);
}

/** The fund's current loss rate over covered licences, for the console and the rules pages. */
export async function currentLossRate(): Promise<{ accruedFen: number; defaultedFen: number; lossRateBps: number; coveredLicences: number }> {
  const book = await loadLossBook();
  return { accruedFen: book.accruedFen, defaultedFen: book.defaultedFen, lossRateBps: lossRateBps(book), coveredLicences: book.covered.size };
}

export interface GrantedLicence {
  _id: Types.ObjectId;
  kind: string;
  licensor: Types.ObjectId;
  licensee: Types.ObjectId;
  effectiveAt?: Date | null;
  snapshot?: { licenseeSizeClass?: string | null } | null;
}

export interface CoverDecision {
  covered: boolean;
  reason: 'covered' | 'suspended_loss_rate' | 'not_pay_later' | 'no_rules';
  rulesVersion: number | null;
  lossRateBps: number;
}

/**
 * Decides and stores the cover of `licence`, granted at `grantedAt`, in
 * `session`; null when it was decided before. `book` gives the loss-rate
 * sums (loaded once per batch by the caller, who keeps them current).
 */
export async function decideCover(
  licence: GrantedLicence, grantedAt: Date, now: Date, session: ClientSession, book: () => Promise<LossBook>,
): Promise<CoverDecision | null> {
  if (await FundCover.exists({ licence: licence._id }).session(session)) return null;
  const payLater = licence.kind === 'deferred' && SME_SIZE_CLASSES.includes(licence.snapshot?.licenseeSizeClass ?? '');
  const rules = payLater ? await rulesInForce(licence.effectiveAt ?? grantedAt, session) : null;
  let decision: CoverDecision;
  if (!payLater) decision = { covered: false, reason: 'not_pay_later', rulesVersion: null, lossRateBps: 0 };
  else if (!rules) decision = { covered: false, reason: 'no_rules', rulesVersion: null, lossRateBps: 0 };
  else {
    const sums = await book();
    const ok = withinLossCap(sums, rules.lossRateCapBps);
    decision = { covered: ok, reason: ok ? 'covered' : 'suspended_loss_rate', rulesVersion: rules.version, lossRateBps: lossRateBps(sums) };
    if (ok) await addCoveredLicence(sums, String(licence._id), session);
  }
  await FundCover.create([{ licence: licence._id, licensor: licence.licensor, licensee: licence.licensee, ...decision, decidedAt: now }], { session });
  return decision;
}

/** The licence's cover decision, or null while it is undecided (not granted, or the ledger has not caught up). */
export async function coverOf(licenceId: string | Types.ObjectId) {
  return FundCover.findOne({ licence: licenceId }).select('covered reason rulesVersion lossRateBps decidedAt notifiedAt').lean();
}

let dicts: Record<Locale, Dictionary> | null = null;

const percent = (bps: number) => `${Math.trunc(bps / 100)}.${String(bps % 100).padStart(2, '0')}%`;

/**
 * Tells both parties of each licence whose pay-later cover was suspended,
 * once: the notice is claimed by setting notifiedAt before sending (so two
 * runs never both send it) and released again if sending fails (so the next
 * run retries). Returns the number of e-mails sent.
 */
export async function notifySuspendedCovers(notify: { mailer: Mailer; publicUrl: string }, now = new Date()): Promise<number> {
  const pending = await FundCover.find({ covered: false, reason: 'suspended_loss_rate', notifiedAt: null }).limit(500).lean();
  let sent = 0;
  for (const cover of pending) {
    const claimed = await FundCover.updateOne({ _id: cover._id, notifiedAt: null }, { $set: { notifiedAt: now } });
    if (claimed.modifiedCount !== 1) continue;
    try {
      const licence = await Licence.findById(cover.licence).select('number').lean();
      const rules = typeof cover.rulesVersion === 'number' ? await rulesVersion(cover.rulesVersion) : null;
      const users = await User.find({ organization: { $in: [cover.licensor, cover.licensee] }, active: true }).select('email locale').lean();
      dicts ??= loadDictionaries();
      for (const u of users) {
        const t = translator(dicts, u.locale === 'en' ? 'en' : 'zh-CN');
        const params = { number: licence?.number ?? String(cover.licence), rate: percent(cover.lossRateBps ?? 0), cap: rules ? percent(rules.lossRateCapBps) : '—', url: `${notify.publicUrl}/licences/${cover.licence}` };
        await notify.mailer.send({ to: u.email, subject: t('fund.cover_notice.subject', params), text: t('fund.cover_notice.body', params) });
        sent++;
      }
    } catch (err) {
      await FundCover.updateOne({ _id: cover._id, notifiedAt: now }, { $set: { notifiedAt: null } });
      throw err;
    }
  }
  return sent;
}
