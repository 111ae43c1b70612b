/**
 * The weekly digest: each open need whose SME has not had one for a week
 * gets an e-mail naming the patents listed since its last digest (or since
 * it was posted) that match it, with why. Safe to run any number of times
 * and from several instances: the need's digest record is claimed with a
 * compare-and-set on `lastSentAt` before the mail goes out, and a patent is
 * never named twice for the same need.
 */
import { Demand } from '../../models/demand.js';
import { User } from '../../models/user.js';
import { searchIndexes } from '../services/search-index.js';
import type { Mailer } from '../services/mail.js';
import { rankPatentsForNeed } from '../search/matching.js';
import { needForMatching } from '../services/matching.js';

export const DIGEST_INTERVAL_MS = 7 * 86_400_000;
const MAX_PER_DIGEST = 5;

export interface DigestResult {
  considered: number;
  sent: number;
}

export async function runNeedDigest(deps: { mailer: Mailer; publicUrl: string; now?: Date }): Promise<DigestResult> {
  const now = deps.now ?? new Date();
  await searchIndexes.sync();
  const due = await Demand.find({
    status: 'open',
    $and: [
      { $or: [{ deadline: null }, { deadline: { $gte: now } }] },
      { $or: [{ 'digest.lastSentAt': null }, { 'digest.lastSentAt': { $lte: new Date(now.getTime() - DIGEST_INTERVAL_MS) } }] },
    ],
  }).lean();
  let sent = 0;
  for (const demand of due) {
    const since = (demand.digest?.lastSentAt ?? demand.createdAt).getTime();
    const already = new Set((demand.digest?.sentPatents ?? []).map(String));
    const matches = rankPatentsForNeed(await needForMatching(demand), searchIndexes.catalogue, {
      limit: MAX_PER_DIGEST,
      filter: (id) => {
        const e = searchIndexes.entries.get(id);
        return !!e && e.listed && e.publishedAt > since && !already.has(id);
      },
    });
    if (!matches.length) continue;
    // Claim this week's digest; a concurrent run that got here first wins and we skip.
    const claimed = await Demand.updateOne(
      { _id: demand._id, 'digest.lastSentAt': demand.digest?.lastSentAt ?? null },
      { $set: { 'digest.lastSentAt': now }, $addToSet: { 'digest.sentPatents': { $each: matches.map((m) => m.id) } } },
      { timestamps: false },
    );
    if (claimed.modifiedCount !== 1) continue;
    const user = await User.findById(demand.createdBy).select('email active').lean();
    if (!user?.active) continue;
    const lines = matches.map((m, i) => {
      const e = searchIndexes.entries.get(m.id)!;
      const why = [...m.explanation.sharedTerms.slice(0, 5), ...m.explanation.sharedFields].join('、');
      return `${i + 1}. ${e.titleZh}（${e.holderZh}）\n   匹配原因 / Why: ${why}\n   ${deps.publicUrl}/catalogue/${m.id}`;
    });
    await deps.mailer.send({
      to: user.email,
      subject: `【长三角科技成果许可交易平台】“${demand.title}”有 ${matches.length} 项新匹配专利 / New patents for your need`,
      text: `您发布的需求“${demand.title}”有新的匹配专利：\n\n${lines.join('\n\n')}\n\n查看需求 / View your need: ${deps.publicUrl}/needs/${demand._id}\n此邮件每条需求每周最多一封。At most one e-mail a week per need.`,
    });
    sent++;
  }
  return { considered: due.length, sent };
}
