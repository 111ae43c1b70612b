/**
 * Matching-quality evaluation: how often the patents an SME needs appear in
 * its top ten. Builds a catalogue of generated patents, runs generated needs
 * (labelled by the generator) and hand-written needs (test/eval/hand-needs.ts),
 * and reports recall@10 and nDCG@10 for the full score and for text alone,
 * plus the reverse direction (needs for a patent).
 *
 * Relevance: a patent is relevant to a need when the patent's hidden topic is
 * one of the need's topics. recall@10 = relevant in the top 10 / min(10, all
 * relevant); nDCG@10 with binary gains. Labels are read here only; the ranking
 * sees texts, fields, IPC, region and listing.
 *
 * Run: npm run eval:matching   (writes test-output/eval-matching.json)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SizeClass } from '../../server/domain/sme-size.js';
import type { Region } from '../../models/organization.js';
import {
  NeedBoard, PatentCatalogue, rankNeedsForPatent, rankPatentsForNeed, type Match, type NeedForMatching, type RankOptions,
} from '../../server/search/matching.js';
import { generateNeeds, generatePatents } from '../../server/seed/patent-generator.js';
import { HAND_NEEDS } from './hand-needs.js';

const PATENTS = 5_000;
const GENERATED_NEEDS = 60;
const K = 10;
const TEXT_ONLY: RankOptions['weights'] = { fields: 0, ipc: 0, region: 0, kind: 0, budget: 0 };

interface EvalNeed extends Omit<NeedForMatching, 'id'> {
  source: 'generated' | 'hand';
  topics: string[];
}

interface Scores {
  recall: number;
  ndcg: number;
}

/** recall@K and nDCG@K of one ranked list against a relevance predicate. */
export function scoreRanking(ranked: readonly string[], isRelevant: (id: string) => boolean, totalRelevant: number): Scores {
  if (totalRelevant === 0) return { recall: 0, ndcg: 0 };
  const top = ranked.slice(0, K);
  let hits = 0;
  let dcg = 0;
  top.forEach((id, i) => {
    if (!isRelevant(id)) return;
    hits++;
    dcg += 1 / Math.log2(i + 2);
  });
  const ideal = Math.min(K, totalRelevant);
  let idcg = 0;
  for (let i = 0; i < ideal; i++) idcg += 1 / Math.log2(i + 2);
  return { recall: hits / ideal, ndcg: dcg / idcg };
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const round = (x: number): number => Math.round(x * 1000) / 1000;

function main(): void {
  const t0 = performance.now();
  const patents = generatePatents(PATENTS, 42);
  const topicOf = new Map<string, string>();
  const catalogue = new PatentCatalogue();
  patents.forEach(({ patent, topic }, i) => {
    const id = `P${i}`;
    topicOf.set(id, topic);
    catalogue.upsert({ id, ...patent });
  });
  const buildMs = performance.now() - t0;
  const perTopic = new Map<string, number>();
  for (const t of topicOf.values()) perTopic.set(t, (perTopic.get(t) ?? 0) + 1);

  const needs: EvalNeed[] = [
    ...generateNeeds(GENERATED_NEEDS, 2026).map(({ need, topics }) => ({ source: 'generated' as const, ...need, topics })),
    ...HAND_NEEDS.map((h) => ({ source: 'hand' as const, ...h, region: 'SH' as Region, budgetFen: null, sizeClass: 'small' as SizeClass })),
  ];

  const rows: Record<string, Record<'full' | 'textOnly', Scores & { n: number }>> = {};
  const perNeed: unknown[] = [];
  const queryMs: number[] = [];
  for (const source of ['generated', 'hand', 'all'] as const) rows[source] = {} as (typeof rows)[string];
  for (const config of ['full', 'textOnly'] as const) {
    const bySource: Record<string, Scores[]> = { generated: [], hand: [], all: [] };
    for (const need of needs) {
      const q0 = performance.now();
      const ranked: Match[] = rankPatentsForNeed(need, catalogue, { limit: K, weights: config === 'full' ? undefined : TEXT_ONLY });
      queryMs.push(performance.now() - q0);
      const relevant = (id: string): boolean => need.topics.includes(topicOf.get(id)!);
      const total = need.topics.reduce((s, t) => s + (perTopic.get(t) ?? 0), 0);
      const s = scoreRanking(ranked.map((m) => m.id), relevant, total);
      bySource[need.source]!.push(s);
      bySource.all!.push(s);
      if (config === 'full') {
        perNeed.push({
          source: need.source, title: need.title, topics: need.topics, recall: round(s.recall), ndcg: round(s.ndcg),
          top3: ranked.slice(0, 3).map((m) => ({ topic: topicOf.get(m.id), sharedTerms: m.explanation.sharedTerms })),
        });
      }
    }
    for (const [source, list] of Object.entries(bySource)) {
      rows[source]![config] = { n: list.length, recall: round(mean(list.map((x) => x.recall))), ndcg: round(mean(list.map((x) => x.ndcg))) };
    }
  }

  // Reverse direction: for a sample of patents, which needs on a board of generated needs come first.
  const board = new NeedBoard();
  const boardNeeds = generateNeeds(430, 7);
  const needTopics = new Map<string, string[]>();
  boardNeeds.forEach(({ need, topics }, i) => {
    needTopics.set(`N${i}`, topics);
    board.upsert({ id: `N${i}`, ...need });
  });
  const reverse: Scores[] = [];
  for (let i = 0; i < 200; i++) {
    const { patent, topic } = patents[i * 25]!;
    const ranked = rankNeedsForPatent(patent, board, { limit: K });
    const total = [...needTopics.values()].filter((ts) => ts.includes(topic)).length;
    reverse.push(scoreRanking(ranked.map((m) => m.id), (id) => needTopics.get(id)!.includes(topic), total));
  }
  const reverseRow = { n: reverse.length, recall: round(mean(reverse.map((x) => x.recall))), ndcg: round(mean(reverse.map((x) => x.ndcg))) };

  const sorted = [...queryMs].sort((a, b) => a - b);
  const timing = {
    patents: PATENTS, buildMs: Math.round(buildMs),
    queryMsMedian: round(sorted[Math.floor(sorted.length / 2)]!), queryMsP95: round(sorted[Math.floor(sorted.length * 0.95)]!),
  };

  console.log(`Matching evaluation: ${PATENTS} generated patents, ${needs.length} needs (K = ${K})\n`);
  console.log('set        n    recall@10  nDCG@10   | text only: recall@10  nDCG@10');
  for (const [source, r] of Object.entries(rows)) {
    console.log(
      `${source.padEnd(9)} ${String(r.full.n).padStart(3)}    ${r.full.recall.toFixed(3)}     ${r.full.ndcg.toFixed(3)}    |            ${r.textOnly.recall.toFixed(3)}     ${r.textOnly.ndcg.toFixed(3)}`,
    );
  }
  console.log(`\nneeds for a patent (${reverseRow.n} patents, board of ${boardNeeds.length} needs): recall@10 ${reverseRow.recall.toFixed(3)}, nDCG@10 ${reverseRow.ndcg.toFixed(3)}`);
  console.log(`index build ${timing.buildMs} ms; query median ${timing.queryMsMedian} ms, p95 ${timing.queryMsP95} ms`);
  const misses = (perNeed as { recall: number; title: string; topics: string[]; top3: { topic?: string }[] }[]).filter((x) => x.recall < 0.5);
  if (misses.length > 0) {
    console.log('\nneeds with recall@10 < 0.5:');
    for (const m of misses) console.log(`  ${m.recall.toFixed(1)}  ${m.title}  [${m.topics.join(',')}] → ${m.top3.map((t) => t.topic).join(', ')}`);
  }

  const out = path.resolve('test-output/eval-matching.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ k: K, rows, reverse: reverseRow, timing, perNeed }, null, 2));
  console.log(`\nwritten ${path.relative(process.cwd(), out)}`);
}

main();
