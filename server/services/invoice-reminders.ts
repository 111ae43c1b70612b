/**
 * Invoice reminders to the licensee: one a week before the due date and one
 * once it is past due, each at most once per invoice. The reminder is
 * claimed on the invoice (`remindersSent`, compare-and-set) before the mail
 * goes out, so a second run — or a second instance — sends nothing.
 */
import type { Types } from 'mongoose';
import { Invoice, type InvoiceAttrs } from '../../models/invoice.js';
import { formatYuan } from '../domain/money.js';
import { mailOrganisation } from './billing-mail.js';
import { outstandingFen } from './invoices.js';
import type { Mailer } from './mail.js';

export const REMIND_BEFORE_DAYS = 7;
const DAY_MS = 86_400_000;

export interface ReminderResult {
  dueSoon: number;
  overdue: number;
}

type Kind = 'due_soon' | 'overdue';

export async function sendInvoiceReminders(now: Date, mailer: Mailer, publicUrl = ''): Promise<ReminderResult> {
  const soon = new Date(now.getTime() + REMIND_BEFORE_DAYS * DAY_MS);
  const dueSoon = await Invoice.find({ status: 'open', dueAt: { $gt: now, $lte: soon }, remindersSent: { $ne: 'due_soon' } }).lean();
  // An open invoice past its date counts too: the sweep that marks it overdue may not have run yet.
  const overdue = await Invoice.find({ status: { $in: ['open', 'overdue'] }, dueAt: { $lte: now }, remindersSent: { $ne: 'overdue' } }).lean();
  const result: ReminderResult = { dueSoon: 0, overdue: 0 };
  for (const [kind, list] of [['due_soon', dueSoon], ['overdue', overdue]] as const) {
    for (const invoice of list) {
      if (await remind(kind, invoice, mailer, publicUrl)) result[kind === 'due_soon' ? 'dueSoon' : 'overdue']++;
    }
  }
  return result;
}

async function remind(kind: Kind, invoice: InvoiceAttrs & { _id: Types.ObjectId }, mailer: Mailer, publicUrl: string): Promise<boolean> {
  const claimed = await Invoice.updateOne({ _id: invoice._id, remindersSent: { $ne: kind } }, { $addToSet: { remindersSent: kind } }, { timestamps: false });
  if (claimed.modifiedCount !== 1) return false;
  const owed = formatYuan(outstandingFen(invoice));
  const due = invoice.dueAt.toISOString().slice(0, 10);
  const link = `${publicUrl}/invoices/${invoice._id}`;
  const [subject, text] = kind === 'due_soon'
    ? [`账单 ${invoice.number} 将于 ${due} 到期 / Invoice ${invoice.number} is due on ${due}`,
      `账单 ${invoice.number} 尚欠 ${owed}，将于 ${due} 到期，请按时支付。\n\nInvoice ${invoice.number}: ${owed} is due on ${due}.\n\n${link}`]
    : [`账单 ${invoice.number} 已逾期 / Invoice ${invoice.number} is overdue`,
      `账单 ${invoice.number} 已于 ${due} 到期，尚欠 ${owed}。逾期过久将被认定为违约。\n\nInvoice ${invoice.number} was due on ${due} and ${owed} is still owed. Prolonged arrears are declared a default.\n\n${link}`];
  await mailOrganisation(mailer, invoice.licensee, subject, text);
  return true;
}
