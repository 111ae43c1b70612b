/**
 * Building portfolio files for the import tests (CSV in any encoding and
 * delimiter, XLSX with real date and formula cells), uploading them through
 * the multipart form, and reading the dry-run report back out of the page.
 */
import ExcelJS from 'exceljs';
import { expect } from 'chai';
import type { Response } from 'supertest';
import { csrfOf, type Agent } from './helpers.js';

/**
 * The CNIPA check character, computed here independently of the app's code:
 * digits left to right times weights 2..9 (cycling), sum mod 11, 10 → X.
 */
export function checkChar(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (2 + (i % 8));
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

let serial = 0;
/** A fresh, valid application number (unique within the test run); `type` 1 = invention, 2 = utility model. */
export function freshNumber(year = 2022, type = '1'): string {
  // Random start so a re-run against a kept database never collides; then sequential.
  serial ||= 1_000_000 + Math.floor(Math.random() * 8_000_000);
  const digits = `${year}${type}${String(serial++).padStart(7, '0')}`;
  return `${digits}.${checkChar(digits)}`;
}

/** The same number with a check character that cannot be right. */
export function wrongCheck(number: string): string {
  const [digits, c] = number.split('.');
  return `${digits}.${c === '0' ? '1' : '0'}`;
}

export const HEADERS_ZH = ['申请号', '专利名称', '申请日', '法律状态', '授权日', '技术领域', '发明人', '技术成熟度'];

/** One valid granted invention as a row under HEADERS_ZH, with overrides by header. */
export function patentRow(over: Record<string, string> = {}): string[] {
  const number = over['申请号'] ?? freshNumber();
  const year = number.slice(0, 4);
  const base: Record<string, string> = {
    申请号: number, 专利名称: `一种测试用传感装置${number.slice(5, 12)}`, 申请日: `${year}-04-01`, 法律状态: '授权', 授权日: `${Number(year) + 1}-06-30`,
    技术领域: '传感与仪器', 发明人: '王明, 李华', 技术成熟度: '5',
  };
  return HEADERS_ZH.map((h) => over[h] ?? base[h]!);
}

/** RFC 4180 text with the given delimiter. */
export function csvText(rows: string[][], delimiter = ','): string {
  const cell = (v: string) => (/["\r\n]/.test(v) || v.includes(delimiter) ? `"${v.replace(/"/g, '""')}"` : v);
  return `${rows.map((r) => r.map(cell).join(delimiter)).join('\r\n')}\r\n`;
}

export const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** An XLSX whose row 2 has real Excel dates, and whose row 3 has a formula in 专利名称. */
export async function xlsxFile(rows: { cells: string[]; dates?: boolean; formulaTitle?: boolean }[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('台账');
  ws.addRow(HEADERS_ZH);
  for (const r of rows) {
    const row = ws.addRow(r.cells);
    if (r.dates) {
      for (const col of [3, 5]) {
        row.getCell(col).value = new Date(`${r.cells[col - 1]}T00:00:00Z`);
        row.getCell(col).numFmt = 'yyyy-mm-dd';
      }
      row.getCell(8).value = Number(r.cells[7]);
    }
    if (r.formulaTitle) row.getCell(2).value = { formula: 'CONCATENATE("一种","装置")', result: '一种装置' };
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** Uploads through the import form (CSRF token from the page, sent before the file). */
export async function upload(agent: Agent, file: Buffer, filename = 'portfolio.csv'): Promise<Response> {
  const _csrf = await csrfOf(agent, '/patents/import');
  return agent.post('/patents/import').field('_csrf', _csrf).attach('file', file, { filename, contentType: 'application/octet-stream' });
}

/** Uploads and follows to the report; returns the batch id and the report page. */
export async function uploadOk(agent: Agent, file: Buffer, filename?: string): Promise<{ id: string; report: Response }> {
  const res = await upload(agent, file, filename);
  expect(res.status, res.text.slice(0, 800)).to.equal(303);
  const id = /^\/patents\/import\/([0-9a-f]{24})$/.exec(res.headers.location ?? '')?.[1];
  expect(id, res.headers.location).to.be.a('string');
  const report = await agent.get(`/patents/import/${id}`);
  expect(report.status, report.text.slice(0, 800)).to.equal(200);
  return { id: id!, report };
}

/** Posts the report's commit form. */
export async function commit(agent: Agent, id: string): Promise<Response> {
  const _csrf = await csrfOf(agent, '/patents/import');
  return agent.post(`/patents/import/${id}/commit`).type('form').send({ _csrf });
}

const unescape = (s: string) => s.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&#x3D;/g, '=').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x60;/g, '`').replace(/&amp;/g, '&');

/** The row/column/message table of a report or result page. */
export function errorRows(html: string): { row: number; column: string; message: string }[] {
  return [...html.matchAll(/<tr>\s*<th scope="row">(\d+)<\/th>\s*<td>([^<]*)<\/td>\s*<td>([^<]*)<\/td>\s*<\/tr>/g)]
    .map((m) => ({ row: Number(m[1]), column: unescape(m[2]!), message: unescape(m[3]!) }));
}

/** A summary figure by its element id (count-rows, count-valid, count-imported …). */
export function figure(html: string, id: string): number {
  const m = new RegExp(`id="${id}">(\\d+)<`).exec(html);
  expect(m, `figure ${id}`).to.not.equal(null);
  return Number(m![1]);
}
