/**
 * Bulk import over HTTP: every accepted encoding and format reaches the same
 * dry run; every kind of bad file or row is reported (row, column, message)
 * and nothing invalid is written; the commit writes exactly the valid rows,
 * one audit event, and only once; only the uploading institution's TTOs
 * see or commit a batch.
 */
import crypto from 'node:crypto';
import { expect } from 'chai';
import iconv from 'iconv-lite';
import type { Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { ImportBatch } from '../../models/import-batch.js';
import { Organization, type Region } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { User } from '../../models/user.js';
import { parseApplicationNumber } from '../../server/domain/patent-number.js';
import { computeExpiry } from '../../server/domain/patent-term.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { csrfOf, DEMO, expectNoInternals, expectShows, fieldError, signedIn, t, tEn, type Agent } from './helpers.js';
import { BOM, checkChar, commit, csvText, errorRows, figure, freshNumber, HEADERS_ZH, patentRow, upload, uploadOk, wrongCheck, xlsxFile } from './import-helpers.js';

const TTO_JS = 'tto.js@demo.yrd-exchange.cn';

describe('patent import (/patents/import)', function () {
  this.timeout(60_000);
  let h: AppHarness;
  let tto: Agent;
  let hudong: { _id: Types.ObjectId; region: Region };
  before(async () => {
    h = await startApp();
    await loadDemo();
    tto = await signedIn(h, DEMO.tto);
    hudong = (await Organization.findOne({ nameZh: '沪东科技大学' }).lean())!;
  });
  after(async () => {
    await h.stop();
  });

  /** Patents, batches and audit events stay as they were through `fn`. */
  async function writesNoPatents(fn: () => Promise<void>): Promise<void> {
    const before = await Patent.countDocuments();
    await fn();
    expect(await Patent.countDocuments(), 'patents after a refused or dry-run import').to.equal(before);
  }

  async function refusedFile(file: Buffer, filename: string, key: string, params: Record<string, string | number> = {}): Promise<void> {
    const batches = await ImportBatch.countDocuments();
    await writesNoPatents(async () => {
      const res = await upload(tto, file, filename);
      expect(res.status, res.text.slice(0, 400)).to.equal(422);
      expect(fieldError(res.text, 'file')).to.equal(t(key, params));
      expectNoInternals(res.text);
    });
    expect(await ImportBatch.countDocuments(), 'no batch stored for an unreadable file').to.equal(batches);
  }

  describe('encodings and formats', () => {
    it('UTF-8 with BOM: dry run stores the batch and writes no patent; commit writes exactly the valid rows with holder, region, creator and one audit event', async () => {
      const good = [patentRow(), patentRow()];
      const bad = patentRow({ 专利名称: '' });
      const file = Buffer.concat([BOM, Buffer.from(csvText([HEADERS_ZH, ...good, bad]))]);
      let id = '';
      await writesNoPatents(async () => {
        const r = await uploadOk(tto, file, '沪东台账.csv');
        id = r.id;
        expect([figure(r.report.text, 'count-rows'), figure(r.report.text, 'count-valid'), figure(r.report.text, 'count-invalid')]).to.deep.equal([3, 2, 1]);
        expect(errorRows(r.report.text)).to.deep.equal([{ row: 4, column: '专利名称', message: t('form.required') }]);
      });
      const batch = await ImportBatch.findById(id).select('+file').lean();
      expect(batch).to.include({ format: 'csv', encoding: 'utf-8-bom', status: 'dry_run', filename: '沪东台账.csv', size: file.length });
      expect(batch!.sha256).to.equal(crypto.createHash('sha256').update(file).digest('hex'));
      expect(Buffer.from(batch!.file!.buffer ?? batch!.file!).equals(file), 'the bytes are kept for the commit').to.equal(true);
      expect(batch!.dryRunSummary).to.include({ rows: 3, valid: 2, invalid: 1 });
      expect(batch!.expiresAt.getTime() - Date.now()).to.be.within(23.9 * 3_600_000, 24 * 3_600_000);

      const auditBefore = await AuditEvent.countDocuments({ action: 'patent.imported' });
      const res = await commit(tto, id);
      expect(res.status, res.text.slice(0, 500)).to.equal(200);
      expect(figure(res.text, 'count-imported')).to.equal(2);
      expect(figure(res.text, 'count-skipped')).to.equal(1);
      expect(errorRows(res.text).map((e) => e.row)).to.deep.equal([4]);

      const user = await User.findOne({ email: DEMO.tto }).lean();
      const stored = await Patent.find({ applicationNumber: { $in: [...good, bad].map((r) => r[0]!) } }).lean();
      expect(stored.map((p) => p.applicationNumber).sort()).to.deep.equal(good.map((r) => r[0]!).sort());
      for (const p of stored) {
        expect(String(p.holder)).to.equal(String(hudong._id));
        expect(p).to.include({ region: hudong.region, type: 'invention', legalStatus: 'granted', trl: 5 });
        expect(String(p.createdBy)).to.equal(String(user!._id));
        expect(p.fields).to.deep.equal(['sensing_instruments']);
        expect(p.inventors).to.deep.equal(['王明', '李华']);
        expect(p.expiryDate.toISOString()).to.equal(computeExpiry(p.filingDate, 'invention').toISOString());
      }
      const events = await AuditEvent.find({ action: 'patent.imported', targetId: id }).lean();
      expect(events).to.have.length(1);
      expect(await AuditEvent.countDocuments({ action: 'patent.imported' })).to.equal(auditBefore + 1);
      expect(events[0]!.summary).to.include({ imported: 2, skipped: 1, rows: 3 });
      expect(events[0]!.actorEmail).to.equal(DEMO.tto);
      const after = await ImportBatch.findById(id).select('+file').lean();
      expect(after).to.include({ status: 'committed', file: null });
      expect(after!.resultSummary).to.include({ imported: 2, skipped: 1 });
    });

    it('UTF-8 without BOM, semicolon-separated, English headers in any order', async () => {
      const n = freshNumber();
      const text = csvText([['Title', 'Legal status', 'Application number', 'Filing date', 'Grant date', 'Notes'], ['Sensor', 'granted', n, `${n.slice(0, 4)}-01-02`, `${n.slice(0, 4)}-12-01`, 'x']], ';');
      const { id, report } = await uploadOk(tto, Buffer.from(text, 'utf8'));
      expect(figure(report.text, 'count-valid')).to.equal(1);
      expectShows(report.text, t('import.header.ignored', { columns: 'Notes' }));
      expect(await ImportBatch.findById(id).lean()).to.include({ encoding: 'utf-8', format: 'csv' });
    });

    it('GBK (as Chinese Excel/WPS write CSV), tab-separated: Chinese text arrives intact', async () => {
      const row = patentRow({ 专利名称: '一种基于石墨烯的柔性压力传感器' });
      const { id, report } = await uploadOk(tto, iconv.encode(csvText([HEADERS_ZH, row], '\t'), 'gbk'));
      expect(figure(report.text, 'count-valid')).to.equal(1);
      expect(await ImportBatch.findById(id).lean()).to.include({ encoding: 'gbk' });
      expect((await commit(tto, id)).status).to.equal(200);
      expect(await Patent.findOne({ applicationNumber: row[0] }).lean()).to.include({ titleZh: '一种基于石墨烯的柔性压力传感器' });
    });

    it('XLSX: real date cells become YYYY-MM-DD, numbers become text, a formula cell is a row error and never imported', async () => {
      const dated = patentRow({ 申请日: '2022-07-15', 授权日: '2023-09-01' });
      const formula = patentRow();
      const file = await xlsxFile([{ cells: dated, dates: true }, { cells: formula, formulaTitle: true }]);
      const { id, report } = await uploadOk(tto, file, 'ledger.xlsx');
      expect(await ImportBatch.findById(id).lean()).to.include({ format: 'xlsx', encoding: '' });
      expect([figure(report.text, 'count-valid'), figure(report.text, 'count-invalid')]).to.deep.equal([1, 1]);
      expect(errorRows(report.text)).to.deep.equal([{ row: 3, column: '专利名称', message: t('import.cell.formula') }]);
      expect((await commit(tto, id)).status).to.equal(200);
      const p = await Patent.findOne({ applicationNumber: dated[0] }).lean();
      expect(p!.filingDate.toISOString()).to.equal('2022-07-15T00:00:00.000Z');
      expect(p!.grantDate!.toISOString()).to.equal('2023-09-01T00:00:00.000Z');
      expect(p!.trl).to.equal(5);
      expect(await Patent.exists({ applicationNumber: formula[0] })).to.equal(null);
    });

    it('the downloadable templates round-trip through the importer', async () => {
      const csv = await tto.get('/patents/import/template.csv').buffer(true).parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => cb(null, Buffer.concat(chunks)));
      });
      expect(csv.status).to.equal(200);
      const bytes = csv.body as Buffer;
      expect(bytes.subarray(0, 3).equals(BOM), 'CSV template starts with a BOM').to.equal(true);
      expect(bytes.toString('utf8').slice(1).split('\r\n')[0]).to.match(/^申请号,专利名称,/);
      const xlsx = await tto.get('/patents/import/template.xlsx').buffer(true).parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => cb(null, Buffer.concat(chunks)));
      });
      expect(xlsx.status).to.equal(200);
      const { report } = await uploadOk(tto, xlsx.body as Buffer, 'template.xlsx');
      expect(errorRows(report.text), 'the example row is valid').to.deep.equal([]);
      expect(figure(report.text, 'count-valid')).to.equal(1);
    });
  });

  describe('bad files are refused whole and store nothing', () => {
    it('missing required columns → 422 naming them', async () => {
      const text = csvText([['申请号', '专利名称', '备注'], [freshNumber(), '标题', '']]);
      await refusedFile(Buffer.from(text), 'a.csv', 'import.header.missing', { columns: '申请日 (Filing date), 法律状态 (Legal status)' });
    });

    it('random bytes and UTF-16 → 422 naming the encodings tried', async () => {
      const noise = crypto.randomBytes(4096);
      noise[0] = 0x81; // not a zip, not a BOM
      await refusedFile(noise, 'noise.csv', 'import.encoding.unreadable', { tried: 'UTF-8, GBK, GB18030' });
      const utf16 = iconv.encode(csvText([HEADERS_ZH, patentRow()]), 'utf16le');
      await refusedFile(utf16, 'unicode.txt', 'import.encoding.unreadable', { tried: 'UTF-8, GBK, GB18030' });
      await refusedFile(Buffer.concat([Buffer.from([0xff, 0xfe]), utf16]), 'unicode.txt', 'import.encoding.utf16');
    });

    it('a damaged XLSX, an empty file and more than 20,000 rows → 422', async () => {
      const xlsx = await xlsxFile([{ cells: patentRow() }]);
      await refusedFile(xlsx.subarray(0, 200), 'broken.xlsx', 'import.xlsx.unreadable');
      await refusedFile(Buffer.from('\r\n\r\n'), 'empty.csv', 'import.file.empty');
      const many = [HEADERS_ZH, ...Array.from({ length: 20_001 }, () => ['1', 'x', '2022-01-01', '授权'])];
      await refusedFile(Buffer.from(csvText(many)), 'many.csv', 'import.rows.too_many', { max: 20_000, count: 20_001 });
    });

    it('no file → 422, a file over 10 MB → 413, without CSRF token → 403', async () => {
      const _csrf = await csrfOf(tto, '/patents/import');
      const none = await tto.post('/patents/import').field('_csrf', _csrf);
      expect(none.status).to.equal(422);
      expect(fieldError(none.text, 'file')).to.equal(t('import.file.missing'));
      const big = await upload(tto, Buffer.alloc(10 * 1024 * 1024 + 1, 0x41), 'big.csv');
      expect(big.status).to.equal(413);
      expect(fieldError(big.text, 'file')).to.equal(t('import.file.too_large', { max: 10 }));
      const batches = await ImportBatch.countDocuments();
      const noToken = await tto.post('/patents/import').attach('file', Buffer.from(csvText([HEADERS_ZH, patentRow()])), 'x.csv');
      expect(noToken.status).to.equal(403);
      expect(await ImportBatch.countDocuments()).to.equal(batches);
    });
  });

  describe('row errors name the row and the column', () => {
    it('a wrong check character', async () => {
      const bad = wrongCheck(freshNumber());
      const problem = parseApplicationNumber(bad);
      expect(problem.ok).to.equal(false);
      const { report } = await uploadOk(tto, Buffer.from(csvText([HEADERS_ZH, patentRow(), patentRow({ 申请号: bad })])));
      const expected = problem.ok ? '' : t(problem.key, problem.params);
      expect(errorRows(report.text)).to.deep.equal([{ row: 3, column: '申请号', message: expected }]);
      expect(expected).to.include(checkChar(bad.slice(0, 12)));
    });

    it('duplicates within the file (all their rows) and numbers already registered, here or elsewhere', async () => {
      const ours = freshNumber();
      const theirs = freshNumber();
      await Patent.create({ ...patentDoc(theirs), holder: (await Organization.findOne({ nameZh: '金陵理工大学' }).lean())!._id, region: 'JS' });
      await Patent.create({ ...patentDoc(ours), holder: hudong._id, region: hudong.region });
      const dup = freshNumber();
      const fresh = patentRow();
      const rows = [patentRow({ 申请号: dup }), fresh, patentRow({ 申请号: ours }), patentRow({ 申请号: dup }), patentRow({ 申请号: theirs })];
      await writesNoPatents(async () => {
        const { report } = await uploadOk(tto, Buffer.from(csvText([HEADERS_ZH, ...rows])));
        expect(figure(report.text, 'count-duplicates')).to.equal(2);
        expect(figure(report.text, 'count-registered')).to.equal(2);
        expect(figure(report.text, 'count-valid')).to.equal(1);
        expect(errorRows(report.text)).to.deep.equal([
          { row: 2, column: '申请号', message: t('import.row.duplicate_in_file', { rows: '5' }) },
          { row: 4, column: '申请号', message: t('import.row.already_in_register', { number: ours }) },
          { row: 5, column: '申请号', message: t('import.row.duplicate_in_file', { rows: '2' }) },
          { row: 6, column: '申请号', message: t('import.row.registered_elsewhere', { number: theirs }) },
        ]);
      });
    });

    it('CSV cells starting with =, +, -, @ in text columns are a formula-injection risk and are not imported', async () => {
      const rows = [
        patentRow({ 专利名称: '=HYPERLINK("http://evil.example","点我")' }),
        patentRow({ 发明人: '@SUM(1+1)' }),
        patentRow({ 专利名称: '+1+cmd|calc' }),
        patentRow({ 技术领域: '-2+3' }),
      ];
      const { id, report } = await uploadOk(tto, Buffer.from(csvText([HEADERS_ZH, ...rows])));
      const risk = t('import.cell.formula_risk');
      expect(errorRows(report.text)).to.deep.equal([
        { row: 2, column: '专利名称', message: risk }, { row: 3, column: '发明人', message: risk },
        { row: 4, column: '专利名称', message: risk }, { row: 5, column: '技术领域', message: risk },
      ]);
      expect(report.text, 'no commit button when nothing is valid').to.not.include(`/patents/import/${id}/commit`);
      await writesNoPatents(async () => {
        const res = await commit(tto, id);
        expect(res.status).to.equal(409);
        expectShows(res.text, t('import.nothing_valid'));
      });
      expect(await ImportBatch.findById(id).lean()).to.include({ status: 'dry_run' });
    });
  });

  describe('commit happens once', () => {
    it('a second commit is refused, and of two racing commits exactly one succeeds', async () => {
      const rows = [patentRow(), patentRow(), patentRow()];
      const { id } = await uploadOk(tto, Buffer.from(csvText([HEADERS_ZH, ...rows])));
      const before = await Patent.countDocuments();
      // Tokens first, so the two POSTs really are in flight together.
      const member = await signedIn(h, DEMO.ttoMember);
      const [tokenA, tokenB] = [await csrfOf(tto, '/patents/import'), await csrfOf(member, '/patents/import')];
      const [a, b] = await Promise.all([
        tto.post(`/patents/import/${id}/commit`).type('form').send({ _csrf: tokenA }),
        member.post(`/patents/import/${id}/commit`).type('form').send({ _csrf: tokenB }),
      ]);
      expect([a.status, b.status].sort()).to.deep.equal([200, 409]);
      const loser = a.status === 409 ? a : b;
      // The member's locale is English.
      expect(/<p class="lead">([^<]*)</.exec(loser.text)?.[1]).to.equal(loser === a ? t('import.already_committed') : tEn('import.already_committed'));
      expect(await Patent.countDocuments()).to.equal(before + 3);
      expect(await AuditEvent.countDocuments({ action: 'patent.imported', targetId: id })).to.equal(1);
      const again = await commit(tto, id);
      expect(again.status).to.equal(409);
      expectShows(again.text, t('import.already_committed'));
      expect(await Patent.countDocuments()).to.equal(before + 3);
      const view = await tto.get(`/patents/import/${id}`);
      expect(view.status).to.equal(200);
      expect(figure(view.text, 'count-imported')).to.equal(3);
    });

    it('the commit re-validates: a number registered after the dry run is skipped', async () => {
      const rows = [patentRow(), patentRow()];
      const { id } = await uploadOk(tto, Buffer.from(csvText([HEADERS_ZH, ...rows])));
      await Patent.create({ ...patentDoc(rows[1]![0]!), holder: hudong._id, region: hudong.region });
      const res = await commit(tto, id);
      expect(res.status).to.equal(200);
      expect(figure(res.text, 'count-imported')).to.equal(1);
      expect(errorRows(res.text)).to.deep.equal([{ row: 3, column: '申请号', message: t('import.row.already_in_register', { number: rows[1]![0]! }) }]);
    });
  });

  describe('who may import', () => {
    it("another institution's TTO can neither see nor commit the batch (404), and nothing changes", async () => {
      const { id } = await uploadOk(tto, Buffer.from(csvText([HEADERS_ZH, patentRow()])));
      const other = await signedIn(h, TTO_JS);
      await writesNoPatents(async () => {
        const view = await other.get(`/patents/import/${id}`);
        expect(view.status).to.equal(404);
        expectShows(view.text, t('import.not_found'));
        expect(view.text).to.not.include('portfolio.csv');
        expect((await commit(other, id)).status).to.equal(404);
        expect((await other.get(`/patents/import/${id}/errors.csv`)).status).to.equal(404);
      });
      expect(await ImportBatch.findById(id).lean()).to.include({ status: 'dry_run' });
      expect((await tto.get('/patents/import/not-an-id')).status).to.equal(404);
    });

    it('an SME gets 403 on the page and the upload; anonymous visitors are sent to log in', async () => {
      const sme = await signedIn(h, DEMO.sme);
      const batches = await ImportBatch.countDocuments();
      expect((await sme.get('/patents/import')).status).to.equal(403);
      const _csrf = await csrfOf(sme, '/account');
      const res = await sme.post('/patents/import').field('_csrf', _csrf).attach('file', Buffer.from(csvText([HEADERS_ZH, patentRow()])), 'x.csv');
      expect(res.status).to.equal(403);
      expect(await ImportBatch.countDocuments()).to.equal(batches);
      const anon = h.agent();
      const page = await anon.get('/patents/import');
      expect([page.status, page.headers.location]).to.deep.equal([302, '/login']);
      const post = await anon.post('/patents/import').attach('file', Buffer.from('x'), 'x.csv');
      expect([post.status, post.headers.location]).to.deep.equal([302, '/login']);
      expect(await ImportBatch.countDocuments()).to.equal(batches);
    });
  });
});

/** A stored patent's required fields, for numbers "registered meanwhile" (written directly, as another path would). */
function patentDoc(applicationNumber: string) {
  const year = Number(applicationNumber.slice(0, 4));
  return {
    applicationNumber, type: 'invention' as const, titleZh: '已登记专利', filingDate: new Date(Date.UTC(year, 0, 5)), expiryDate: new Date(Date.UTC(year + 20, 0, 5)), legalStatus: 'pending' as const,
  };
}
