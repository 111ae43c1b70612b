/**
 * Turns the index terms two texts share back into words a person reads.
 * The index matches on character bigrams, so "锂电" + "电池" is what matched;
 * the SME should see "锂电池". Consecutive matched bigrams of the query are
 * joined into a span and cut back to ICU word boundaries in the query and,
 * where possible, in the document too (so "电池不耐用" never shows as
 * "池不耐用", and "焊接机器人焊" from "焊不准" vs "焊缝" shows as
 * "焊接机器人"). Latin words are shown as written ("batteries", not "battery").
 */
import { analyze, normalize, segmentHan, type Analysis, type HanRun } from './tokenize.js';

/**
 * Phrases whose terms weigh less than this (summed IDF) are boilerplate both
 * sides carry — 技术, 解决, 方法 — and explain nothing.
 */
export const MIN_PHRASE_WEIGHT = 1;

/**
 * Up to `max` shared phrases, most informative first (summed IDF, so "碳化硅"
 * outranks "方法"). Pass the query's analysis when explaining many results.
 */
export function sharedPhrases(
  query: string | Analysis,
  docText: string,
  matched: ReadonlySet<string>,
  idf: (term: string) => number,
  max = 8,
): string[] {
  if (matched.size === 0) return [];
  const doc = normalize(docText);
  const found = new Map<string, number>();
  const analysis = typeof query === 'string' ? analyze(query) : query;
  for (const run of analysis.runs) {
    for (const text of matchedSpans(run, matched)) {
      const phrase = alignToWords(run, text.start, text.end, doc);
      if (phrase) found.set(phrase, bigramWeight(phrase, idf));
    }
  }
  for (const w of analysis.words) if (matched.has(w.term)) found.set(w.surface, Math.max(found.get(w.surface) ?? 0, idf(w.term)));
  const phrases = [...found].filter(([, weight]) => weight >= MIN_PHRASE_WEIGHT);
  phrases.sort(([a, wa], [b, wb]) => wb - wa || b.length - a.length || (a < b ? -1 : 1));
  const out: string[] = [];
  for (const [text] of phrases) {
    // "电池" adds nothing next to "锂电池".
    if (out.some((kept) => kept.includes(text))) continue;
    out.push(text);
    if (out.length === max) break;
  }
  return out;
}

/** Maximal stretches [start, end) (in characters) of the run covered by consecutive matched bigrams. */
function matchedSpans(run: HanRun, matched: ReadonlySet<string>): { start: number; end: number }[] {
  const chars = Array.from(run.text);
  if (chars.length === 1) return matched.has(run.text) ? [{ start: 0, end: 1 }] : [];
  const spans: { start: number; end: number }[] = [];
  let i = 0;
  while (i + 1 < chars.length) {
    if (!matched.has(chars[i]! + chars[i + 1]!)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 2 < chars.length && matched.has(chars[j + 1]! + chars[j + 2]!)) j++;
    spans.push({ start: i, end: j + 2 });
    i = j + 1;
  }
  return spans;
}

/**
 * The part of [start, end) made of whole ICU words of the query, contained
 * in the document. A single-character word at an edge is dropped while the
 * phrase does not also sit on word boundaries in the document: "锂电池" stays
 * (锂|电池 in both), "焊接机器人焊" loses its last 焊 (the document has 焊缝).
 * null when nothing of two characters or more is left.
 */
function alignToWords(run: HanRun, start: number, end: number, doc: string): string | null {
  const inside: string[] = [];
  let pos = 0;
  for (const w of run.words) {
    const len = Array.from(w).length;
    if (pos >= start && pos + len <= end) inside.push(w);
    pos += len;
  }
  if (inside.length === 0) return run.text.length === 1 && start === 0 && doc.includes(run.text) ? run.text : null;
  for (;;) {
    const phrase = inside.join('');
    const fits = doc.includes(phrase);
    if (fits && alignedInDoc(phrase, doc)) return phrase;
    const canTrim = inside.length > 1 && inside.some((w) => w.length > 1);
    if (canTrim && inside[inside.length - 1]!.length === 1) inside.pop();
    else if (canTrim && inside[0]!.length === 1) inside.shift();
    else return fits && (Array.from(phrase).length >= 2 || run.text === phrase) ? phrase : null;
  }
}

const HAN_CHAR = /\p{Script=Han}/u;

/** Whether some occurrence (of the first three) starts and ends on ICU word boundaries of the document. */
function alignedInDoc(phrase: string, doc: string): boolean {
  let at = doc.indexOf(phrase);
  for (let tries = 0; at >= 0 && tries < 3; tries++, at = doc.indexOf(phrase, at + 1)) {
    let a = at;
    while (a > 0 && HAN_CHAR.test(doc[a - 1]!)) a--;
    let b = at + phrase.length;
    while (b < doc.length && HAN_CHAR.test(doc[b]!)) b++;
    const bounds = new Set<number>([0]);
    let offset = 0;
    for (const w of segmentHan(doc.slice(a, b))) bounds.add((offset += w.length));
    if (bounds.has(at - a) && bounds.has(at - a + phrase.length)) return true;
  }
  return false;
}

function bigramWeight(text: string, idf: (term: string) => number): number {
  const chars = Array.from(text);
  if (chars.length === 1) return idf(text);
  let w = 0;
  for (let i = 0; i + 1 < chars.length; i++) w += idf(chars[i]! + chars[i + 1]!);
  return w;
}
