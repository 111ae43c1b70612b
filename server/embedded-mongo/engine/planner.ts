/**
 * Chooses how to find the documents a filter may match: the `_id` index for
 * `_id` equality, a secondary index for equality, `$in` or range predicates
 * on its leading fields, or a collection scan. The plan only narrows the
 * candidates; the full filter is always re-applied, so a plan can be less
 * selective than possible but never wrong.
 */
import type { Document } from '../bson-values.js';
import { isPlainObject } from '../bson-values.js';
import { bsonTypeName, compareValues } from '../query/compare.js';
import { idKeyOf, type CollectionStore } from './collection-store.js';
import type { IndexStore } from './index-store.js';

type Predicate =
  | { kind: 'eq'; values: unknown[] }
  | { kind: 'range'; low: unknown; lowInclusive: boolean; high: unknown; highInclusive: boolean; bracket: string };

export interface QueryPlan {
  stage: 'EOF' | 'IDHACK' | 'IXSCAN' | 'COLLSCAN';
  index: IndexStore | null;
  /** Id keys to examine; null means every document. */
  candidates: Iterable<string> | null;
  /** A human-readable description of the index bounds, for explain (built only when read). */
  readonly bounds: Document;
}

/** A plan whose explain bounds are described only if explain asks: point reads never need the strings. */
function plan(stage: QueryPlan['stage'], index: IndexStore | null, candidates: Iterable<string> | null, describeBounds: () => Document): QueryPlan {
  let bounds: Document | undefined;
  return {
    stage, index, candidates,
    get bounds() {
      return (bounds ??= describeBounds());
    },
  };
}

/** Scalars an index lookup can use as an exact key (not regexes, arrays or operator documents). */
function isIndexableScalar(v: unknown): boolean {
  if (v === undefined || Array.isArray(v)) return false;
  if (isPlainObject(v)) return !Object.keys(v).some((k) => k.startsWith('$'));
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  // null matches null and missing fields alike; a full index keys both as null (index-keys.ts), so the
  // lookup finds them — sparse and partial indexes drop missing fields, so planQuery skips them for null.
  return !(t === 'BSONRegExp' || v instanceof RegExp);
}

/** Brackets in which an index range scan is supported, with their lowest value. */
const bracketLow: Record<string, unknown> = {
  number: Number.NaN,
  string: '',
  date: new Date(-8640000000000000),
};

function bracketOf(v: unknown): string | null {
  const t = bsonTypeName(v);
  if (t === 'int' || t === 'double' || t === 'long' || t === 'decimal') return 'number';
  if (t === 'string' || t === 'date') return t;
  return null;
}

/** Extracts per-field predicates an index can serve from the filter's top level and `$and`. */
export function indexablePredicates(filter: Document): Map<string, Predicate> {
  const out = new Map<string, Predicate>();
  const visit = (f: Document) => {
    for (const [field, cond] of Object.entries(f)) {
      if (field === '$and' && Array.isArray(cond)) {
        for (const sub of cond) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (field.startsWith('$') || out.has(field)) continue;
      const p = predicateFor(cond);
      if (p) out.set(field, p);
    }
  };
  visit(filter);
  return out;
}

function predicateFor(cond: unknown): Predicate | null {
  if (!isPlainObject(cond) || !Object.keys(cond).some((k) => k.startsWith('$'))) {
    return isIndexableScalar(cond) ? { kind: 'eq', values: [cond] } : null;
  }
  const ops = cond as Document;
  if ('$eq' in ops && isIndexableScalar(ops.$eq)) return { kind: 'eq', values: [ops.$eq] };
  if ('$in' in ops && Array.isArray(ops.$in) && ops.$in.length > 0 && ops.$in.every(isIndexableScalar)) {
    return { kind: 'eq', values: ops.$in };
  }
  const low = ops.$gt ?? ops.$gte;
  const high = ops.$lt ?? ops.$lte;
  const bracket = bracketOf(low ?? high);
  if (!bracket || (low !== undefined && high !== undefined && bracketOf(high) !== bracket)) return null;
  return {
    kind: 'range',
    low: low ?? bracketLow[bracket],
    lowInclusive: low === undefined || '$gte' in ops,
    high,
    highInclusive: '$lte' in ops,
    bracket,
  };
}

/** Picks the index covering the most leading equality fields, then a range. */
export function planQuery(coll: CollectionStore, filter: Document): QueryPlan {
  const preds = indexablePredicates(filter);
  const idPred = preds.get('_id');
  if (idPred?.kind === 'eq') {
    const ids = coll.indexes.get('_id_')!;
    const values = idPred.values;
    // IDHACK: the _id index is the document map itself (id-index-store.ts), so
    // one _id is one map probe, without the generators a general lookup needs.
    const candidates = values.length === 1 ? idProbe(coll, values[0]) : lookupAll(ids, values.map((v) => [v]));
    return plan(values.length === 1 ? 'IDHACK' : 'IXSCAN', ids, candidates, () => ({ _id: values.map(describe) }));
  }
  let best: { index: IndexStore; score: number; eqFields: number; range: Predicate | null } | null = null;
  for (const index of coll.indexes.values()) {
    // Partial indexes hold only some documents; using them needs filter implication, which we don't prove.
    if (index.spec.partialFilterExpression) continue;
    let eqFields = 0;
    for (const f of index.fields) {
      const p = preds.get(f);
      if (p?.kind !== 'eq' || (index.spec.sparse && p.values.some((v) => v === null))) break;
      eqFields++;
    }
    const next = index.fields[eqFields];
    const range = next !== undefined ? preds.get(next) ?? null : null;
    const rangeUsable = range?.kind === 'range' ? range : null;
    const score = eqFields * 2 + (rangeUsable && index.ordered ? 1 : 0);
    if (score === 0) continue;
    if (!best || score > best.score || (score === best.score && index.unique && !best.index.unique)) {
      best = { index, score, eqFields, range: index.ordered ? rangeUsable : null };
    }
  }
  if (!best) return plan('COLLSCAN', null, null, () => ({}));
  return buildIndexPlan(best.index, best.eqFields, best.range, preds);
}

function buildIndexPlan(index: IndexStore, eqFields: number, range: Predicate | null, preds: Map<string, Predicate>): QueryPlan {
  const eqValues = index.fields.slice(0, eqFields).map((f) => (preds.get(f) as { values: unknown[] }).values);
  const describeBounds = () => {
    const bounds: Document = {};
    index.fields.slice(0, eqFields).forEach((f, i) => (bounds[f] = eqValues[i].map(describe)));
    if (range?.kind === 'range') {
      bounds[index.fields[eqFields]] = [`${range.lowInclusive ? '[' : '('}${describe(range.low)}, ${range.high === undefined ? 'max' : describe(range.high)}${range.highInclusive ? ']' : ')'}`];
    }
    return bounds;
  };
  // The common point read, one value on a one-field index: a single exact-key
  // lookup yields each document once (tree entries are unique per [key, _id]), so no dedupe.
  if (!range && eqFields === 1 && index.fields.length === 1 && eqValues[0].length === 1) {
    return plan('IXSCAN', index, index.lookup([eqValues[0][0]]), describeBounds);
  }
  // Expand `$in` lists into the cartesian product of exact prefixes.
  let prefixes: unknown[][] = [[]];
  for (const values of eqValues) {
    const next: unknown[][] = [];
    for (const p of prefixes) for (const v of values) next.push([...p, v]);
    prefixes = next;
  }
  let candidates: Iterable<string>;
  if (range && range.kind === 'range') {
    const r = range;
    const spec = {
      low: r.low,
      inRange: (v: unknown) => bracketOf(v) === r.bracket && (r.lowInclusive ? compareValues(v, r.low) >= 0 : compareValues(v, r.low) > 0),
      pastEnd: (v: unknown) => {
        if (bracketOf(v) !== r.bracket) return compareValues(v, r.low) > 0;
        if (r.high === undefined) return false;
        const c = compareValues(v, r.high);
        return r.highInclusive ? c > 0 : c >= 0;
      },
    };
    candidates = dedupe(prefixes.map((p) => index.scan(p, spec)));
  } else if (eqFields === index.fields.length) {
    candidates = lookupAll(index, prefixes);
  } else {
    candidates = dedupe(prefixes.map((p) => index.scan(p)));
  }
  return plan('IXSCAN', index, candidates, describeBounds);
}

/** The id key of the document whose `_id` equals `value`, if there is one. */
function idProbe(coll: CollectionStore, value: unknown): string[] {
  const key = idKeyOf(value);
  return coll.docs.has(key) ? [key] : [];
}

function lookupAll(index: IndexStore, keys: unknown[][]): Iterable<string> {
  return dedupe(keys.map((k) => index.lookup(k)));
}

/** Multikey entries and `$in` lists can yield a document more than once. */
function* dedupe(sources: Iterable<string>[]): Generator<string> {
  const seen = new Set<string>();
  for (const src of sources) {
    for (const id of src) {
      if (seen.has(id)) continue;
      seen.add(id);
      yield id;
    }
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
