/**
 * The contract as a PDF download: a party gets a real PDF set in the
 * machine's CJK font (the font is embedded, the Chinese text maps to CJK
 * code points, and the document info names the licence); outsiders get 404
 * as for the HTML contract; without a usable CJK font the route answers 503
 * saying, in both languages, what to install or set, the links are hidden,
 * and a font lacking any character of the contract makes no PDF at all.
 */
import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import mongoose from 'mongoose';
import request from 'supertest';
import { Licence } from '../../models/licence.js';
import { contractPdf } from '../../routes/contract-pdf-view.js';
import { contractModel } from '../../routes/licence-view.js';
import { createApp } from '../../server/app.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { findContractFont, type ContractFont } from '../../server/services/contract-font.js';
import { getContract, takeOpenLicence } from '../../server/services/licensing.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DEMO, expectShows, signedIn, t, tEn, type Agent } from './helpers.js';
import { ctxFor, publishedOffer, TERMS } from './licensing-helpers.js';

/** Collects a binary body (supertest only buffers text and JSON by itself). */
function binary(res: NodeJS.ReadableStream & { setEncoding(e: string): void }, done: (err: Error | null, body: Buffer) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

/** Every stream of the PDF, inflated where pdfkit compressed it, as latin1 text (ToUnicode maps, content). */
function streams(pdf: Buffer): string {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const start = pdf.indexOf('stream\n', at);
    if (start < 0) break;
    const end = pdf.indexOf('\nendstream', start);
    const raw = pdf.subarray(start + 7, end);
    try {
      out.push(zlib.inflateSync(raw).toString('latin1'));
    } catch {
      out.push(raw.toString('latin1'));
    }
    at = end + 10;
  }
  return out.join('\n');
}

/** A document-info string (/Title, /Subject), decoding PDF literal escapes and UTF-16BE. */
function info(pdf: Buffer, field: string): string {
  const s = pdf.toString('latin1');
  const ref = new RegExp(`/${field} (\\d+) 0 R`).exec(s);
  const literal = ref ? new RegExp(`\\n${ref[1]} 0 obj\\n\\(((?:\\\\.|[^\\\\)])*)\\)`, 's').exec(s)?.[1] : new RegExp(`/${field} \\(((?:\\\\.|[^\\\\)])*)\\)`, 's').exec(s)?.[1];
  if (literal === undefined) return '';
  const bytes = Buffer.from(literal.replace(/\\([0-7]{1,3}|.)/gs, (_m, e: string) => {
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[e] ?? e;
  }), 'latin1');
  return bytes[0] === 0xfe && bytes[1] === 0xff ? bytes.subarray(2).swap16().toString('utf16le') : bytes.toString('latin1');
}

describe('contract PDF', function () {
  let h: AppHarness;
  let sme: Agent;
  let tto: Agent;
  let regulator: Agent;
  let licenceId: string;
  let font: ContractFont;

  before(async function () {
    const found = await findContractFont(null);
    if (!found.font) {
      console.warn('    skipped: no CJK font on this machine (install fonts-noto-cjk); the PDF contract cannot be tested');
      this.skip();
    }
    font = found.font!;
    h = await startApp();
    await loadDemo();
    [sme, tto, regulator] = await Promise.all([DEMO.sme, DEMO.tto, DEMO.regulator].map((e) => signedIn(h, e)));
    const offer = await publishedOffer(await ctxFor(DEMO.tto), 'open', TERMS.openLumpSum);
    const licence = await takeOpenLicence(await ctxFor(DEMO.sme), offer.offerId, { confirm: true });
    licenceId = String(licence._id);
  });
  after(async () => {
    await h?.stop();
  });

  const getPdf = (agent: Agent) => agent.get(`/licences/${licenceId}/contract.pdf`).buffer(true).parse(binary as never);

  it('gives each party and the regulator the bilingual contract as a PDF attachment set in the CJK font', async () => {
    const l = (await Licence.findById(licenceId).lean())!;
    for (const agent of [sme, tto, regulator]) {
      const res = await getPdf(agent);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/^application\/pdf/);
      expect(res.headers['content-disposition']).to.match(new RegExp(`^attachment; filename="?${l.number}\\.pdf"?$`));
      const pdf = res.body as Buffer;
      expect(pdf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
      // The CJK face itself is embedded (as a subset), not a standard font that has no Chinese.
      expect(pdf.toString('latin1')).to.match(new RegExp(`/BaseFont /[A-Z]{6}\\+${font.postscriptName}`));
      expect(info(pdf, 'Subject')).to.include(l.number).and.include(l.snapshot!.applicationNumber);
      expect(info(pdf, 'Title')).to.include('专利实施许可合同').and.include('Patent Licence Contract').and.include(l.number);
      // Text is written as glyph ids; the ToUnicode map says which characters they are: 专利 (U+4E13 U+5229) among them.
      const maps = streams(pdf).toLowerCase();
      for (const cp of ['4e13', '5229', '8bb8', '53ef']) expect(maps, `U+${cp}`).to.include(`<${cp}>`);
    }
  });

  it('links the PDF from the licence page and the HTML contract', async () => {
    expect((await sme.get(`/licences/${licenceId}`)).text).to.include(`href="/licences/${licenceId}/contract.pdf"`);
    expect((await sme.get(`/licences/${licenceId}/contract`)).text).to.include(`href="/licences/${licenceId}/contract.pdf"`);
  });

  it('answers 404 to another SME and another TTO; the fund manager reads it (an observer, as for the HTML contract)', async () => {
    const [small, otherTto, fund] = await Promise.all(['sme.small@demo.yrd-exchange.cn', 'tto.js@demo.yrd-exchange.cn', DEMO.fund_manager].map((e) => signedIn(h, e)));
    for (const agent of [small, otherTto]) {
      const res = await agent.get(`/licences/${licenceId}/contract.pdf`);
      expect(res.status).to.equal(404);
      expect(res.headers['content-type']).to.match(/^text\/html/);
    }
    const observed = await fund.get(`/licences/${licenceId}/contract.pdf`);
    expect(observed.status).to.equal(200);
    expect(observed.headers['content-type']).to.match(/^application\/pdf/);
    expect((await h.agent().get(`/licences/${licenceId}/contract.pdf`)).status).to.not.equal(200);
  });

  it('answers 503 in both languages, naming what to set, and hides the links when the configured font has no Chinese', async () => {
    const notAFont = path.join(h.dir, 'not-a-font.ttf');
    await fs.writeFile(notAFont, 'this is not a font');
    const app = createApp({
      config: { sessionSecret: 'x'.repeat(40), publicUrl: 'http://localhost:3000', trustProxy: 0, nodeEnv: 'test', contractFont: notAFont },
      mongoClient: mongoose.connection.getClient() as never, mailer: h.mailer, logger: { error: (m, e) => console.error(m, e) },
    });
    const agent = await signedIn({ ...h, agent: () => request.agent(app) }, DEMO.sme);
    const res = await agent.get(`/licences/${licenceId}/contract.pdf`);
    expect(res.status).to.equal(503);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    expectShows(res.text, t('contract_pdf.configured_unusable'));
    expectShows(res.text, tEn('contract_pdf.configured_unusable'));
    expect(res.text).to.include('CONTRACT_FONT');
    expect((await agent.get(`/licences/${licenceId}`)).text).to.not.include('contract.pdf');
    expect((await agent.get(`/licences/${licenceId}/contract`)).text).to.not.include('contract.pdf');
    // Outsiders still learn nothing: authorisation comes before the font.
    const small = await signedIn({ ...h, agent: () => request.agent(app) }, 'sme.small@demo.yrd-exchange.cn');
    expect((await small.get(`/licences/${licenceId}/contract.pdf`)).status).to.equal(404);
  });

  it('says which package to install when the system has no CJK font', async () => {
    expect(await findContractFont(null, [])).to.deep.equal({ font: null, problem: 'not_installed' });
    expect(await findContractFont(null, [{ file: path.join(h.dir, 'missing.ttc') }])).to.deep.equal({ font: null, problem: 'not_installed' });
    expect(t('contract_pdf.not_installed')).to.include('fonts-noto-cjk').and.include('CONTRACT_FONT');
    expect(tEn('contract_pdf.not_installed')).to.include('fonts-noto-cjk').and.include('CONTRACT_FONT');
  });

  it('makes no PDF when the font lacks a character of the contract, and says which', async () => {
    const data = await getContract(await ctxFor(DEMO.sme), licenceId);
    const partial: ContractFont = { ...font, has: (c) => c !== '专' && font.has(c) };
    expect(await contractPdf(contractModel(data), partial)).to.deep.equal({ pdf: null, missing: ['专'] });
  });

  it('checks CONTRACT_FONT at start-up: a font file that exists, a face only in a collection', () => {
    expect(loadConfig({ CONTRACT_FONT: font.file + (font.face ? `#${font.face}` : '') }).contractFont).to.equal(font.file + (font.face ? `#${font.face}` : ''));
    expect(loadConfig({}).contractFont).to.equal(null);
    expect(() => loadConfig({ CONTRACT_FONT: '/nonexistent/font.ttf' })).to.throw(ConfigError, /CONTRACT_FONT names a file that does not exist/);
    expect(() => loadConfig({ CONTRACT_FONT: '/etc/hostname' })).to.throw(ConfigError, /CONTRACT_FONT must be a \.ttf, \.otf or \.ttc/);
    expect(() => loadConfig({ CONTRACT_FONT: '/fonts/a.ttf#Face' })).to.throw(ConfigError, /only in a \.ttc/);
  });
});
