/**
 * Shared steps for the catalogue suites: a valid patent form (application
 * numbers with computed check characters, distinct per `n`), creating a
 * patent and an offer over HTTP as a TTO, and publishing it.
 */
import { expect } from 'chai';
import { Offer } from '../../models/offer.js';
import { Patent } from '../../models/patent.js';
import { checkCharacter } from '../../server/domain/patent-number.js';
import { csrfOf, type Agent } from './helpers.js';

/** A granted invention patent filed in 2021 with a valid number; `n` makes the number unique. */
export function patentForm(n: number, overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  const digits = `20211${String(n).padStart(7, '0')}`;
  return {
    applicationNumber: `${digits}.${checkCharacter(digits)}`,
    titleZh: '一种锂离子电池低温快充方法',
    titleEn: 'Low-temperature fast charging of lithium-ion batteries',
    abstractZh: '本发明公开了一种锂离子电池低温快充方法，通过脉冲预热和分段恒流充电，使电池在零下二十度仍可快速充电。',
    problem: '电动车冬天充电慢、续航短',
    application: '电动汽车、储能电站的电池管理系统',
    advantage: '零下20度充电时间缩短一半，不损伤电池寿命',
    ipc: 'H01M 10/44, H02J 7/00',
    fields: ['new_energy', 'intelligent_vehicles'],
    inventors: '王磊, 陈静',
    filingDate: '2021-03-15',
    grantDate: '2023-06-20',
    legalStatus: 'granted',
    annualFeePaidThrough: `${new Date().getUTCFullYear() + 1}-03-15`,
    exclusiveLicence: 'none',
    trl: '6',
    assetRef: `HD-2021-${n}`,
    ...overrides,
  };
}

/** Creates a patent through the register's form; returns its id. */
export async function createPatentVia(agent: Agent, form: Record<string, string | string[]>): Promise<string> {
  const _csrf = await csrfOf(agent, '/patents/new');
  const res = await agent.post('/patents').type('form').send({ _csrf, ...form });
  expect(res.status, [...res.text.matchAll(/class="field-error"[^>]*>([^<]*)</g)].map((m) => m[1]).join(' | ')).to.equal(303);
  const id = /\/patents\/([0-9a-f]{24})/.exec(String(res.headers.location))?.[1];
  const patent = id ? await Patent.findById(id).lean() : null;
  expect(patent, 'patent stored').to.not.equal(null);
  return String(patent!._id);
}

/** Drafts an offer; returns its id. */
export async function draftOfferVia(agent: Agent, patentId: string, kind: string, terms: Record<string, string>): Promise<string> {
  const _csrf = await csrfOf(agent, `/patents/${patentId}/offers/new?kind=${kind}`);
  const res = await agent.post(`/patents/${patentId}/offers`).type('form').send({ _csrf, kind, ...terms });
  expect(res.status, res.text.slice(0, 1500)).to.equal(303);
  const offer = await Offer.findOne({ patent: patentId }).sort({ createdAt: -1 }).lean();
  return String(offer!._id);
}

export async function publishVia(agent: Agent, offerId: string, patentId: string, confirm = false) {
  const _csrf = await csrfOf(agent, `/patents/${patentId}`);
  return agent.post(`/offers/${offerId}/publish`).type('form').send({ _csrf, ...(confirm ? { confirmWarnings: '1' } : {}) });
}

export const OPEN_TERMS = { feeForm: 'lump_sum', lumpSum: '50000', termMonths: '36' };
export const DEFERRED_TERMS = { feeForm: 'royalty', royaltyPercent: '3', termMonths: '60', freeMonths: '12', trigger: 'either' };
