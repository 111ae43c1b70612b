/**
 * Turns an uploaded portfolio file into rows of strings keyed by register
 * field, or one file-level error saying why it cannot be read. It decides
 * nothing about whether a row is a valid patent (patent-input.ts does, for
 * the form and the import alike); it only reports what the file itself gets
 * wrong: its encoding, its shape, its header, and cells that are formulas.
 */
import ExcelJS from 'exceljs';
import { parse as parseCsv } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import type { FieldError } from '../errors.js';
import { columnLabel, fieldForHeader, NON_TEXT_FIELDS, REQUIRED_IMPORT_FIELDS } from './import-columns.js';
import type { PatentInputField } from './patent-input.js';

/** More rows than any institution's register; beyond it a file is a mistake or an attack. */
export const MAX_IMPORT_ROWS = 20_000;
/** What an XLSX may expand to when unzipped (a 10 MB upload could otherwise be a zip bomb). */
const MAX_XLSX_UNZIPPED = 200 * 1024 * 1024;
/** The header is the first of these many rows that names at least two required columns. */
const HEADER_SEARCH_ROWS = 10;

export interface CellError {
  field: PatentInputField;
  key: string;
  params?: Record<string, string | number>;
}

export interface ParsedRow {
  /** The row number the user sees in their spreadsheet (the header row included). */
  row: number;
  values: Partial<Record<PatentInputField, string>>;
  cellErrors: CellError[];
}

export interface ParsedSheet {
  format: 'csv' | 'xlsx';
  /** `utf-8-bom`, `utf-8`, `gbk` or `gb18030` for CSV; empty for XLSX. */
  encoding: string;
  /** Each imported field's header as written in the file. */
  headers: Partial<Record<PatentInputField, string>>;
  rows: ParsedRow[];
  warnings: FieldError[];
}

export type ParseResult = { ok: true; sheet: ParsedSheet } | { ok: false; error: FieldError };

type Decoded = { ok: true; text: string; encoding: string } | { ok: false; error: FieldError };

/** Characters that only appear when bytes were decoded with the wrong table (controls other than tab/CR/LF, U+FFFD, private use). */
// eslint-disable-next-line no-control-regex
const MOJIBAKE = /[\uFFFD\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uE000-\uF8FF]/;
const TRIED = 'UTF-8, GBK, GB18030';

/**
 * UTF-8 (with or without BOM) first, since strict UTF-8 decoding almost never
 * succeeds on GBK bytes by accident; then GBK and GB18030, which is what WPS
 * and older Excel write for "CSV" on a Chinese Windows.
 */
export function decodeCsvBytes(buf: Buffer): Decoded {
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) return { ok: false, error: { key: 'import.encoding.utf16' } };
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
    if (!MOJIBAKE.test(text)) return { ok: true, text, encoding: bom ? 'utf-8-bom' : 'utf-8' };
  } catch {
    if (bom) return { ok: false, error: { key: 'import.encoding.unreadable', params: { tried: 'UTF-8' } } };
  }
  for (const encoding of ['gbk', 'gb18030']) {
    const text = iconv.decode(buf, encoding);
    if (!MOJIBAKE.test(text)) return { ok: true, text, encoding };
  }
  return { ok: false, error: { key: 'import.encoding.unreadable', params: { tried: TRIED } } };
}

/** The delimiter the header line uses most (outside quotes): comma, semicolon or tab. */
export function detectDelimiter(text: string): string {
  const counts = new Map([[',', 0], [';', 0], ['\t', 0]]);
  let quoted = false;
  for (const c of text.slice(0, 64 * 1024)) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
  }
  const [best, n] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  return n > 0 ? best : ',';
}

/** A raw row: its spreadsheet number and its cells, each a string or a cell-level error. */
interface RawRow {
  row: number;
  cells: (string | FieldError)[];
}

function isBlank(r: RawRow): boolean {
  return r.cells.every((c) => typeof c === 'string' && c.trim() === '');
}

/** Maps header cells to fields; unknown columns become one warning, a repeated field a file error. */
function buildSheet(format: ParsedSheet['format'], encoding: string, raw: RawRow[]): ParseResult {
  const nonBlank = raw.filter((r) => !isBlank(r));
  if (!nonBlank.length) return { ok: false, error: { key: 'import.file.empty' } };
  const headerText = (r: RawRow) => r.cells.map((c) => (typeof c === 'string' ? c.trim() : ''));
  const header = nonBlank.slice(0, HEADER_SEARCH_ROWS).find((r) => {
    const fields = headerText(r).map(fieldForHeader);
    return REQUIRED_IMPORT_FIELDS.filter((f) => fields.includes(f)).length >= 2;
  }) ?? nonBlank[0]!;

  const byIndex: (PatentInputField | null)[] = [];
  const headers: ParsedSheet['headers'] = {};
  const unknown: string[] = [];
  for (const [i, name] of headerText(header).entries()) {
    const field = name ? fieldForHeader(name) : null;
    byIndex[i] = field;
    if (!field) {
      if (name) unknown.push(name);
      continue;
    }
    if (headers[field]) return { ok: false, error: { key: 'import.header.duplicate', params: { first: headers[field]!, second: name } } };
    headers[field] = name;
  }
  const missing = REQUIRED_IMPORT_FIELDS.filter((f) => !headers[f]);
  if (missing.length) return { ok: false, error: { key: 'import.header.missing', params: { columns: missing.map(columnLabel).join(', ') } } };

  const data = nonBlank.filter((r) => r.row > header.row);
  if (data.length > MAX_IMPORT_ROWS) return { ok: false, error: { key: 'import.rows.too_many', params: { max: MAX_IMPORT_ROWS, count: data.length } } };

  const rows = data.map((r): ParsedRow => {
    const values: ParsedRow['values'] = {};
    const cellErrors: CellError[] = [];
    for (const [i, cell] of r.cells.entries()) {
      const field = byIndex[i];
      if (!field) continue;
      if (typeof cell !== 'string') {
        cellErrors.push({ field, ...cell });
        continue;
      }
      const value = cell.trim();
      // OWASP CSV injection: a text cell that a spreadsheet would run as a formula when the register is exported again.
      if (!NON_TEXT_FIELDS.has(field) && value.length > 1 && /^[=+\-@]/.test(value)) {
        cellErrors.push({ field, key: 'import.cell.formula_risk' });
        continue;
      }
      values[field] = value;
    }
    return { row: r.row, values, cellErrors };
  });
  const warnings: FieldError[] = unknown.length ? [{ key: 'import.header.ignored', params: { columns: unknown.join(', ') } }] : [];
  return { ok: true, sheet: { format, encoding, headers, rows, warnings } };
}

function parseCsvFile(buf: Buffer): ParseResult {
  const decoded = decodeCsvBytes(buf);
  if (!decoded.ok) return decoded;
  const text = decoded.text.replace(/^\uFEFF/, '');
  let records: string[][];
  // csv-parse builds an Error (stack trace included) for every row shorter or longer than the first, even
  // when relaxed; ragged exports are common, and without stacks 20,000 such rows parse ~3× faster.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    // Blank lines are kept so record i is spreadsheet row i + 1, as Excel would show the file.
    records = parseCsv(text, { delimiter: detectDelimiter(text), relax_column_count: true, skip_empty_lines: false, max_record_size: 1_000_000 }) as string[][];
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 0;
    return { ok: false, error: { key: 'import.csv.malformed', params: { line } } };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  return buildSheet('csv', decoded.encoding, records.map((cells, i) => ({ row: i + 1, cells })));
}

/**
 * Sum of the uncompressed sizes in a zip's central directory, or null when
 * the directory cannot be read (then ExcelJS reports the file as broken).
 */
function zipUnpackedSize(buf: Buffer): number | null {
  const floor = Math.max(0, buf.length - 65_557);
  for (let eocd = buf.length - 22; eocd >= floor; eocd--) {
    if (buf.readUInt32LE(eocd) !== 0x06054b50) continue;
    const entries = buf.readUInt16LE(eocd + 10);
    let at = buf.readUInt32LE(eocd + 16);
    let total = 0;
    for (let i = 0; i < entries; i++) {
      if (at + 46 > buf.length || buf.readUInt32LE(at) !== 0x02014b50) return null;
      const size = buf.readUInt32LE(at + 24);
      // 0xFFFFFFFF means a Zip64 size: no spreadsheet we accept needs one.
      total += size === 0xffffffff ? Infinity : size;
      at += 46 + buf.readUInt16LE(at + 28) + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
    }
    return total;
  }
  return null;
}

const ymd = (d: Date) => (Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10));

/** One cell as text; formulas and error values are never evaluated or imported. */
function xlsxCell(value: ExcelJS.CellValue): string | FieldError {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return ymd(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value;
  if ('formula' in value || 'sharedFormula' in value) return { key: 'import.cell.formula' };
  if ('error' in value) return { key: 'import.cell.error_value', params: { value: String(value.error) } };
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('text' in value) {
    // A hyperlink's text is rich text at run time when the link was formatted, whatever the typings say.
    const linkText = value.text as string | ExcelJS.CellRichTextValue;
    return typeof linkText === 'string' ? linkText : linkText.richText.map((r) => r.text).join('');
  }
  return '';
}

async function parseXlsxFile(buf: Buffer): Promise<ParseResult> {
  const unpacked = zipUnpackedSize(buf);
  if (unpacked !== null && unpacked > MAX_XLSX_UNZIPPED) return { ok: false, error: { key: 'import.xlsx.too_large' } };
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(buf as unknown as ExcelJS.Buffer);
  } catch {
    return { ok: false, error: { key: 'import.xlsx.unreadable' } };
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) return { ok: false, error: { key: 'import.file.empty' } };
  if (sheet.actualRowCount > MAX_IMPORT_ROWS + HEADER_SEARCH_ROWS) {
    return { ok: false, error: { key: 'import.rows.too_many', params: { max: MAX_IMPORT_ROWS, count: sheet.actualRowCount - 1 } } };
  }
  const raw: RawRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: RawRow['cells'] = [];
    for (let col = 1; col <= row.cellCount; col++) cells.push(xlsxCell(row.getCell(col).value));
    raw.push({ row: rowNumber, cells });
  });
  return buildSheet('xlsx', '', raw);
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** The OLE container of Excel 97–2003 `.xls`, which we do not read. */
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

/** XLSX when the bytes are a zip (whatever the file is called), CSV otherwise. */
export async function parseImportFile(buf: Buffer): Promise<ParseResult> {
  if (!buf.length) return { ok: false, error: { key: 'import.file.empty' } };
  if (buf.subarray(0, 4).equals(ZIP_MAGIC)) return parseXlsxFile(buf);
  if (buf.subarray(0, 4).equals(OLE_MAGIC)) return { ok: false, error: { key: 'import.xls.unsupported' } };
  return parseCsvFile(buf);
}

export function detectFormat(buf: Buffer): 'csv' | 'xlsx' {
  return buf.subarray(0, 4).equals(ZIP_MAGIC) ? 'xlsx' : 'csv';
}
