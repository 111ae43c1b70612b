/**
 * The import templates TTOs download: every register column headed in
 * Chinese (the language of their ledgers) and one filled-in example row.
 * The CSV starts with a BOM because Excel on Windows otherwise opens UTF-8
 * as the local code page and shows mojibake.
 */
import ExcelJS from 'exceljs';
import { IMPORT_COLUMNS } from './import-columns.js';
import type { PatentInputField } from './patent-input.js';

/** A made-up but well-formed entry (202110123456 has check character 7). */
const EXAMPLE: Partial<Record<PatentInputField, string>> = {
  applicationNumber: '202110123456.7', titleZh: '一种低功耗存算一体芯片的数据调度方法', titleEn: 'Data scheduling method for a low-power compute-in-memory chip',
  abstractZh: '本发明公开了一种存算一体芯片的数据调度方法……', problem: '边缘设备推理功耗高', application: '可穿戴设备、智能传感器', advantage: '功耗降低约40%',
  ipc: 'G06F15/78, G11C11/54', fields: '集成电路, 人工智能', inventors: '王明, 李华', coOwners: '', filingDate: '2021-03-15', grantDate: '2023-06-20',
  legalStatus: '授权', annualFeePaidThrough: '2026-03-14', pledged: '否', pledgeeConsent: '否', exclusiveLicence: '无', suspended: '否', evaluationReport: '否', trl: '5', assetRef: 'HD-ZC-2021-0001',
};

const exampleRow = () => IMPORT_COLUMNS.map((c) => EXAMPLE[c.field] ?? '');

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function importTemplateCsv(): Buffer {
  const lines = [IMPORT_COLUMNS.map((c) => c.zh), exampleRow()].map((r) => r.map(csvCell).join(','));
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

export async function importTemplateXlsx(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('专利台账');
  sheet.columns = IMPORT_COLUMNS.map((c) => ({ header: c.zh, key: c.field, width: Math.max(12, c.zh.length * 3) }));
  const row = sheet.addRow(exampleRow());
  // Dates typed as real dates, as a TTO's ledger would have them; the importer reads them back as YYYY-MM-DD.
  for (const field of ['filingDate', 'grantDate', 'annualFeePaidThrough'] as const) {
    const cell = row.getCell(field);
    cell.value = new Date(`${EXAMPLE[field]}T00:00:00Z`);
    cell.numFmt = 'yyyy-mm-dd';
  }
  // Application numbers and references must stay text, or Excel turns long digit strings into 2.02E+11.
  for (const field of ['applicationNumber', 'assetRef'] as const) sheet.getColumn(field).numFmt = '@';
  sheet.getRow(1).font = { bold: true };
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/**
 * The dry run's problems as CSV (BOM, so Excel opens it right). Messages echo
 * cell contents, so a value a spreadsheet would run as a formula is quoted
 * with a leading apostrophe (OWASP's CSV-injection advice).
 */
export function importErrorsCsv(header: string[], rows: string[][]): Buffer {
  const safe = (v: string) => csvCell(/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
  return Buffer.from(`\uFEFF${[header, ...rows].map((r) => r.map(safe).join(',')).join('\r\n')}\r\n`, 'utf8');
}
