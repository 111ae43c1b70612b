/**
 * E-mail to the parties of a licence when the platform (not a person) moved
 * something of theirs: an invoice overdue or in default, a licence ended by
 * the patent's lapse, an invoice voided with it. A sweep collects the
 * changes it made and sends each organisation one message listing them, so
 * a run over thousands of invoices writes one mail per user, not thousands.
 * Only the run that made a change reports it, which is what makes each
 * change notified once.
 */
import type { Types } from 'mongoose';
import { User } from '../../models/user.js';
import { formatYuan } from '../domain/money.js';
import type { Mailer } from './mail.js';

export type NoticeKind = 'invoice_overdue' | 'invoice_defaulted' | 'licence_lapsed' | 'invoice_voided';

export interface Notice {
  org: Types.ObjectId;
  /** Which dashboard the recipient reads it on. */
  side: 'licensor' | 'licensee';
  kind: NoticeKind;
  licenceNumber: string;
  invoiceNumber?: string;
  /** Outstanding (overdue, defaulted) or cancelled (voided) amount. */
  amountFen?: number;
  dueAt?: Date;
}

const MAX_LINES = 30;
const day = (d?: Date) => (d ? d.toISOString().slice(0, 10) : '');

function line(n: Notice, daysToDefault: number): string {
  const amount = formatYuan(n.amountFen ?? 0);
  switch (n.kind) {
    case 'invoice_overdue':
      return `账单 ${n.invoiceNumber}（许可合同 ${n.licenceNumber}）已逾期，未付 ${amount}，到期日 ${day(n.dueAt)}。\n  Invoice ${n.invoiceNumber} (licence ${n.licenceNumber}) is overdue: ${amount} unpaid, due ${day(n.dueAt)}.`;
    case 'invoice_defaulted':
      return `账单 ${n.invoiceNumber}（许可合同 ${n.licenceNumber}）逾期已满 ${daysToDefault} 天，认定违约，未付 ${amount}。\n  Invoice ${n.invoiceNumber} (licence ${n.licenceNumber}) has been overdue ${daysToDefault} days and is in default: ${amount} unpaid.`;
    case 'licence_lapsed':
      return `许可合同 ${n.licenceNumber} 因专利失效而终止；失效前已开具的费用仍须支付。\n  Licence ${n.licenceNumber} has ended because the patent lapsed; amounts billed for use before the lapse remain payable.`;
    case 'invoice_voided':
      return `账单 ${n.invoiceNumber}（许可合同 ${n.licenceNumber}，${amount}）因专利失效作废，无需支付。\n  Invoice ${n.invoiceNumber} (licence ${n.licenceNumber}, ${amount}) is void because the patent lapsed; nothing is owed on it.`;
  }
}

/** Sends each organisation named in `notices` one message (to each of its active users); returns the number of mails. */
export async function sendLicensingNotices(mailer: Mailer, publicUrl: string, notices: Notice[], opts: { daysToDefault?: number } = {}): Promise<number> {
  const byOrg = new Map<string, Notice[]>();
  for (const n of notices) byOrg.set(String(n.org), [...(byOrg.get(String(n.org)) ?? []), n]);
  if (!byOrg.size) return 0;
  const users = await User.find({ organization: { $in: [...byOrg.keys()] }, active: true }).select('email organization').lean();
  let sent = 0;
  for (const [org, list] of byOrg) {
    const lines = list.slice(0, MAX_LINES).map((n) => `• ${line(n, opts.daysToDefault ?? 90)}`);
    if (list.length > MAX_LINES) lines.push(`……另有 ${list.length - MAX_LINES} 项 / and ${list.length - MAX_LINES} more`);
    const dashboard = `${publicUrl}/dashboard/${list[0]!.side === 'licensor' ? 'tto' : 'sme'}`;
    for (const u of users.filter((x) => String(x.organization) === org)) {
      await mailer.send({
        to: u.email,
        subject: `【长三角科技成果许可交易平台】许可与账单状态变更（${list.length} 项）/ Licence and invoice changes (${list.length})`,
        text: `${lines.join('\n')}\n\n在平台查看 / See your dashboard: ${dashboard}`,
      });
      sent++;
    }
  }
  return sent;
}
