/**
 * An in-memory BM25F index (Robertson & Zaragoza's simple BM25F): term
 * frequencies from several fields are weighted and length-normalised per
 * field, summed, then saturated once with k1. A patent whose title names the
 * problem beats one that mentions it once deep in the abstract.
 *
 * Built for a catalogue of tens of thousands of documents kept in step with
 * the database by upsert/remove: a query walks only the postings of its own
 * terms (never every document), and the collection statistics (N, document
 * frequencies, summed field lengths) are integers kept exactly, so an index
 * built incrementally scores bit-for-bit like one built from scratch.
 */
import { siftDown, siftUp } from './heap.js';
import { tokenize } from './tokenize.js';

export const FIELD_NAMES = ['title', 'summary', 'abstract', 'extra'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
const NF = FIELD_NAMES.length;

export interface Bm25Fields {
  title: string;
  summary: string;
  abstract: string;
  extra?: string;
}

export interface Bm25Options {
  k1: number;
  b: number;
  weights: Readonly<Record<FieldName, number>>;
}

/** Title counts most; the plain-language summary is written to be searched; the abstract is long and formulaic. */
export const DEFAULT_BM25: Bm25Options = Object.freeze({
  k1: 1.2,
  b: 0.75,
  weights: Object.freeze({ title: 3, summary: 2, abstract: 1, extra: 1 }),
});

export interface Bm25Hit {
  id: string;
  score: number;
  /** The query terms found in this document: the raw material of "why it matched". */
  matched: string[];
}

export interface Bm25SearchOptions<M> {
  limit: number;
  filter?: (id: string, meta: M) => boolean;
  /** Long queries (a whole patent as the query) keep only their most specific terms. */
  maxTerms?: number;
}

/** Per-field tf packed in one integer, 8 bits per field (capped at 255), to keep postings flat. */
const TF_CAP = 255;

/** The documents containing one term: parallel arrays, unordered, swap-removed. */
class Posting {
  docs = new Int32Array(4);
  tfs = new Uint32Array(4);
  n = 0;
  constructor(readonly term: string) {}

  add(slot: number, packed: number): void {
    if (this.n === this.docs.length) {
      const docs = new Int32Array(this.n * 2);
      docs.set(this.docs);
      const tfs = new Uint32Array(this.n * 2);
      tfs.set(this.tfs);
      this.docs = docs;
      this.tfs = tfs;
    }
    this.docs[this.n] = slot;
    this.tfs[this.n] = packed;
    this.n++;
  }

  delete(slot: number): void {
    for (let i = 0; i < this.n; i++) {
      if (this.docs[i] !== slot) continue;
      this.n--;
      this.docs[i] = this.docs[this.n]!;
      this.tfs[i] = this.tfs[this.n]!;
      return;
    }
  }
}

export class Bm25Index<M = undefined> {
  readonly options: Bm25Options;
  private readonly postings = new Map<string, Posting>();
  private readonly slotOf = new Map<string, number>();
  private ids: (string | null)[] = [];
  private metas: (M | undefined)[] = [];
  private docPostings: (Posting[] | null)[] = [];
  private lengths = new Uint32Array(0);
  private readonly freeSlots: number[] = [];
  private readonly totalLength = new Float64Array(NF);
  private scratch = new Float64Array(0);
  private masks = new Uint32Array(0);

  constructor(options: Partial<Bm25Options> = {}) {
    this.options = { ...DEFAULT_BM25, ...options, weights: { ...DEFAULT_BM25.weights, ...options.weights } };
  }

  /** Number of documents indexed. */
  get size(): number {
    return this.slotOf.size;
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  /** What the caller stored with the document (fields, region, listing…), for filters and boosts. */
  meta(id: string): M | undefined {
    const slot = this.slotOf.get(id);
    return slot === undefined ? undefined : this.metas[slot];
  }

  /** Inverse document frequency (BM25's non-negative form); 0 for an unknown term. */
  idf(term: string): number {
    const df = this.postings.get(term)?.n ?? 0;
    if (df === 0) return 0;
    const n = this.slotOf.size;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** Add or replace a document; replacing is remove + add, so statistics stay exact. */
  upsert(id: string, fields: Bm25Fields, meta: M): void {
    this.remove(id);
    const slot = this.freeSlots.pop() ?? this.ids.length;
    if (slot === this.ids.length) {
      this.ids.push(null);
      this.metas.push(undefined);
      this.docPostings.push(null);
      this.growLengths(slot + 1);
    }
    const tf = new Map<string, number>();
    FIELD_NAMES.forEach((name, f) => {
      const terms = tokenize(fields[name] ?? '');
      this.lengths[slot * NF + f] = terms.length;
      this.totalLength[f] = this.totalLength[f]! + terms.length;
      const shift = 8 * f;
      for (const t of terms) {
        const packed = tf.get(t) ?? 0;
        if (((packed >>> shift) & 0xff) < TF_CAP) tf.set(t, packed + 2 ** shift);
      }
    });
    const own: Posting[] = [];
    for (const [term, packed] of tf) {
      let p = this.postings.get(term);
      if (!p) {
        p = new Posting(term);
        this.postings.set(term, p);
      }
      p.add(slot, packed);
      own.push(p);
    }
    this.ids[slot] = id;
    this.metas[slot] = meta;
    this.docPostings[slot] = own;
    this.slotOf.set(id, slot);
  }

  /** Remove a document; returns whether it was there. */
  remove(id: string): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    for (const p of this.docPostings[slot] ?? []) {
      p.delete(slot);
      if (p.n === 0) this.postings.delete(p.term);
    }
    for (let f = 0; f < NF; f++) {
      this.totalLength[f] = this.totalLength[f]! - this.lengths[slot * NF + f]!;
      this.lengths[slot * NF + f] = 0;
    }
    this.slotOf.delete(id);
    this.ids[slot] = null;
    this.metas[slot] = undefined;
    this.docPostings[slot] = null;
    this.freeSlots.push(slot);
    return true;
  }

  /**
   * Best documents for a query, score descending, ties by id. Only documents
   * sharing at least one term are scored; `filter` sees those candidates only.
   * A string is tokenised; an array is taken as terms already tokenised.
   */
  search(query: string | readonly string[], opts: Bm25SearchOptions<M>): Bm25Hit[] {
    const n = this.slotOf.size;
    if (n === 0 || opts.limit <= 0) return [];
    const terms = this.selectTerms(typeof query === 'string' ? tokenize(query) : query, opts.maxTerms ?? 64);
    if (terms.length === 0) return [];
    const { k1, b, weights } = this.options;
    const w = FIELD_NAMES.map((name) => weights[name]);
    const avg = Array.from(this.totalLength, (total) => total / n);
    if (this.scratch.length < this.ids.length) this.scratch = new Float64Array(this.ids.length);
    // One bit per (document, query term): which terms matched, without searching postings again.
    const words = Math.ceil(terms.length / 32);
    if (this.masks.length < this.ids.length * words) this.masks = new Uint32Array(this.ids.length * words);
    const acc = this.scratch;
    const masks = this.masks;
    const touched: number[] = [];
    for (let q = 0; q < terms.length; q++) {
      const p = terms[q]!;
      const idf = this.idf(p.term);
      const word = q >>> 5;
      const bit = 1 << (q & 31);
      for (let i = 0; i < p.n; i++) {
        const slot = p.docs[i]!;
        const packed = p.tfs[i]!;
        let wtf = 0;
        for (let f = 0; f < NF; f++) {
          const tf = (packed >>> (8 * f)) & 0xff;
          if (tf === 0) continue;
          wtf += (w[f]! * tf) / (1 - b + (b * this.lengths[slot * NF + f]!) / avg[f]!);
        }
        if (acc[slot] === 0) touched.push(slot);
        acc[slot] = acc[slot]! + (idf * wtf) / (k1 + wtf);
        masks[slot * words + word] = masks[slot * words + word]! | bit;
      }
    }
    try {
      return this.topK(touched, opts).map(({ slot, score }) => ({
        id: this.ids[slot]!,
        score,
        matched: terms.filter((_, q) => (masks[slot * words + (q >>> 5)]! & (1 << (q & 31))) !== 0).map((p) => p.term),
      }));
    } finally {
      // The scratch buffers must be all zero for the next query, even if a filter threw.
      for (const slot of touched) {
        acc[slot] = 0;
        masks.fill(0, slot * words, slot * words + words);
      }
    }
  }

  /** Known distinct query terms; when too many, the rarest (most informative) are kept, in query order. */
  private selectTerms(raw: readonly string[], maxTerms: number): Posting[] {
    const seen = new Set<string>();
    const found: Posting[] = [];
    for (const t of raw) {
      if (seen.has(t)) continue;
      seen.add(t);
      const p = this.postings.get(t);
      if (p) found.push(p);
    }
    if (found.length <= maxTerms) return found;
    const keep = new Set([...found].sort((x, y) => x.n - y.n || (x.term < y.term ? -1 : 1)).slice(0, maxTerms));
    return found.filter((p) => keep.has(p));
  }

  /**
   * The `limit` best candidates in O(n log limit): a min-heap whose root is
   * the worst kept hit, so the filter only runs on candidates that would
   * enter. Callers ask for 10 (matching) or thousands (catalogue browsing).
   */
  private topK(touched: number[], opts: Bm25SearchOptions<M>): { slot: number; score: number }[] {
    const heap: { slot: number; score: number }[] = [];
    const worse = (a: { slot: number; score: number }, b: { slot: number; score: number }): boolean =>
      this.better(b.slot, b.score, a);
    for (const slot of touched) {
      const item = { slot, score: this.scratch[slot]! };
      if (heap.length === opts.limit && !this.better(slot, item.score, heap[0]!)) continue;
      if (opts.filter && !opts.filter(this.ids[slot]!, this.metas[slot] as M)) continue;
      if (heap.length < opts.limit) {
        heap.push(item);
        siftUp(heap, heap.length - 1, worse);
      } else {
        heap[0] = item;
        siftDown(heap, 0, worse);
      }
    }
    return heap.sort((a, b) => (this.better(a.slot, a.score, b) ? -1 : 1));
  }

  private better(slot: number, score: number, than: { slot: number; score: number }): boolean {
    return score > than.score || (score === than.score && this.ids[slot]! < this.ids[than.slot]!);
  }

  private growLengths(slots: number): void {
    if (this.lengths.length >= slots * NF) return;
    const next = new Uint32Array(Math.max(slots * NF, this.lengths.length * 2));
    next.set(this.lengths);
    this.lengths = next;
  }
}
