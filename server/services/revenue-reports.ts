/**
 * Revenue reports under running-royalty licences, and the royalty invoices
 * they produce. The licensee reports net sales per calendar quarter; only a
 * quarter that has ended and falls within the licence's royalty-bearing life
 * is accepted, once. Net sales above zero bill round-half-up(sales × rate),
 * due 30 days after the report; a nil report bills nothing.
 *
 * The royalty-bearing life starts at the licence's effective date; for a
 * pay-later licence triggered by time only, at the end of its free period.
 * When the trigger includes first revenue, the free months are only a
 * reference: sales are what end them, so every quarter from the effective
 * date is reportable, even while the licence is still free — a report is how
 * that revenue becomes known, and the first one with sales ends the free
 * period (the licensing service's onFirstRevenue).
 */
import mongoose, { Types, type ClientSession } from 'mongoose';
import { Licence } from '../../models/licence.js';
import { ReportChase } from '../../models/report-chase.js';
import { RevenueReport } from '../../models/revenue-report.js';
import { fenTimesRatio, formatYuan, parseYuanToFen } from '../domain/money.js';
import { beijingDate } from '../domain/patent-term.js';
import type { LicenceState } from '../domain/licence-states.js';
import { hasEnded, lastEndedQuarter, parseQuarter, type Quarter } from '../domain/quarters.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { recordAudit } from './audit.js';
import { mailOrganisation } from './billing-mail.js';
import { requireRole, type Actor, type Ctx } from './context.js';
import { issueInvoice } from './invoice-issue.js';
import { onFirstRevenue } from './licensing.js';
import type { Mailer } from './mail.js';

type LicenceDoc = InstanceType<typeof Licence>;

export const ROYALTY_FEE_FORMS = ['royalty', 'entry_plus_royalty'];
/** States in which royalties run (the free state only for first-revenue triggers, see above). */
const REPORTING_STATES = ['payment_due', 'paying', 'active'];
const FIRST_REVENUE_TRIGGERS = ['first_revenue', 'either'];
/** RMB 100 billion a quarter: beyond any licensee on this exchange, so a larger figure is a typing mistake. */
export const MAX_NET_SALES_FEN = 10 ** 13;
export const ROYALTY_DUE_DAYS = 30;
/** Days after a quarter ends before a missing report is chased. */
export const REPORT_GRACE_DAYS = 15;
const DAY_MS = 86_400_000;

interface RoyaltyTerms {
  feeForm?: string;
  royaltyBps?: number;
  trigger?: string | null;
}

const termsOf = (l: { terms: unknown }) => (l.terms ?? {}) as RoyaltyTerms;

/** Whether a licence in its free period ends it by first revenue (so may report while free). */
function reportsWhileFree(l: { kind: string; state: string; terms: unknown }): boolean {
  return l.kind === 'deferred' && l.state === 'active_free' && FIRST_REVENUE_TRIGGERS.includes(termsOf(l).trigger ?? '');
}

/** Whether the licensee owes reports now. */
export function isReporting(l: { kind: string; state: string; terms: unknown }): boolean {
  return ROYALTY_FEE_FORMS.includes(termsOf(l).feeForm ?? '') && (REPORTING_STATES.includes(l.state) || reportsWhileFree(l));
}

/** First calendar day (Beijing) on which sales bear royalties, or null when unknown. */
export function royaltyStart(l: { kind: string; terms: unknown; effectiveAt?: Date | null; freePeriodEndsAt?: Date | null }): Date | null {
  if (!l.effectiveAt) return null;
  const timeOnly = l.kind === 'deferred' && !FIRST_REVENUE_TRIGGERS.includes(termsOf(l).trigger ?? '');
  return beijingDate(timeOnly && l.freePeriodEndsAt ? l.freePeriodEndsAt : l.effectiveAt);
}

/** Whether quarter `q` overlaps the licence's royalty-bearing life. */
function withinLife(l: LicenceDoc | Parameters<typeof royaltyStart>[0] & { endsAt?: Date | null }, q: Quarter): 'ok' | 'before' | 'after' {
  const start = royaltyStart(l);
  if (!start || q.end < start) return 'before';
  const endsAt = (l as { endsAt?: Date | null }).endsAt;
  if (endsAt && q.start > beijingDate(endsAt)) return 'after';
  return 'ok';
}

async function ownLicence(actor: Actor, id: string, session?: ClientSession): Promise<LicenceDoc> {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('report.licence_not_found');
  const licence = await Licence.findById(id).session(session ?? null);
  const mine = licence && ((actor.role === 'sme' && licence.licensee.equals(actor.orgId)) || (actor.role === 'tto' && licence.licensor.equals(actor.orgId)));
  if (!licence || !mine) throw new NotFoundError('report.licence_not_found');
  return licence;
}

/** A licence's reports, newest first, for its licensee or licensor, and whether a new one may be filed. */
export async function listRevenueReports(ctx: Ctx, licenceId: string, now = new Date()) {
  const actor = requireRole(ctx, 'sme', 'tto');
  const licence = await ownLicence(actor, licenceId);
  const reports = await RevenueReport.find({ licence: licence._id }).sort({ periodStart: -1 }).lean();
  const last = lastEndedQuarter(now);
  const suggested = withinLife(licence, last) === 'ok' && !reports.some((r) => r.period === last.period) ? last.period : '';
  return { licence: licence.toObject(), reports, canReport: actor.role === 'sme' && isReporting(licence), suggestedPeriod: suggested, royaltyBps: termsOf(licence).royaltyBps ?? 0 };
}

export interface ReportForm {
  period?: string;
  netSales?: string;
}

/** Checks the period and amount against the licence; every problem is a field error (422). */
function validateReport(licence: LicenceDoc, form: ReportForm, now: Date): { q: Quarter; netSalesFen: number } {
  const errors: Record<string, { key: string; params?: Record<string, string> }> = {};
  const q = parseQuarter(form.period ?? '');
  if (!q) errors.period = { key: 'report.period.invalid' };
  else if (!hasEnded(q, now)) errors.period = { key: 'report.period.not_ended', params: { period: q.period } };
  else {
    const life = withinLife(licence, q);
    if (life === 'before') errors.period = { key: 'report.period.before_licence', params: { period: q.period } };
    if (life === 'after') errors.period = { key: 'report.period.after_licence', params: { period: q.period } };
  }
  const netSalesFen = parseYuanToFen(form.netSales ?? '');
  if (netSalesFen === null) errors.netSales = { key: 'report.net_sales.invalid' };
  else if (netSalesFen > MAX_NET_SALES_FEN) errors.netSales = { key: 'report.net_sales.too_large', params: { max: formatYuan(MAX_NET_SALES_FEN) } };
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return { q: q!, netSalesFen: netSalesFen! };
}

/**
 * The licensee files a report: stored, and billed when there were sales.
 * Returns the report and its royalty invoice (null for a nil report).
 */
export async function submitRevenueReport(ctx: Ctx, licenceId: string, form: ReportForm, now = new Date()) {
  const actor = requireRole(ctx, 'sme');
  const licence = await ownLicence(actor, licenceId);
  if (!licence.licensee.equals(actor.orgId)) throw new NotFoundError('report.licence_not_found');
  if (!isReporting(licence)) throw new ConflictError('report.not_reporting', { state: licence.state });
  const { q, netSalesFen } = validateReport(licence, form, now);
  const duplicate = () => new ValidationError({ period: { key: 'report.period.duplicate', params: { period: q.period } } });
  if (await RevenueReport.exists({ licence: licence._id, period: q.period })) throw duplicate();
  try {
    return await mongoose.connection.transaction(async (session) => {
      // The licence may have changed state since it was read (ended, lapsed): check again in the transaction.
      const fresh = await ownLicence(actor, licenceId, session);
      if (!isReporting(fresh)) throw new ConflictError('report.not_reporting', { state: fresh.state });
      const wasFree = reportsWhileFree(fresh);
      const [report] = await RevenueReport.create([{
        licence: fresh._id, licensee: fresh.licensee, licensor: fresh.licensor, period: q.period, periodStart: q.start, periodEnd: q.end,
        netSalesFen, reportedAt: now, reportedBy: actor.userId,
      }], { session });
      const bps = termsOf(fresh).royaltyBps ?? 0;
      const royaltyFen = fenTimesRatio(netSalesFen, bps, 10_000);
      await recordAudit(ctx, 'revenue_report.submitted', { type: 'RevenueReport', id: report._id }, {
        licence: String(fresh._id), period: q.period, netSalesFen, royaltyBps: bps, royaltyFen,
      }, session);
      if (wasFree && netSalesFen > 0) await onFirstRevenue(ctx, fresh._id, now, session);
      // A royalty that rounds to nothing (a few fen of sales) is not worth an invoice.
      const invoice = royaltyFen >= 1
        ? await issueInvoice({
          licence: fresh, kind: 'royalty', amountFen: royaltyFen, issuedAt: now, dueAt: new Date(now.getTime() + ROYALTY_DUE_DAYS * DAY_MS),
          key: `royalty:${report._id}`, revenueReport: report._id,
        }, session)
        : null;
      return { report, invoice };
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw duplicate();
    throw err;
  }
}

export interface ChaseResult {
  period: string;
  chased: number;
}

/**
 * E-mails each reporting licensee whose report for the last ended quarter is
 * still missing 15 days after the quarter ended; once per licence and
 * period (recorded before sending, so a concurrent run skips it).
 */
export async function chaseLateReports(now: Date, mailer: Mailer): Promise<ChaseResult> {
  const q = lastEndedQuarter(now);
  const daysSinceEnd = (beijingDate(now).getTime() - q.end.getTime()) / DAY_MS - 1;
  if (daysSinceEnd < REPORT_GRACE_DAYS) return { period: q.period, chased: 0 };
  const licences = await Licence.find({ state: { $in: REPORTING_STATES as LicenceState[] }, 'terms.feeForm': { $in: ROYALTY_FEE_FORMS } }).lean();
  const reported = new Set((await RevenueReport.find({ period: q.period }).select('licence').lean()).map((r) => String(r.licence)));
  const chased = new Set((await ReportChase.find({ period: q.period }).select('licence').lean()).map((c) => String(c.licence)));
  let count = 0;
  for (const l of licences) {
    if (reported.has(String(l._id)) || chased.has(String(l._id)) || withinLife(l, q) !== 'ok') continue;
    try {
      await ReportChase.create({ licence: l._id, licensee: l.licensee, period: q.period, sentAt: now });
    } catch (err) {
      if ((err as { code?: number }).code === 11000) continue;
      throw err;
    }
    const recipients = await mailOrganisation(mailer, l.licensee, `请提交 ${q.period} 销售额报告 / Revenue report for ${q.period} is due`,
      `许可合同 ${l.number}（${l.snapshot?.patentTitleZh ?? ''}）${q.period} 的净销售额报告尚未提交，请尽快登录平台提交（无销售也请填报 0）。\n\n`
      + `The net sales report for ${q.period} under licence ${l.number} has not been filed. Please sign in and file it (report 0 if there were no sales).`);
    await ReportChase.updateOne({ licence: l._id, period: q.period }, { $set: { recipients } });
    count++;
  }
  return { period: q.period, chased: count };
}
