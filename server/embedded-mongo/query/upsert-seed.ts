/**
 * The document an upsert starts from when nothing matched: the values the
 * filter pins down by equality (pathsupport::extractEqualityMatches and
 * addEqualitiesToDoc). The update is then applied to it as an insert.
 */
import { ErrorCodes } from '../errors.js';
import { isPlainObject, type Document } from '../bson-values.js';
import { updateError, UpdateCodes } from './update-messages.js';
import type { UpdateKind } from './update.js';
import { cloneValue, compareUtf8, withIdFirst } from './update-values.js';

type Equality = [path: string, value: unknown];

function isRegex(value: unknown): boolean {
  return value instanceof RegExp || (typeof value === 'object' && value !== null
    && (value as { _bsontype?: string })._bsontype === 'BSONRegExp');
}

/** `{$ref, $id}` documents are DBRefs, compared by equality, not operator documents. */
function isOperatorDocument(value: unknown): value is Document {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys[0].startsWith('$') && !(keys.includes('$ref') && keys.includes('$id'));
}

function collect(filter: Document, out: Equality[]): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key.startsWith('$')) {
      if (key === '$and' && Array.isArray(value)) {
        for (const clause of value) if (isPlainObject(clause)) collect(clause, out);
      } else if (key === '$or' && Array.isArray(value) && value.length === 1 && isPlainObject(value[0])) {
        // The query optimiser folds a one-clause $or into its clause.
        collect(value[0], out);
      }
      // $expr, $or with several clauses, $nor, $where, $text, $comment: nothing is pinned down.
    } else if (isOperatorDocument(value)) {
      if (Object.hasOwn(value, '$eq')) out.push([key, value.$eq]);
      const list = value.$in;
      // A one-element $in is an equality after optimisation (unless the element is a regex).
      if (Array.isArray(list) && list.length === 1 && !isRegex(list[0])) out.push([key, list[0]]);
      // $all is parsed as one equality per element, so two elements pin one path twice.
      if (Array.isArray(value.$all)) {
        for (const item of value.$all) if (!isOperatorDocument(item) && !isRegex(item)) out.push([key, item]);
      }
    } else if (!isRegex(value)) {
      out.push([key, value]);
    }
  }
}

function setPath(doc: Document, parts: string[], value: unknown): void {
  let current = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(current[part])) current[part] = {};
    current = current[part] as Document;
  }
  current[parts[parts.length - 1]] = value;
}

/**
 * The seed document for an upsert with `filter`. For a replacement update
 * MongoDB takes only `_id` from the filter (the replacement supplies the rest).
 */
export function buildUpsertSeed(filter: Document, kind: UpdateKind = 'operators'): Document {
  const equalities: Equality[] = [];
  if (isPlainObject(filter)) collect(filter, equalities);
  let selected = equalities;
  if (kind === 'replacement') {
    selected = equalities.filter(([path]) => path.split('.')[0] === '_id');
    for (const [path] of selected) {
      if (path !== '_id') {
        throw updateError(UpdateCodes.NotExactValueField,
          `field at '_id' must be exactly specified, field at sub-path '${path}'found`);
      }
    }
  }
  // MongoDB keeps equalities in a map ordered by path, which is the order the fields are created in.
  selected = [...selected].sort((a, b) => compareUtf8(a[0], b[0]));
  const seed: Document = {};
  const seen: string[][] = [];
  for (const [path, value] of selected) {
    const parts = path.split('.');
    for (const earlier of seen) {
      if (earlier.length > parts.length || !earlier.every((p, i) => p === parts[i])) continue;
      const message = earlier.length === parts.length
        ? `path '${path}' is matched twice`
        : `both paths '${path}' and '${earlier.join('.')}' are matched`;
      throw updateError(ErrorCodes.NotSingleValueField, `cannot infer query fields to set, ${message}`);
    }
    seen.push(parts);
    setPath(seed, parts, cloneValue(value));
  }
  return withIdFirst(seed);
}
