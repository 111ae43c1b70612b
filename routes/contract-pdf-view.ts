/**
 * The contract as a PDF: the same facts and sentences as the HTML contract
 * (routes/licence-view.ts contractModel: parties, patent, terms in plain
 * words, dates, the written-notice record), in both languages, set in the
 * CJK font found on the machine (server/services/contract-font.ts).
 *
 * The text is laid out as a list of blocks first, so every character can be
 * checked against the font before a byte is written: a contract with empty
 * boxes where a company's name should be is worse than no PDF.
 */
import PDFDocument from 'pdfkit';
import type { ContractFont } from '../server/services/contract-font.js';
import { translators, type contractModel } from './licence-view.js';

type ContractModel = ReturnType<typeof contractModel>;

type Block =
  | { kind: 'title'; zh: string; en: string }
  | { kind: 'heading' | 'text' | 'small' | 'item' | 'centre'; text: string }
  | { kind: 'fact'; label: string; value: string };

/** A calendar date (stored as UTC midnight) as YYYY-MM-DD, as the HTML contract shows it. */
const day = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString().slice(0, 10) : '');
/** A moment in China Standard Time, YYYY-MM-DD HH:mm. */
const cst = (d: Date | string | null | undefined) => (d ? new Date(new Date(d).getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ') : '');

/** The contract's content in reading order, both languages. */
export function contractBlocks(m: ContractModel): Block[] {
  const { zh, en } = translators();
  const both = (key: string) => `${zh(key)} / ${en(key)}`;
  const { licence, licensor, licensee, patent, signer } = m;
  const snap = licence.snapshot;
  const party = (nameZh: string | undefined, org: typeof licensor) =>
    [nameZh ?? '', org?.nameEn ?? '', `${both('licence.contract.uscc')}: ${org?.uscc ?? ''}`].filter(Boolean).join('\n');
  const blocks: Block[] = [
    { kind: 'title', zh: zh('licence.contract.title'), en: en('licence.contract.title') },
    { kind: 'centre', text: `${both('licence.contract.number')}: ${licence.number}` },
    { kind: 'heading', text: `1. ${both('licence.contract.parties')}` },
    { kind: 'fact', label: both('licence.contract.licensor'), value: party(snap?.licensorNameZh, licensor) },
    { kind: 'fact', label: both('licence.contract.licensee'), value: party(snap?.licenseeNameZh, licensee) },
    { kind: 'heading', text: `2. ${both('licence.contract.patent')}` },
    { kind: 'fact', label: both('licence.contract.patent_number'), value: snap?.applicationNumber ?? '' },
    { kind: 'fact', label: both('licence.contract.patent_title'), value: [snap?.patentTitleZh ?? '', patent?.titleEn ?? ''].filter(Boolean).join('\n') },
    { kind: 'fact', label: both('licence.contract.patent_type'), value: `${m.patentTypeZh} / ${m.patentTypeEn}` },
    { kind: 'fact', label: both('licence.contract.patent_expiry'), value: day(snap?.patentExpiry) },
  ];
  if (snap?.announcementNo) blocks.push({ kind: 'fact', label: both('licence.contract.announcement'), value: snap.announcementNo });
  blocks.push(
    { kind: 'heading', text: `3. ${both('licence.contract.terms')}` },
    { kind: 'text', text: `${zh('licence.contract.kind')}：${m.kindZh} · ${en('licence.contract.kind')}: ${m.kindEn}` },
    { kind: 'text', text: `${zh('licence.contract.non_exclusive')}\n${en('licence.contract.non_exclusive')}` },
    ...m.lines.zh.map((text) => ({ kind: 'item' as const, text })),
    ...m.lines.en.map((text) => ({ kind: 'item' as const, text })),
  );
  if (m.notes) blocks.push({ kind: 'small', text: m.notes });
  blocks.push(
    { kind: 'heading', text: `4. ${both('licence.contract.dates')}` },
    { kind: 'fact', label: both('licence.contract.effective'), value: day(licence.effectiveAt) },
    { kind: 'fact', label: both('licence.contract.ends'), value: day(licence.endsAt) },
  );
  if (licence.freePeriodEndsAt) blocks.push({ kind: 'fact', label: both('licence.contract.free_until'), value: day(licence.freePeriodEndsAt) });
  const filed = licence.filedAt ? ` · ${both('licence.contract.filed')} ${day(licence.filedAt)} (${licence.filingRef})` : '';
  blocks.push(
    { kind: 'fact', label: both('licence.contract.filing_due'), value: day(licence.filingDueAt) + filed },
    { kind: 'small', text: `${zh('licence.contract.filing_rule')}\n${en('licence.contract.filing_rule')}` },
    { kind: 'heading', text: `5. ${both('licence.contract.notice')}` },
  );
  if (licence.notice?.statement) blocks.push({ kind: 'text', text: licence.notice.statement });
  blocks.push(
    { kind: 'fact', label: both('licence.contract.notice_by'), value: signer ? `${signer.name} <${signer.email}>` : '' },
    { kind: 'fact', label: both('licence.contract.notice_at'), value: `${cst(licence.notice?.at)} (UTC+8)` },
    { kind: 'fact', label: both('licence.contract.notice_ip'), value: licence.notice?.ip ?? '' },
    { kind: 'small', text: `${zh('licence.contract.footer')}\n${en('licence.contract.footer')}` },
  );
  return blocks;
}

/** The characters of `blocks` the font cannot draw (white space aside), each once. */
export function missingGlyphs(blocks: Block[], font: ContractFont): string[] {
  const chars = new Set<string>();
  for (const b of blocks) for (const s of b.kind === 'title' ? [b.zh, b.en] : b.kind === 'fact' ? [b.label, b.value] : [b.text]) for (const c of s) chars.add(c);
  return [...chars].filter((c) => !/\s/u.test(c) && !font.has(c));
}

const INK = '#1a1a1a';
const GREY = '#5a5a5a';

/** Starts a new page unless `height` points fit on this one (a heading or label is never left alone at the foot). */
function keep(doc: PDFKit.PDFDocument, height: number): void {
  if (doc.y + height > doc.page.height - doc.page.margins.bottom) doc.addPage();
}

function draw(doc: PDFKit.PDFDocument, b: Block): void {
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  const x = doc.page.margins.left;
  if (b.kind === 'heading') keep(doc, 90);
  else if (b.kind === 'fact') keep(doc, 36);
  switch (b.kind) {
    case 'title':
      doc.fillColor(INK).fontSize(20).text(b.zh, x, doc.y, { width, align: 'center' });
      doc.fontSize(13).text(b.en, { width, align: 'center' }).moveDown(0.4);
      break;
    case 'centre':
      doc.fillColor(GREY).fontSize(10).text(b.text, x, doc.y, { width, align: 'center' }).moveDown(0.6);
      break;
    case 'heading': {
      doc.moveDown(0.6).fillColor(INK).fontSize(12.5).text(b.text, x, doc.y, { width });
      const y = doc.y + 2;
      doc.moveTo(x, y).lineTo(x + width, y).lineWidth(0.5).strokeColor('#999999').stroke();
      doc.y = y + 6;
      break;
    }
    case 'fact':
      doc.fillColor(GREY).fontSize(8.5).text(b.label, x, doc.y, { width });
      doc.fillColor(INK).fontSize(10.5).text(b.value || '—', x + 12, doc.y, { width: width - 12 }).moveDown(0.35);
      break;
    case 'text':
      doc.fillColor(INK).fontSize(10.5).text(b.text, x, doc.y, { width, lineGap: 2 }).moveDown(0.4);
      break;
    case 'item': {
      // A hanging indent: the bullet in the margin, every line of the sentence aligned after it.
      const top = doc.y;
      doc.fillColor(INK).fontSize(10.5).text('•', x + 4, top, { width: 10, lineBreak: false });
      doc.text(b.text, x + 16, top, { width: width - 16, lineGap: 1 }).moveDown(0.2);
      break;
    }
    case 'small':
      doc.moveDown(0.2).fillColor(GREY).fontSize(8.5).text(b.text, x, doc.y, { width, lineGap: 1 }).moveDown(0.4);
      break;
  }
}

/**
 * The PDF, or which characters the font lacks (then nothing is written).
 * Document info carries the contract number and the patent in plain ASCII
 * (Subject) and the bilingual title, so a filing system can index it.
 */
export async function contractPdf(m: ContractModel, font: ContractFont): Promise<{ pdf: Buffer; missing: null } | { pdf: null; missing: string[] }> {
  const blocks = contractBlocks(m);
  const missing = missingGlyphs(blocks, font);
  if (missing.length) return { pdf: null, missing };
  const { zh, en } = translators();
  const { licence } = m;
  const doc = new PDFDocument({
    size: 'A4', margins: { top: 56, bottom: 64, left: 60, right: 60 }, bufferPages: true, lang: 'zh-CN', displayTitle: true,
    info: {
      Title: `${zh('licence.contract.title')} / ${en('licence.contract.title')} ${licence.number}`,
      Subject: `${en('licence.contract.title')} ${licence.number}, patent ${licence.snapshot?.applicationNumber ?? ''}`,
      Author: licence.snapshot?.licensorNameZh ?? '',
      Creator: 'YRD Technology Licensing Exchange',
      CreationDate: new Date(),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('contract', font.data, font.face ?? undefined);
  doc.font('contract');
  for (const b of blocks) draw(doc, b);
  // Page numbers last, when the count is known; drawn inside the bottom margin, so no page is added.
  const { start, count } = doc.bufferedPageRange();
  for (let i = start; i < start + count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const label = `${licence.number} · ${zh('contract_pdf.page', { page: i + 1, pages: count })} / ${en('contract_pdf.page', { page: i + 1, pages: count })}`;
    doc.fillColor(GREY).fontSize(8).text(label, doc.page.margins.left, doc.page.height - 40, { width: doc.page.width - doc.page.margins.left - doc.page.margins.right, align: 'center', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return { pdf: await done, missing: null };
}
