/**
 * E-mail to every active user of an organisation about its invoices and
 * reports. Bilingual in one message (Chinese first), like the other
 * notices, because an organisation's users may read either language.
 * Sent after the transaction that decided to send it has committed.
 */
import type { Types } from 'mongoose';
import { User } from '../../models/user.js';
import type { Mailer } from './mail.js';

export async function mailOrganisation(mailer: Mailer, orgId: Types.ObjectId, subject: string, text: string): Promise<number> {
  const users = await User.find({ organization: orgId, active: true }).select('email').lean();
  for (const u of users) await mailer.send({ to: u.email, subject: `【长三角科技成果许可交易平台】${subject}`, text });
  return users.length;
}
