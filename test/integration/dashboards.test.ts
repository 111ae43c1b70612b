/**
 * The dashboards and their CSV exports: every figure matches what the
 * database holds for the viewer's own organisation and nothing of anyone
 * else's; the CSV opens in Excel (BOM) and cannot smuggle a formula in.
 */
import { expect } from 'chai';
import type { Types } from 'mongoose';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { Payment } from '../../models/payment.js';
import { User } from '../../models/user.js';
import { formatYuan } from '../../server/domain/money.js';
import { loadDictionaries } from '../../server/http/i18n.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { loadDemoCatalogue } from '../../server/seed/load-demo-catalogue.js';
import { loadDemoLicences } from '../../server/seed/load-demo-licences.js';
import { csvCell, fenToDecimal, labelKey } from '../../server/services/dashboards-csv.js';
import { INVOICE_KINDS } from '../../models/invoice.js';
import { INVOICE_STATUSES, LICENCE_STATES } from '../../server/domain/licence-states.js';
import { PAYMENT_PROVIDERS, PAYMENT_STATUSES } from '../../models/payment.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DAY, makeInvoice, makeLicence } from '../helpers/licensing-fixtures.js';
import { DEMO, signedIn, type Agent } from './helpers.js';

const figure = (html: string, name: string) => new RegExp(`data-figure="${name}">([^<]*)<`).exec(html)?.[1]?.trim() ?? null;

/** Parses our CSV (quoted cells with doubled quotes, CRLF rows). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean)) {
    const cells: string[] = [];
    for (const m of line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)) {
      cells.push(m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!);
      if (m[2] === '') break;
    }
    rows.push(cells);
  }
  return rows;
}

describe('dashboards', function () {
  let h: AppHarness;
  let tto: Agent;
  let sme: Agent;
  let univ: Types.ObjectId;
  let otherUniv: Types.ObjectId;
  let micro: Types.ObjectId;
  let small: Types.ObjectId;
  const numbers: Record<string, string> = {};

  before(async () => {
    h = await startApp();
    await loadDemo();
    await loadDemoCatalogue({ patents: 30 });
    const org = async (email: string) => (await User.findOne({ email }).lean())!.organization;
    [univ, otherUniv, micro, small] = await Promise.all([org(DEMO.tto), org('tto.js@demo.yrd-exchange.cn'), org(DEMO.sme), org('sme.small@demo.yrd-exchange.cn')]);
    const now = Date.now();
    const l1 = await makeLicence(univ, micro, 'paying');
    numbers.open = (await makeInvoice(l1, { amountFen: 100_000, dueAt: new Date(now + 20 * DAY) })).number;
    numbers.overdue = (await makeInvoice(l1, { amountFen: 200_000, paidFen: 50_000, dueAt: new Date(now - 10 * DAY), status: 'overdue' })).number;
    const paid = await makeInvoice(l1, { amountFen: 30_000, dueAt: new Date(now - 50 * DAY), status: 'paid' });
    const l2 = await makeLicence(univ, small, 'defaulted');
    const defaulted = await makeInvoice(l2, { amountFen: 70_000, dueAt: new Date(now - 120 * DAY), status: 'overdue' });
    await Invoice.updateOne({ _id: defaulted._id }, { $set: { status: 'defaulted', defaultedAt: new Date() } });
    numbers.defaulted = defaulted.number;
    numbers.filingSoon = (await makeLicence(univ, micro, 'active_free', { filingDueAt: new Date(now + 10 * DAY) })).number;
    numbers.filingLate = (await makeLicence(univ, small, 'active', { filingDueAt: new Date(now - 3 * DAY) })).number;
    numbers.filed = (await makeLicence(univ, micro, 'active', { filingDueAt: new Date(now + 5 * DAY), filedAt: new Date() })).number;
    numbers.filingLater = (await makeLicence(univ, micro, 'active', { filingDueAt: new Date(now + 60 * DAY) })).number;
    // Another institution's licence with the same SME: the SME sees it, the first TTO does not.
    const l3 = await makeLicence(otherUniv, micro, 'paying');
    numbers.otherLicence = l3.number;
    numbers.otherInvoice = (await makeInvoice(l3, { amountFen: 999_900, dueAt: new Date(now + 5 * DAY) })).number;
    // A name a spreadsheet would run as a formula.
    numbers.evil = (await makeLicence(univ, small, 'paying')).number;
    await Licence.updateOne({ number: numbers.evil }, { $set: { 'snapshot.licenseeNameZh': '=HYPERLINK("http://evil.example","x")' } });
    const pay = (status: 'confirmed' | 'declared', amountFen: number, key: string) => ({ invoice: paid._id, licence: l1._id, payer: micro, payee: univ, provider: 'bank_transfer' as const, amountFen, status, idempotencyKey: key, providerRef: key });
    await Payment.create([pay('confirmed', 30_000, 'BANK-REF-1'), pay('declared', 10_000, 'BANK-REF-2')]);
    tto = await signedIn(h, DEMO.tto);
    sme = await signedIn(h, DEMO.sme);
  });
  after(async () => {
    await h.stop();
  });

  /** Outstanding fen per status for one side, straight from the database. */
  async function outstandingBy(side: 'licensor' | 'licensee', org: Types.ObjectId) {
    const out: Record<string, number> = { open: 0, overdue: 0, defaulted: 0 };
    for (const i of await Invoice.find({ [side]: org }).lean()) if (i.status in out) out[i.status]! += i.amountFen - i.paidFen;
    return out;
  }

  it("the TTO's figures add up against the database, for its own institution only", async () => {
    const res = await tto.get('/dashboard/tto');
    expect(res.status).to.equal(200);
    const db = await outstandingBy('licensor', univ);
    expect(db).to.deep.equal({ open: 100_000, overdue: 150_000, defaulted: 70_000 });
    expect(figure(res.text, 'open')).to.match(new RegExp(`^${formatYuan(db.open!).replace(/[.$]/g, '\\$&')}`));
    expect(figure(res.text, 'overdue')).to.include(formatYuan(db.overdue!));
    expect(figure(res.text, 'defaulted')).to.include(formatYuan(db.defaulted!));
    expect(figure(res.text, 'receivable')).to.equal(formatYuan(db.open! + db.overdue! + db.defaulted!));
    expect(figure(res.text, 'collected')).to.equal(formatYuan(80_000));
    const byState = Object.fromEntries([...res.text.matchAll(/data-state="(\w+)">[^<]*<strong>(\d+)</g)].map((m) => [m[1], Number(m[2])]));
    const expected: Record<string, number> = {};
    for (const l of await Licence.find({ licensor: univ }).lean()) expected[l.state] = (expected[l.state] ?? 0) + 1;
    expect(byState).to.deep.equal(expected);
    for (const n of [numbers.overdue, numbers.defaulted, numbers.filingSoon, numbers.filingLate]) expect(res.text).to.include(n);
    for (const n of [numbers.otherInvoice, numbers.otherLicence]) expect(res.text, 'another institution').not.to.include(n);
    // Filings: due within 30 days or late, and not filed.
    const filings = res.text.slice(res.text.indexOf('id="filings-title"'), res.text.indexOf('id="unpaid-title"'));
    expect(filings).to.include(numbers.filingSoon).and.include(numbers.filingLate);
    expect(filings).not.to.include(numbers.filed);
    expect(filings).not.to.include(numbers.filingLater);
  });

  it("the SME sees its own licences from every licensor, what it owes and when, and what it paid", async () => {
    const res = await sme.get('/dashboard/sme');
    expect(res.status).to.equal(200);
    const db = await outstandingBy('licensee', micro);
    expect(figure(res.text, 'owed')).to.equal(formatYuan(db.open! + db.overdue! + db.defaulted!));
    expect(figure(res.text, 'overdue')).to.equal(formatYuan(150_000));
    expect(figure(res.text, 'paid'), 'confirmed payments only').to.equal(formatYuan(30_000));
    expect(res.text).to.include(numbers.otherLicence).and.include(numbers.otherInvoice);
    // Owed invoices by due date: the overdue one first.
    expect(res.text.indexOf(numbers.overdue!)).to.be.lessThan(res.text.indexOf(numbers.otherInvoice!));
    expect(res.text.indexOf(numbers.otherInvoice!)).to.be.lessThan(res.text.indexOf(numbers.open!));
    expect(res.text, "another SME's default").not.to.include(numbers.defaulted);

    const other = await signedIn(h, 'sme.small@demo.yrd-exchange.cn');
    const page = (await other.get('/dashboard/sme')).text;
    expect(page).to.include(numbers.defaulted);
    for (const n of [numbers.open, numbers.overdue, numbers.otherInvoice]) expect(page).not.to.include(n);
  });

  it('CSV exports: BOM, every row of the own organisation, amounts in yuan', async () => {
    const res = await tto.get('/dashboard/tto.csv?what=invoices');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/csv; charset=utf-8/);
    expect(res.headers['content-disposition']).to.match(/attachment; filename="?invoices-\d{4}-\d{2}-\d{2}\.csv/);
    const raw = res.text;
    expect(raw.charCodeAt(0), 'UTF-8 BOM').to.equal(0xfeff);
    const rows = parseCsv(raw);
    expect(rows[0]![0]).to.equal('账单编号');
    expect(rows[0]!.filter((c) => c.includes('.')), 'every header translated').to.deep.equal([]);
    const own = await Invoice.find({ licensor: univ }).lean();
    expect(rows.length - 1).to.equal(own.length);
    const overdueRow = rows.find((r) => r[0] === numbers.overdue)!;
    expect(overdueRow.slice(7, 10)).to.deep.equal(['2000.00', '500.00', '1500.00']);
    expect(raw).not.to.include(numbers.otherInvoice);

    const licences = parseCsv((await tto.get('/dashboard/tto.csv?what=licences')).text);
    expect(licences.length - 1).to.equal(await Licence.countDocuments({ licensor: univ }));
    const smePayments = parseCsv((await sme.get('/dashboard/sme.csv?what=payments')).text);
    expect(smePayments.slice(1).map((r) => r[5]).sort()).to.deep.equal(['BANK-REF-1', 'BANK-REF-2']);
    const smeInvoices = parseCsv((await sme.get('/dashboard/sme.csv?what=invoices')).text);
    expect(smeInvoices.length - 1).to.equal(await Invoice.countDocuments({ licensee: micro }));
  });

  it('CSV cells that a spreadsheet would run as formulas are neutralised', async () => {
    const rows = parseCsv((await tto.get('/dashboard/tto.csv?what=licences')).text);
    const evil = rows.find((r) => r[0] === numbers.evil)!;
    expect(evil[5]).to.equal(`'=HYPERLINK("http://evil.example","x")`);
    for (const [input, out] of [['=1+1', "'=1+1"], ['+86 21', "'+86 21"], ['-2', "'-2"], ['@SUM(A1)', "'@SUM(A1)"], ['\tx', "'\tx"], ['a,b', '"a,b"'], ['普通', '普通']]) {
      expect(csvCell(input!), input).to.equal(out);
    }
    expect(fenToDecimal(5)).to.equal('0.05');
    expect(fenToDecimal(123_456_789)).to.equal('1234567.89');
  });

  it('refuses the wrong role, an unknown export, and anonymous visitors', async () => {
    expect((await sme.get('/dashboard/tto')).status).to.equal(403);
    expect((await tto.get('/dashboard/sme')).status).to.equal(403);
    expect((await sme.get('/dashboard/tto.csv?what=invoices')).status).to.equal(403);
    expect((await tto.get('/dashboard/tto.csv?what=payments')).status).to.equal(404);
    expect((await tto.get('/dashboard/tto.csv?what[$ne]=x')).status).to.equal(404);
    const anon = h.agent();
    const res = await anon.get('/dashboard/sme');
    expect(res.status).to.equal(302);
    expect(res.headers.location).to.equal('/login');
  });

  it('every label the dashboards show exists in both languages, and the home pages link here', async () => {
    const dicts = loadDictionaries();
    const keys = [
      ...LICENCE_STATES.map(labelKey.licenceState), ...INVOICE_STATUSES.map(labelKey.invoiceStatus), ...INVOICE_KINDS.map(labelKey.invoiceKind),
      ...PAYMENT_STATUSES.map(labelKey.paymentStatus), ...PAYMENT_PROVIDERS.map(labelKey.paymentProvider), ...['open', 'deferred', 'negotiated'].map(labelKey.licenceKind),
    ];
    for (const k of keys) for (const l of ['zh-CN', 'en'] as const) expect(dicts[l], `${l} ${k}`).to.have.property(k);
    expect((await tto.get('/')).text).to.include('href="/dashboard/tto"');
    expect((await sme.get('/')).text).to.include('href="/dashboard/sme"');
  });
});

describe('demo licences', function () {
  let h: AppHarness;
  before(async () => {
    h = await startApp();
    await loadDemo();
    await loadDemoCatalogue();
  });
  after(async () => {
    await h.stop();
  });

  it('load in each state with their invoices and events, and fill both dashboards', async () => {
    expect(await loadDemoLicences()).to.deep.equal({ licences: 4, invoices: 3 });
    expect((await Licence.find().lean()).map((l) => l.state).sort()).to.deep.equal(['active', 'active_free', 'defaulted', 'in_arrears']);
    expect((await Invoice.find().lean()).map((i) => i.status).sort()).to.deep.equal(['defaulted', 'overdue', 'paid']);
    expect(await LicensingEvent.countDocuments({ type: 'licence.granted' })).to.equal(4);
    expect(await LicensingEvent.countDocuments({ type: 'invoice.issued' })).to.equal(3);
    const tto = await signedIn(h, DEMO.tto);
    const page = (await tto.get('/dashboard/tto')).text;
    expect(figure(page, 'defaulted')).to.equal(formatYuan(1_850_000));
    expect(figure(page, 'collected')).to.equal(formatYuan(5_000_000));
    const sme = await signedIn(h, DEMO.sme);
    const smePage = (await sme.get('/dashboard/sme')).text;
    expect(figure(smePage, 'overdue')).to.equal(formatYuan(1_850_000));
    expect(figure(smePage, 'paid')).to.equal(formatYuan(5_000_000));
  });
});
