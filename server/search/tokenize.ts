/**
 * Tokeniser shared by the index and the queries, so a patent and an SME's
 * need written in mixed Chinese, English and numbers meet on the same terms.
 *
 * Chinese has no spaces and no dictionary ships with Node, so two signals are
 * combined: ICU's word segmenter (built into `Intl.Segmenter`) finds function
 * words and longer compounds, and character bigrams over each run of Han
 * characters give recall where ICU segments differently in the patent and in
 * the need (制|备 vs 制备, 鼓|包). A stopword only splits a run when ICU emits
 * it as a word of its own, so 在线 or 目的 are never cut apart.
 *
 * The input is capped in length and in tokens: anything a user types — a 10k
 * character paste, `.*`, `{"$gt":""}` — is only ever text here.
 */

/** Longer input is cut: a need or abstract never needs more to be matched. */
export const MAX_INPUT_CHARS = 20_000;
/** Bounds memory and query time for pasted documents. */
export const MAX_TOKENS = 6_000;

const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });

const HAN_RUN = /\p{Script=Han}+/gu;
/** Letters and digits; a dot only between digits (pm2.5, 3.5), so 'mm.' ends at 'mm'. */
const LATIN_TOKEN = /[a-z0-9]+(?:\.[0-9]+)*/g;

/**
 * Chinese words dropped when ICU emits them on their own: function words,
 * the chatter of a written request (我们, 想找), and patent boilerplate that
 * every abstract carries (一种, 及其, 所述, 其中, 本发明…公开). 方法 and 装置
 * stay: they say something about the kind of patent, and IDF keeps them weak.
 */
export const ZH_STOPWORDS: ReadonlySet<string> = new Set([
  '的', '了', '地', '得', '着', '过', '和', '与', '及', '或', '并', '且', '而', '被', '把', '将', '对', '为', '以', '于',
  '从', '向', '由', '其', '该', '此', '这', '那', '之', '等', '是', '也', '都', '就', '还', '又', '很', '太', '再',
  '能', '会', '要', '想', '找', '让', '给', '用', '个', '些', '啊', '吗', '呢', '吧', '呀', '嘛', '哪', '谁',
  '我', '你', '他', '她', '它', '我们', '你们', '他们', '它们', '我司', '本', '贵', '一种', '一个', '一些', '及其',
  '所述', '其中', '以及', '其他', '以下', '如下', '包括', '包含', '具有', '公开', '发明', '实用新型', '涉及',
  '属于', '通过', '用于', '进行', '采用', '根据', '所', '一直', '老是', '总是', '经常', '有没有', '没有', '什么',
  '怎么', '怎样', '如何', '可以', '能够', '希望', '需要', '想要', '寻找', '请问', '目前', '现在', '现有', '一下',
  '非常', '比较', '特别', '有点', '还是', '但是', '因为', '所以', '如果', '然后', '已经', '而且', '并且', '同时',
]);

/** English function words and patent boilerplate ("wherein", "thereof"). */
export const EN_STOPWORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'the', 'of', 'and', 'or', 'for', 'with', 'in', 'on', 'at', 'to', 'by', 'from', 'as', 'is', 'are', 'was',
  'were', 'be', 'been', 'being', 'it', 'its', 'this', 'that', 'these', 'those', 'which', 'who', 'what', 'how', 'we',
  'our', 'you', 'your', 'they', 'their', 'he', 'she', 'has', 'have', 'had', 'do', 'does', 'did', 'not', 'no', 'but',
  'if', 'then', 'than', 'so', 'such', 'can', 'could', 'will', 'would', 'should', 'may', 'might', 'into', 'onto',
  'via', 'per', 'about', 'over', 'under', 'between', 'within', 'without', 'also', 'very', 'more', 'most', 'any',
  'all', 'each', 'both', 'some', 'other', 'there', 'here', 'when', 'where', 'while', 'thereof', 'wherein', 'whereby',
  'said', 'present', 'invention', 'disclosed', 'discloses', 'disclose', 'comprising', 'comprises', 'comprise',
  'including', 'includes', 'provided', 'provides', 'utility', 'model', 'relates',
]);

/**
 * Light English stemming: enough that "batteries"/"battery" and
 * "coating"/"coated"/"coat" meet, without Porter's aggressive merges.
 * Stems are internal; explanations show the words as written.
 */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) w = w.slice(0, -3) + 'y';
  else if (w.length > 4 && /(?:ss|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) w = undouble(w.slice(0, -3));
  else if (w.length > 4 && w.endsWith('ed')) w = undouble(w.slice(0, -2));
  // charge/charged/charging all end as "charg".
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  return /([b-df-hj-np-tv-z])\1$/.test(w) && !/(?:ll|ss|zz)$/.test(w) ? w.slice(0, -1) : w;
}

/** A token as written (lowercased, normalised) and the term it indexes under. */
export interface SurfaceWord {
  term: string;
  surface: string;
}

export interface HanRun {
  text: string;
  /** ICU's words, concatenating to `text`: explanations cut shared spans at these boundaries. */
  words: string[];
}

export interface Analysis {
  /** Every indexed term in text order (with repeats, for term frequency). */
  terms: string[];
  /** Han runs after stopword splitting (the bigrams of each run are in `terms`), with ICU's words. */
  runs: HanRun[];
  /** Latin words, numbers and model codes, plus ICU's Han compounds of 3+ characters. */
  words: SurfaceWord[];
}

/** Full-width to half-width (ＰＭ２．５ → PM2.5), compatibility forms folded, lowercase. */
export function normalize(text: string): string {
  return text.slice(0, MAX_INPUT_CHARS).normalize('NFKC').toLowerCase();
}

/** Tokenise with the surface forms kept, for explanations ("why this matched"). */
export function analyze(text: string): Analysis {
  const out: Analysis = { terms: [], runs: [], words: [] };
  if (typeof text !== 'string' || text.length === 0) return out;
  const norm = normalize(text);
  let last = 0;
  // Only Han stretches go through ICU (the slow part); Latin words and numbers need no dictionary.
  for (const m of norm.matchAll(HAN_RUN)) {
    if (m.index > last) emitLatin(norm.slice(last, m.index), out);
    emitHan(m[0], out);
    last = m.index + m[0].length;
    if (out.terms.length >= MAX_TOKENS) break;
  }
  if (last < norm.length && out.terms.length < MAX_TOKENS) emitLatin(norm.slice(last), out);
  if (out.terms.length > MAX_TOKENS) out.terms.length = MAX_TOKENS;
  return out;
}

/** One stretch of Han characters: ICU words, stopwords cutting it into runs, bigrams per run. */
function emitHan(stretch: string, out: Analysis): void {
  let run: string[] = [];
  for (const word of segmentHan(stretch)) {
    if (ZH_STOPWORDS.has(word)) {
      if (run.length > 0) emitRun(run, out);
      run = [];
      continue;
    }
    run.push(word);
    if (word.length >= 3) pushWord(out, word, word);
  }
  if (run.length > 0) emitRun(run, out);
}

/**
 * ICU segmentation of a Han stretch, memoised: abstracts repeat the same
 * clauses (本发明公开了一种, 属于…技术领域), and segmenting is most of the
 * indexing time. Bounded; cleared when full rather than tracking recency.
 */
const segmentCache = new Map<string, readonly string[]>();
const SEGMENT_CACHE_MAX = 50_000;

export function segmentHan(stretch: string): readonly string[] {
  const hit = segmentCache.get(stretch);
  if (hit) return hit;
  const words = Array.from(segmenter.segment(stretch), (s) => s.segment);
  if (segmentCache.size >= SEGMENT_CACHE_MAX) segmentCache.clear();
  if (stretch.length <= 64) segmentCache.set(stretch, words);
  return words;
}

function emitRun(words: string[], out: Analysis): void {
  const text = words.join('');
  out.runs.push({ text, words });
  const chars = Array.from(text);
  if (chars.length === 1) {
    out.terms.push(text);
    return;
  }
  for (let i = 0; i + 1 < chars.length; i++) out.terms.push(chars[i]! + chars[i + 1]!);
}

function emitLatin(part: string, out: Analysis): void {
  for (const m of part.matchAll(LATIN_TOKEN)) {
    const surface = m[0];
    if (/^[a-z]+$/.test(surface)) {
      // Single letters are list markers and unit fragments, not content.
      if (surface.length < 2 || EN_STOPWORDS.has(surface)) continue;
      pushWord(out, stem(surface), surface);
    } else if (/^[0-9]+$/.test(surface)) {
      // A lone digit is a step or figure number ("步骤1"); longer numbers (2025, 18650) carry meaning.
      if (surface.length >= 2) pushWord(out, surface, surface);
    } else {
      pushWord(out, surface, surface); // decimals and model codes: 3.5, pm2.5, h01l21, 5g
    }
  }
}

function pushWord(out: Analysis, term: string, surface: string): void {
  out.terms.push(term);
  out.words.push({ term, surface });
}

/** Index terms of a text, in order, with repeats. */
export function tokenize(text: string): string[] {
  return analyze(text).terms;
}

/** The distinct terms of a query, in first-seen order. */
export function queryTerms(text: string): string[] {
  return [...new Set(tokenize(text))];
}
