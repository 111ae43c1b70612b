/**
 * Synthetic technical needs written the way an SME owner writes them — who
 * we are, what keeps going wrong, what we hope for — not in patent language.
 * Each need carries a hidden label (the topics it is about) that only the
 * matching evaluation reads.
 */
import type { SizeClass } from '../domain/sme-size.js';
import type { TechField } from '../domain/tech-fields.js';
import type { Region } from '../../models/organization.js';
import { Rng } from './rng.js';
import { TOPICS, type Topic } from './topics/index.js';
import { REGION_WEIGHTS, SIZE_CLASS_WEIGHTS } from './mix.js';

export interface GeneratedNeed {
  title: string;
  problem: string;
  fields: TechField[];
  region: Region;
  budgetFen: number | null;
  sizeClass: SizeClass;
}

export interface LabelledNeed {
  need: GeneratedNeed;
  /** Hidden label: the topics whose patents answer this need. */
  topics: string[];
}

const OPENERS: readonly ((sme: string) => string)[] = [
  (sme) => `我们是${sme}的小厂，`,
  (sme) => `公司主要${sme}，`,
  (sme) => `本公司${sme}，二十来个人，`,
  (sme) => `我们${sme}好几年了，`,
  () => '',
];

const CLOSERS = [
  '有没有高校有成熟的技术？',
  '预算不多，最好能先用后付费。',
  '希望能和学校老师合作。',
  '求推荐靠谱的专利。',
  '比较急，价格可以谈。',
  '',
];

const TITLE_SUFFIXES = ['', '', '，求技术', '，求解决方案', '问题'];

/** Budgets SMEs state, in yuan; null means "not stated". */
const BUDGETS_YUAN = [null, null, 30_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];

/** `n` needs, spread over the topics, reproducible from `seed`. */
export function generateNeeds(n: number, seed = 1): LabelledNeed[] {
  const rng = new Rng(seed ^ 0x5eed);
  const out: LabelledNeed[] = [];
  for (let i = 0; i < n; i++) {
    // Walk the topics in turn so a small evaluation set still covers all of them.
    const topic = TOPICS[(i + rng.int(0, 2)) % TOPICS.length]!;
    out.push({ need: writeNeed(topic, rng), topics: [topic.key] });
  }
  return out;
}

function writeNeed(topic: Topic, rng: Rng): GeneratedNeed {
  const ask = rng.pick(topic.asks);
  const bar = ask.indexOf('|');
  const title = ask.slice(0, bar) + rng.pick(TITLE_SUFFIXES);
  const problem = rng.pick(OPENERS)(rng.pick(topic.smes)) + ask.slice(bar + 1) + '。' + rng.pick(CLOSERS);
  const r = rng.next();
  // SMEs often skip the field picker or tick only the obvious one.
  const fields: TechField[] = r < 0.35 ? [] : r < 0.8 ? [topic.fields[0]!] : [...topic.fields];
  const budget = rng.pick(BUDGETS_YUAN);
  return {
    title,
    problem,
    fields,
    region: rng.weighted(REGION_WEIGHTS),
    budgetFen: budget === null ? null : budget * 100,
    sizeClass: rng.weighted(SIZE_CLASS_WEIGHTS),
  };
}
