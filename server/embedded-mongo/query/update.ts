/**
 * The update engine: applies one update statement's `u` (operators, a
 * replacement document, or an aggregation pipeline) to one document.
 *
 * Stored documents are never mutated: each update works on a private copy
 * and returns it, or returns the input itself when nothing changed. Whether
 * something changed is decided by comparing BSON bytes, as MongoDB's nModified
 * reflects: a type change (1 → 1.0) or a field reordering counts, setting a
 * field to the value it already has does not.
 */
import type { Timestamp } from 'bson';
import { ErrorCodes } from '../errors.js';
import { isPlainObject, type Document } from '../bson-values.js';
import { valuesEqual } from './compare.js';
import { compileFilter, type CompiledFilter } from './matcher.js';
import { applyTree } from './update-apply.js';
import { formatElement, updateError } from './update-messages.js';
import { isUpdateOperator, nextTimestamp } from './update-operators.js';
import { runUpdatePipeline, validateUpdatePipeline } from './update-pipeline.js';
import { parseArrayFilters, parseOperatorUpdate, unknownModifier, type OperatorTree } from './update-tree.js';
import { cloneValue, sameDocument, withIdFirst } from './update-values.js';

export { buildUpsertSeed } from './upsert-seed.js';

export type UpdateKind = 'operators' | 'replacement' | 'pipeline';

export interface UpdateOptions {
  arrayFilters?: Document[];
  /** The update's query, for the positional `$` operator. */
  query?: Document;
  /** True when this update is creating an upserted document: `$setOnInsert` applies only then. */
  isInsert?: boolean;
  /** `let` variables for pipeline updates (and the query's `$expr`). */
  variables?: Document;
  /** Time source for $currentDate and $$NOW (tests). */
  now?: () => Date;
}

export interface UpdateResult {
  /** The updated document; the input object itself when `modified` is false. */
  doc: Document;
  modified: boolean;
}

/** An update parsed and validated once, to apply to each matched document. */
export interface PreparedUpdate {
  readonly kind: UpdateKind;
  /** Applies the update; per-document options (usually `isInsert`) override the statement's. */
  apply(doc: Document, options?: UpdateOptions): UpdateResult;
}

/**
 * Which style an update is, as MongoDB's UpdateModification decides: an array
 * is a pipeline; a document whose first field starts with '$' is an operator
 * update (every field must then be a known operator); any other document,
 * including `{}`, is a replacement.
 */
export function classifyUpdate(u: unknown): UpdateKind {
  if (Array.isArray(u)) return 'pipeline';
  if (!isPlainObject(u)) throw updateError(ErrorCodes.FailedToParse, 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  if (keys.length === 0 || !keys[0].startsWith('$')) return 'replacement';
  for (const key of keys) if (!isUpdateOperator(key)) throw unknownModifier(key);
  return 'operators';
}

function dollarField(field: string): Error {
  return updateError(ErrorCodes.DollarPrefixedFieldName, `The dollar ($) prefixed field '${field}' in '${field}' is not allowed `
    + "in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.");
}

/** storage_validation::storageValidIdField, for an `_id` the update supplies. */
function checkIdValue(doc: Document): void {
  if (!Object.hasOwn(doc, '_id')) return;
  const id = doc._id;
  const type = Array.isArray(id) ? 'array'
    : id instanceof RegExp || (id as { _bsontype?: string } | null)?._bsontype === 'BSONRegExp' ? 'regex'
      : id === undefined ? 'undefined' : undefined;
  if (type) throw updateError(ErrorCodes.InvalidIdField, `The '_id' value cannot be of type ${type}`);
}

function altered(id: unknown): Error {
  return updateError(ErrorCodes.ImmutableField,
    `After applying the update, the (immutable) field '_id' was found to have been altered to ${formatElement('_id', id)}`);
}

function finish(original: Document, updated: Document): UpdateResult {
  if (!Object.hasOwn(original, '_id')) checkIdValue(updated);
  const modified = !sameDocument(original, updated);
  return { doc: modified ? updated : original, modified };
}

/** Compiles the query for the positional `$` once per statement, not once per document. */
function positionalMatcher(): (doc: Document, options: UpdateOptions) => string | undefined {
  let cached: { query: Document; variables?: Document; filter: CompiledFilter } | undefined;
  return (doc, options) => {
    const query = options.query!;
    if (cached?.query !== query || cached.variables !== options.variables) {
      cached = { query, variables: options.variables, filter: compileFilter(query, { variables: options.variables }) };
    }
    const details: { arrayIndex?: number } = {};
    const matched = cached.filter.matches(doc, details);
    return matched && details.arrayIndex !== undefined ? String(details.arrayIndex) : undefined;
  };
}

function applyOperators(
  tree: OperatorTree, doc: Document, options: UpdateOptions, now: Date, match: ReturnType<typeof positionalMatcher>,
): UpdateResult {
  // The position comes from matching the document as it was before the update, as in MongoDB.
  const matchedField = tree.positional && !options.isInsert && options.query ? match(doc, options) : undefined;
  const working = cloneValue(doc);
  applyTree(tree.root, {
    doc: working,
    matchedField,
    isInsert: options.isInsert === true,
    now,
    idLocked: Object.hasOwn(doc, '_id'),
    arrayFilters: tree.arrayFilters,
  });
  // An upserted document is stored with _id first, wherever the update put it.
  return finish(doc, options.isInsert ? withIdFirst(working) : working);
}

function isZeroTimestamp(value: unknown): boolean {
  return (value as { _bsontype?: string } | null)?._bsontype === 'Timestamp' && (value as Timestamp).isZero();
}

function applyReplacement(replacement: Document, doc: Document, now: Date): UpdateResult {
  const hasId = Object.hasOwn(replacement, '_id');
  if (hasId && Object.hasOwn(doc, '_id') && !valuesEqual(doc._id, replacement._id)) throw altered(replacement._id);
  const result: Document = {};
  if (hasId || Object.hasOwn(doc, '_id')) result._id = hasId ? cloneValue(replacement._id) : doc._id;
  for (const key of Object.keys(replacement)) {
    if (key === '_id' || replacement[key] === undefined) continue;
    // As MongoDB does, a top-level Timestamp(0, 0) stands for "now" and is filled in.
    result[key] = isZeroTimestamp(replacement[key]) ? nextTimestamp(now) : cloneValue(replacement[key]);
  }
  return finish(doc, result);
}

function applyPipeline(pipeline: Document[], doc: Document, options: UpdateOptions, now: Date): UpdateResult {
  const transformed = runUpdatePipeline(doc, pipeline, options.variables ?? {}, now);
  if (Object.hasOwn(transformed, '_id')) {
    if (Object.hasOwn(doc, '_id') && !valuesEqual(doc._id, transformed._id)) throw altered(transformed._id);
    return finish(doc, withIdFirst(transformed));
  }
  // A pipeline that drops _id does not remove it: MongoDB keeps the original.
  return finish(doc, Object.hasOwn(doc, '_id') ? { _id: doc._id, ...transformed } : transformed);
}

/**
 * Parses and validates an update once, so that a multi-document update fails
 * before touching any document, and returns it ready to apply.
 */
export function validateUpdate(update: unknown, options: UpdateOptions = {}): PreparedUpdate {
  const kind = classifyUpdate(update);
  const statementNow = options.now?.() ?? new Date();
  const settings = (perDocument?: UpdateOptions) => {
    const merged = { ...options, ...perDocument };
    return { merged, now: perDocument?.now?.() ?? statementNow };
  };
  if (kind === 'pipeline') {
    if (options.arrayFilters !== undefined && options.arrayFilters.length > 0) {
      throw updateError(ErrorCodes.FailedToParse, 'arrayFilters may not be specified for pipeline-style updates');
    }
    const pipeline = update as Document[];
    validateUpdatePipeline(pipeline);
    return {
      kind,
      apply(doc, perDocument) {
        const { merged, now } = settings(perDocument);
        return applyPipeline(pipeline, doc, merged, now);
      },
    };
  }
  // Array filters are validated for every operator or replacement update, though only operators use them.
  const arrayFilters = parseArrayFilters(options.arrayFilters, options.variables);
  if (kind === 'replacement') {
    const replacement = update as Document;
    for (const key of Object.keys(replacement)) if (key.startsWith('$')) throw dollarField(key);
    checkIdValue(replacement);
    return { kind, apply: (doc, perDocument) => applyReplacement(replacement, doc, settings(perDocument).now) };
  }
  const tree = parseOperatorUpdate(update as Document, arrayFilters);
  const match = positionalMatcher();
  return {
    kind,
    apply(doc, perDocument) {
      const { merged, now } = settings(perDocument);
      return applyOperators(tree, doc, merged, now, match);
    },
  };
}

/** Applies `update` to `doc`, returning the new document and whether it differs from `doc`. */
export function applyUpdate(doc: Document, update: Document | Document[], options: UpdateOptions = {}): UpdateResult {
  return validateUpdate(update, options).apply(doc);
}
