/**
 * Deterministic synthetic patents for demos, load tests and the matching
 * evaluation: patent-style Chinese titles and abstracts (English for a share
 * of them), a plain-language summary, IPC, fields, inventors, dates and the
 * legal facts that decide licensing eligibility (fees, pledges, exclusive
 * licences). Each patent is returned with its topic, a hidden label that is
 * not a model field: only the evaluation may read it.
 */
import type { Region } from '../../models/organization.js';
import type { LegalStatus, OfferKind, PatentType } from '../../models/patent.js';
import { checkCharacter } from '../domain/patent-number.js';
import { computeExpiry } from '../domain/patent-term.js';
import type { TechField } from '../domain/tech-fields.js';
import { REGION_WEIGHTS } from './mix.js';
import { Rng } from './rng.js';
import { TOPICS, en, zh, type Topic } from './topics/index.js';

export { generateNeeds, type GeneratedNeed, type LabelledNeed } from './need-generator.js';
export { REGION_WEIGHTS, SIZE_CLASS_WEIGHTS } from './mix.js';
export { TOPICS, TOPIC_KEYS, type Topic } from './topics/index.js';

/** The patent fields the generator fills, shaped like the Patent model (holder and ids are the caller's). */
export interface GeneratedPatent {
  applicationNumber: string;
  type: PatentType;
  region: Region;
  titleZh: string;
  titleEn: string;
  abstractZh: string;
  abstractEn: string;
  summary: { problem: string; application: string; advantage: string };
  ipc: string[];
  fields: TechField[];
  inventors: string[];
  filingDate: Date;
  grantDate: Date | null;
  expiryDate: Date;
  legalStatus: LegalStatus;
  annualFeePaidThrough: Date | null;
  pledged: boolean;
  pledgeeConsent: boolean;
  exclusiveLicence: 'none' | 'exclusive' | 'sole';
  trl: number | null;
  listing: { listed: boolean; kinds: OfferKind[]; minEntryFeeFen: number | null };
}

export interface LabelledPatent {
  patent: GeneratedPatent;
  /** Hidden label: the topic the patent was written from. */
  topic: string;
}

export interface PatentGeneratorOptions {
  /** "Today" for legal status and fee dates; fixed by default so output never depends on the clock. */
  asOf?: Date;
}

const DAY = 86_400_000;
const TYPE_DIGIT: Record<PatentType, string> = { invention: '1', utility_model: '2', design: '3' };
const FILING_FROM = Date.UTC(2012, 0, 1);
const FILING_TO = Date.UTC(2025, 11, 31);

/** `n` patents spread evenly over the topics, reproducible from `seed`. */
export function generatePatents(n: number, seed = 1, options: PatentGeneratorOptions = {}): LabelledPatent[] {
  const rng = new Rng(seed);
  const asOf = options.asOf ?? new Date(Date.UTC(2026, 0, 1));
  const out: LabelledPatent[] = [];
  for (let i = 0; i < n; i++) {
    const topic = TOPICS[i % TOPICS.length]!;
    out.push({ patent: writePatent(topic, rng, i, seed, asOf), topic: topic.key });
  }
  return out;
}

function writePatent(topic: Topic, rng: Rng, i: number, seed: number, asOf: Date): GeneratedPatent {
  const r = rng.next();
  const type: PatentType = r < 0.84 ? 'invention' : r < 0.98 ? 'utility_model' : 'design';
  const text = writeText(topic, rng, type);
  const filing = FILING_FROM + Math.floor(rng.next() * (FILING_TO - FILING_FROM) / DAY) * DAY;
  const filingDate = new Date(filing);
  const legal = legalFacts(type, filingDate, rng, asOf);
  return {
    applicationNumber: applicationNumber(filingDate.getUTCFullYear(), type, i, seed),
    type,
    region: rng.weighted(REGION_WEIGHTS),
    ...text,
    ipc: rng.sample(topic.ipc, rng.int(1, 3)),
    fields: rng.chance(0.6) ? [...topic.fields] : [topic.fields[0]!],
    inventors: Array.from({ length: rng.int(2, 6) }, () => personName(rng)),
    filingDate,
    ...legal,
    trl: rng.chance(0.1) ? null : rng.pick([2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8]),
    listing: listing(legal, rng),
  };
}

type Text = Pick<GeneratedPatent, 'titleZh' | 'titleEn' | 'abstractZh' | 'abstractEn' | 'summary'>;

function writeText(topic: Topic, rng: Rng, type: PatentType): Text {
  const [m1, m2] = rng.sample(topic.methods, 2) as [string, string | undefined];
  const [a1, a2] = rng.sample(topic.applications, 2) as [string, string | undefined];
  const subject = rng.pick(topic.subjects);
  const problem = rng.pick(topic.problems);
  const advantage = rng.pick(topic.advantages);
  const [titleZh, titleEn] = title(topic, rng, type, subject, m1, a1);
  if (type === 'design') {
    // A design protects a product's appearance: its "abstract" is a brief description, not a technical solution.
    return {
      titleZh, titleEn: '', abstractZh: `本外观设计产品为${zh(subject)}，用于${zh(a1)}，设计要点在于产品的形状。`, abstractEn: '',
      summary: { problem: '', application: `适用于${zh(a1)}`, advantage: '' },
    };
  }
  const zhParts = [`本${type === 'invention' ? '发明' : '实用新型'}公开了${titleZh}，属于${zh(topic.domain)}技术领域。`];
  const enParts = [`Disclosed is a ${titleEn.charAt(0).toLowerCase()}${titleEn.slice(1)}, in the field of ${en(topic.domain)}.`];
  if (m2 && rng.chance(0.8)) {
    zhParts.push(`采用${zh(m1)}，并结合${zh(m2)}。`);
    enParts.push(`It uses ${en(m1)} combined with ${en(m2)}.`);
  }
  zhParts.push(`解决了现有${zh(subject)}${zh(problem)}的问题。`);
  enParts.push(`It solves ${en(problem)} in existing ${en(subject)}.`);
  if (rng.chance(0.7)) {
    zhParts.push(`${zh(advantage)}，可用于${zh(a1)}${a2 ? `和${zh(a2)}` : ''}等领域。`);
    enParts.push(`${capitalise(en(advantage))}; it can be used in ${en(a1)}${a2 ? ` and ${en(a2)}` : ''}.`);
  }
  const bilingual = rng.chance(0.35);
  return {
    titleZh,
    titleEn: bilingual ? titleEn : '',
    abstractZh: zhParts.join(''),
    abstractEn: bilingual ? enParts.join(' ') : '',
    // Many TTOs leave the plain-language summary empty; matching must cope with patent language alone.
    summary: rng.chance(0.25) ? { problem: '', application: '', advantage: '' } : {
      problem: rng.pick(topic.plain),
      application: `适用于${zh(a1)}${a2 ? `、${zh(a2)}` : ''}`,
      advantage: zh(rng.pick(topic.advantages)),
    },
  };
}

/** Patent-style titles: 一种基于…的…制备方法 for inventions, a structure for utility models, a product for designs. */
function title(topic: Topic, rng: Rng, type: PatentType, subject: string, method: string, app: string): [string, string] {
  if (type === 'design') return [`${zh(subject)}（外观）`, `${capitalise(en(subject))} (design)`];
  if (type === 'utility_model') {
    return rng.chance(0.5)
      ? [`一种${zh(subject)}`, capitalise(en(subject))]
      : [`一种用于${zh(app)}的${zh(subject)}`, `${capitalise(en(subject))} for ${en(app)}`];
  }
  const form = rng.pick(topic.forms);
  switch (rng.int(0, 2)) {
    case 0:
      return [`一种基于${zh(method)}的${zh(subject)}${zh(form)}`, `${capitalise(en(subject))} ${en(form)} using ${en(method)}`];
    case 1:
      return [`一种用于${zh(app)}的${zh(subject)}${zh(form)}`, `${capitalise(en(subject))} ${en(form)} for ${en(app)}`];
    default:
      return [`一种${zh(subject)}${zh(form)}`, `${capitalise(en(subject))} ${en(form)}`];
  }
}

type Legal = Pick<
  GeneratedPatent,
  'grantDate' | 'expiryDate' | 'legalStatus' | 'annualFeePaidThrough' | 'pledged' | 'pledgeeConsent' | 'exclusiveLicence'
>;

/** Grant lag, term, and the few problem cases (lapsed, pledged, exclusively licensed) eligibility checks must catch. */
function legalFacts(type: PatentType, filing: Date, rng: Rng, asOf: Date): Legal {
  const lagDays = type === 'invention' ? rng.int(540, 1460) : rng.int(150, 360);
  const grant = new Date(filing.getTime() + lagDays * DAY);
  const expiryDate = computeExpiry(filing, type);
  const granted = grant.getTime() <= asOf.getTime();
  let legalStatus: LegalStatus = granted ? 'granted' : 'pending';
  if (expiryDate.getTime() <= asOf.getTime()) legalStatus = 'expired';
  else if (granted && rng.chance(0.04)) legalStatus = 'lapsed';
  else if (granted && rng.chance(0.01)) legalStatus = 'invalidated';
  // Annual fees fall due on the filing anniversary; most holders have paid the next one.
  const nextAnniversary = addYears(filing, asOf.getUTCFullYear() + 1 - filing.getUTCFullYear());
  let annualFeePaidThrough: Date | null = null;
  if (legalStatus === 'granted') annualFeePaidThrough = rng.chance(0.9) ? nextAnniversary : addYears(nextAnniversary, -1);
  else if (legalStatus === 'lapsed') annualFeePaidThrough = addYears(nextAnniversary, -rng.int(2, 3));
  const pledged = legalStatus === 'granted' && rng.chance(0.03);
  const x = rng.next();
  return {
    grantDate: granted ? grant : null,
    expiryDate,
    legalStatus,
    annualFeePaidThrough,
    pledged,
    pledgeeConsent: pledged && rng.chance(0.5),
    exclusiveLicence: legalStatus !== 'granted' ? 'none' : x < 0.03 ? 'exclusive' : x < 0.04 ? 'sole' : 'none',
  };
}

/** Published offers: open and pay-later only where a declaration would be allowed, else negotiated or unlisted. */
function listing(legal: Legal, rng: Rng): GeneratedPatent['listing'] {
  const inForce = legal.legalStatus === 'granted' || legal.legalStatus === 'pending';
  if (!inForce || rng.chance(0.1)) return { listed: false, kinds: [], minEntryFeeFen: null };
  const declarable =
    legal.legalStatus === 'granted' && legal.exclusiveLicence === 'none' && (!legal.pledged || legal.pledgeeConsent);
  const kinds: OfferKind[] = !declarable
    ? ['negotiated']
    : rng.weighted({ open: 35, deferred: 28, both: 17, negotiated: 20 }) === 'both'
      ? ['open', 'deferred']
      : [rng.weighted({ open: 35, deferred: 28, negotiated: 20 })];
  const fees: number[] = [];
  if (kinds.includes('deferred')) fees.push(rng.chance(0.7) ? 0 : rng.pick([5_000, 10_000, 20_000]) * 100);
  if (kinds.includes('open')) fees.push(rng.pick([10_000, 30_000, 50_000, 100_000, 200_000, 500_000]) * 100);
  return { listed: true, kinds, minEntryFeeFen: fees.length > 0 ? Math.min(...fees) : null };
}

/** `YYYY T NNNNNNN.C` with the check character of server/domain/patent-number.ts. */
export function applicationNumber(year: number, type: PatentType, i: number, seed: number): string {
  // i ↦ i·7919 mod 9e6 is one-to-one (7919 is prime, not a factor of 9e6): numbers never repeat within a run.
  const serial = String(1_000_000 + ((i * 7919 + (seed >>> 0)) % 9_000_000));
  const digits = `${year}${TYPE_DIGIT[type]}${serial}`;
  return `${digits}.${checkCharacter(digits)}`;
}

const SURNAMES = Array.from('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢钟姜崔谭陆汪范金石廖贾夏韦付方邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武戴莫孔');
const GIVEN = Array.from('伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志宏晨宇浩然子轩欣怡雨涵思远佳琪梓萱文博俊杰天翔嘉懿晓东海峰立新春雷振华');

function personName(rng: Rng): string {
  const given = rng.chance(0.7) ? rng.pick(GIVEN) + rng.pick(GIVEN) : rng.pick(GIVEN);
  return rng.pick(SURNAMES) + given;
}

function addYears(d: Date, years: number): Date {
  const x = new Date(d.getTime());
  x.setUTCFullYear(x.getUTCFullYear() + years);
  return x;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
