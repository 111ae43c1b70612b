/**
 * The catalogue's main journeys in Chromium: a TTO imports a CSV of its
 * portfolio (seeing the bad row in the dry run), publishes an open licence
 * on an imported patent; an SME finds it with a Chinese query in its own
 * words, sees why it matched and the terms in plain words, and enquires.
 * The `it`s are one story and run in order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Enquiry } from '../../models/enquiry.js';
import { Offer } from '../../models/offer.js';
import { Patent } from '../../models/patent.js';
import { checkCharacter } from '../../server/domain/patent-number.js';
import type { BrowserPage } from '../helpers/browser.js';
import { startJourney, type Journey } from '../helpers/browser-journey.js';

const TTO = 'tto.sh@demo.yrd-exchange.cn';
const SME = 'sme.micro@demo.yrd-exchange.cn';
const GOOD = '202110765432';
const BAD = '202110765433';
const TITLE = '一种锂离子电池低温快速充电方法';

/** The portfolio export as Chinese office software writes it: UTF-8 with a BOM, Chinese headers. */
function portfolioCsv(): string {
  const year = new Date().getUTCFullYear() + 1;
  const wrongCheck = checkCharacter(BAD) === '0' ? '1' : '0';
  return '\uFEFF' + [
    '申请号,专利名称,申请日,授权日,法律状态,年费缴至,技术领域,IPC分类号,解决的问题,应用场景,技术优势,发明人',
    `${GOOD}.${checkCharacter(GOOD)},${TITLE},2021-04-02,2023-08-18,有效,${year}-04-02,新能源,H01M 10/44,电动车冬天充电慢、续航短,电动汽车和储能电池包,零下二十度充电时间缩短一半,王磊`,
    `${BAD}.${wrongCheck},一种光伏组件清洗机器人,2021-05-06,2023-09-01,有效,${year}-05-06,新能源,H02S 40/10,灰尘降低发电量,光伏电站,节水,李娜`,
  ].join('\r\n');
}

describe('catalogue journeys (Chromium)', function () {
  this.timeout(90_000);
  let j: Journey;
  let tto: BrowserPage;
  let sme: BrowserPage;
  let csvPath: string;

  before(async () => {
    j = await startJourney();
    csvPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'yrd-csv-')), '专利台账.csv');
    fs.writeFileSync(csvPath, portfolioCsv());
  });
  after(async () => {
    await j?.stop();
    fs.rmSync(path.dirname(csvPath), { recursive: true, force: true });
  });

  it('1. a TTO imports a CSV: the dry run names the bad row, the commit registers the good one', async () => {
    tto = await j.open();
    await j.login(tto, TTO);
    const { page } = tto;
    await j.clickAndLoad(page, page.locator('nav').getByRole('link', { name: j.zh('nav.patents') }));
    await j.clickAndLoad(page, page.getByRole('link', { name: j.zh('patent.register.import') }));
    await j.checkPage(tto, 'tto-import-form');
    await page.locator('#file').setInputFiles(csvPath);
    await j.clickAndLoad(page, 'main form[enctype="multipart/form-data"] button[type=submit]');
    await j.checkPage(tto, 'tto-import-dry-run');
    const report = await page.locator('main').innerText();
    expect(report, 'the bad row is reported with its row number').to.match(/3/);
    expect(await Patent.countDocuments(), 'a dry run writes nothing').to.equal(0);
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('import.report.commit', { count: 1 }) }));
    await j.checkPage(tto, 'tto-import-result');
    expect(await Patent.countDocuments()).to.equal(1);
    expect((await Patent.findOne().lean())!.applicationNumber).to.equal(`${GOOD}.${checkCharacter(GOOD)}`);
  });

  it('2. the TTO declares an open licence on the imported patent and publishes it', async () => {
    const { page } = tto;
    await page.goto('/patents');
    await j.clickAndLoad(page, page.getByRole('link', { name: TITLE }));
    await j.checkPage(tto, 'tto-patent');
    await j.clickAndLoad(page, page.getByRole('link', { name: j.zh('offer.new.open') }));
    await j.checkPage(tto, 'tto-offer-form');
    await page.getByLabel(j.zh('offer.fee_form.lump_sum'), { exact: true }).check();
    await page.locator('#lumpSum').fill('3万');
    await page.locator('#termMonths').fill('36');
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('offer.save_draft') }));
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('offer.publish') }));
    await j.checkPage(tto, 'tto-offer-published');
    const offer = await Offer.findOne().lean();
    expect(offer).to.include({ status: 'published', kind: 'open' });
    expect(offer!.terms.lumpSumFen).to.equal(3_000_000);
    expect(await page.locator('.flash').innerText()).to.include(offer!.announcementNo!);
  });

  it('3. an SME finds it with a Chinese query in its own words and sees why it matched', async () => {
    sme = await j.open();
    await j.login(sme, SME);
    const { page } = sme;
    await j.clickAndLoad(page, page.locator('nav').getByRole('link', { name: j.zh('nav.catalogue') }));
    await page.locator('#q').fill('电动车冬天充电太慢');
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('catalogue.search.submit') }));
    await j.checkPage(sme, 'sme-catalogue-search');
    const result = page.locator('article.result').first();
    expect(await result.locator('h3').innerText()).to.equal(TITLE);
    const why = await result.locator('.why mark').allInnerTexts();
    expect(why.length, 'matched words are shown').to.be.greaterThan(0);
    expect(why.join(' ')).to.match(/充电|冬天|电动/);
  });

  it('4. the SME reads the terms in plain words and sends an enquiry', async () => {
    const { page } = sme;
    await j.clickAndLoad(page, page.getByRole('link', { name: TITLE }));
    await j.checkPage(sme, 'sme-listing');
    expect(await page.locator('main').innerText()).to.include(j.zh('offer.explain.lump_sum', { amount: '¥30,000.00' }));
    await page.locator('#message').fill('我们做电动三轮车电池包，想了解低温快充技术的许可和对接方式。');
    await j.clickAndLoad(page, page.getByRole('button', { name: j.zh('enquiry.send') }));
    expect(await page.locator('.flash').innerText()).to.include(j.zh('enquiry.sent'));
    expect(await Enquiry.countDocuments()).to.equal(1);
    await tto.page.goto('/enquiries');
    await j.checkPage(tto, 'tto-enquiries');
    expect(await tto.page.locator('main').innerText()).to.include('电动三轮车电池包');
  });
});
