/**
 * The columns a portfolio spreadsheet may have, and the many ways TTOs'
 * ledgers and CNIPA/office exports head them (Chinese and English). Headers
 * are compared after NFKC (full-width → half-width), lower-casing and
 * dropping spaces, asterisks and bracketed notes, so `申请号*`, `申请号（必填）`
 * and `Application No.` all map to the same field.
 */
import type { PatentInputField } from './patent-input.js';

export interface ImportColumn {
  field: PatentInputField;
  /** The header the template writes (and errors name when the file lacks the column). */
  zh: string;
  en: string;
  aliases: string[];
}

export const IMPORT_COLUMNS: readonly ImportColumn[] = [
  { field: 'applicationNumber', zh: '申请号', en: 'Application number', aliases: ['专利号', '申请号/专利号', '专利申请号', 'application no', 'applicationno', 'patent number'] },
  { field: 'titleZh', zh: '专利名称', en: 'Title', aliases: ['发明名称', '标题', '名称', '中文名称', '发明创造名称', 'title (zh)', 'chinese title'] },
  { field: 'titleEn', zh: '英文名称', en: 'English title', aliases: ['英文标题', 'title (en)', 'english name'] },
  { field: 'abstractZh', zh: '摘要', en: 'Abstract', aliases: ['中文摘要', '摘要(中文)', 'abstract (zh)'] },
  { field: 'abstractEn', zh: '英文摘要', en: 'English abstract', aliases: ['abstract (en)', '摘要(英文)'] },
  { field: 'problem', zh: '解决的问题', en: 'Problem solved', aliases: ['解决问题', '技术问题', 'problem'] },
  { field: 'application', zh: '应用场景', en: 'Applications', aliases: ['应用', 'application', 'application scenario', 'use cases'] },
  { field: 'advantage', zh: '技术优势', en: 'Advantages', aliases: ['优势', '技术效果', 'advantage', 'technical advantages'] },
  { field: 'ipc', zh: 'IPC分类号', en: 'IPC', aliases: ['分类号', 'ipc分类', '主分类号', 'ipc classes', 'ipc class'] },
  { field: 'fields', zh: '技术领域', en: 'Technology fields', aliases: ['领域', '所属领域', 'fields', 'technical field', 'technology field'] },
  { field: 'inventors', zh: '发明人', en: 'Inventors', aliases: ['发明人/设计人', '设计人', 'inventor'] },
  { field: 'coOwners', zh: '共有人', en: 'Co-owners', aliases: ['共同专利权人', '共有权人', '共同申请人', 'co-owner', 'coowners'] },
  { field: 'filingDate', zh: '申请日', en: 'Filing date', aliases: ['申请日期', 'application date', 'filed'] },
  { field: 'grantDate', zh: '授权日', en: 'Grant date', aliases: ['授权公告日', '授权日期', '授权时间', 'granted'] },
  { field: 'legalStatus', zh: '法律状态', en: 'Legal status', aliases: ['状态', '专利状态', 'status'] },
  { field: 'annualFeePaidThrough', zh: '年费缴至', en: 'Annual fee paid through', aliases: ['年费缴纳至', '年费已缴至', '年费有效期至', 'annual fee paid until'] },
  { field: 'pledged', zh: '质押', en: 'Pledged', aliases: ['是否质押', '已质押', '质押状态'] },
  { field: 'pledgeeConsent', zh: '质权人同意', en: 'Pledgee consent', aliases: ['质权人是否同意'] },
  { field: 'exclusiveLicence', zh: '独占/排他许可', en: 'Exclusive licence', aliases: ['独占许可', '排他许可', '独占或排他许可', 'exclusive license', 'exclusive/sole licence'] },
  { field: 'suspended', zh: '中止', en: 'Suspended', aliases: ['是否中止', '程序中止', '中止程序'] },
  { field: 'evaluationReport', zh: '评价报告', en: 'Evaluation report', aliases: ['专利权评价报告', '有评价报告'] },
  { field: 'trl', zh: '技术成熟度', en: 'TRL', aliases: ['成熟度', '技术就绪度', 'technology readiness level'] },
  { field: 'assetRef', zh: '资产编号', en: 'Asset reference', aliases: ['台账编号', '资产登记号', '资产台账编号', 'asset ref', 'asset no'] },
];

/** The columns without which no row can be a register entry. */
export const REQUIRED_IMPORT_FIELDS: readonly PatentInputField[] = ['applicationNumber', 'titleZh', 'filingDate', 'legalStatus'];

/** Columns whose cells are dates or numbers; every other column is text and gets the formula-injection check. */
export const NON_TEXT_FIELDS: ReadonlySet<PatentInputField> = new Set(['filingDate', 'grantDate', 'annualFeePaidThrough', 'trl']);

export function normalizeHeader(raw: string): string {
  return raw
    .normalize('NFKC')
    .toLowerCase()
    // A language tag in brackets is part of the name (`Title (EN)`); any other bracketed note is not.
    .replace(/[([【]\s*(en|english|英文)\s*[)\]】]/g, 'en')
    .replace(/[([【]\s*(zh|chinese|中文)\s*[)\]】]/g, 'zh')
    .replace(/[([【][^)\]】]*[)\]】]/g, '')
    .replace(/[\s*_.:：]+/g, '');
}

const BY_HEADER = new Map<string, PatentInputField>();
for (const c of IMPORT_COLUMNS) {
  for (const name of [c.zh, c.en, c.field, ...c.aliases]) {
    const key = normalizeHeader(name);
    // Two fields claiming one header would silently import a column into the wrong field.
    if (BY_HEADER.has(key) && BY_HEADER.get(key) !== c.field) throw new Error(`import header ${name} is claimed by ${BY_HEADER.get(key)} and ${c.field}`);
    BY_HEADER.set(key, c.field);
  }
}

/** The field a header names, or null for a column the register does not keep. */
export function fieldForHeader(raw: string): PatentInputField | null {
  return BY_HEADER.get(normalizeHeader(raw)) ?? null;
}

const COLUMN_BY_FIELD = new Map(IMPORT_COLUMNS.map((c) => [c.field, c]));

/** `申请号 (Application number)`: how messages name a column the file does not have. */
export function columnLabel(field: PatentInputField): string {
  const c = COLUMN_BY_FIELD.get(field);
  return c ? `${c.zh} (${c.en})` : field;
}

/** The template's header as written (Chinese), for reports on a column missing from the file. */
export function templateHeader(field: PatentInputField): string {
  return COLUMN_BY_FIELD.get(field)?.zh ?? field;
}
