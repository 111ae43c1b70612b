/**
 * The fixed texts licensing writes down or sends: the written notice an
 * enterprise gives to take an open licence (stored on the licence, so it is
 * bilingual and independent of anyone's locale), and the e-mails that tell
 * the other party something awaits them. Sent after the transaction commits:
 * a failed mail never undoes a licence, and an aborted licence sends nothing.
 */
import type { Types } from 'mongoose';
import { User } from '../../models/user.js';
import type { Mailer } from './mail.js';

/** What a service needs to send e-mail (routes pass their RouteDeps). */
export interface LicensingNotify {
  mailer: Mailer;
  publicUrl: string;
}

export interface NoticeFacts {
  licenseeNameZh: string;
  licenseeNameEn: string;
  licenseeUscc: string;
  licensorNameZh: string;
  licensorNameEn: string;
  applicationNumber: string;
  patentTitleZh: string;
  announcementNo: string;
  termMonths: number;
}

/** The written notice (书面通知) of Patent Law Art. 51, in both languages, as recorded on the licence. */
export function openNoticeStatement(f: NoticeFacts): string {
  const zh = `${f.licenseeNameZh}（统一社会信用代码 ${f.licenseeUscc}）书面通知专利权人${f.licensorNameZh}：`
    + `确认接受专利 ${f.applicationNumber}《${f.patentTitleZh}》开放许可声明（公告号 ${f.announcementNo}）所载的全部许可条件，`
    + `许可期限 ${f.termMonths} 个月，取得普通（非独占）实施许可，并按声明的支付方式和标准支付许可使用费。`;
  const en = `${f.licenseeNameEn || f.licenseeNameZh} (unified social credit code ${f.licenseeUscc}) gives written notice to the patentee `
    + `${f.licensorNameEn || f.licensorNameZh}: it accepts all terms of open-licence declaration ${f.announcementNo} for patent `
    + `${f.applicationNumber}, for a term of ${f.termMonths} months, takes a non-exclusive licence, and will pay the royalties in the manner and at the rates declared.`;
  return `${zh}\n${en}`;
}

/** One message to every active user of `org`. */
export async function mailOrganization(notify: LicensingNotify | undefined, org: Types.ObjectId, subject: string, text: string): Promise<void> {
  if (!notify) return;
  const users = await User.find({ organization: org, active: true }).select('email').lean();
  for (const u of users) await notify.mailer.send({ to: u.email, subject: `【长三角科技成果许可交易平台】${subject}`, text });
}

/** "Something on licence X needs you": the line both languages share, with the link. */
export function licenceMail(notify: LicensingNotify | undefined, licenceId: Types.ObjectId, zh: string, en: string): string {
  return `${zh}\n${en}\n\n${notify?.publicUrl ?? ''}/licences/${licenceId}`;
}
