/**
 * Query filters (`find`, `update`, `delete`, `$match`...) with MongoDB's
 * semantics, compiled once into a tree of match nodes and then evaluated
 * per document.
 *
 * The parser mirrors the server's MatchExpressionParser: a field whose value
 * is an object with an operator as its first key is an operator document,
 * anything else is an equality (a regex value is a regex match); `$ne`,
 * `$nin`, `$not` and `$exists: false` are negations of the whole path.
 * Features the store does not implement fail loudly (notSupported) and
 * malformed operators fail with MongoDB's error messages.
 *
 * Null semantics on dotted paths through arrays follow MongoDB up to 8.x:
 * `{'a.b': null}` matches `{a: [{c: 1}]}` but not `{a: [1, 2]}` or `{a: []}`
 * (MongoDB 9 changes the latter two, SERVER-36681).
 */
import { isPlainObject, type Document } from '../bson-values.js';
import { badValue, ErrorCodes, MongoError, notSupported } from '../errors.js';
import { isNumeric } from './compare.js';
import { compileExpression, isTruthy } from './expression.js';
import {
  isBitTestOperator, isOperatorDocument, isRegexValue, parseBits, parseIn, parseMod, parseRegexDocument, parseSize,
  parseTypeSet, PATHLESS_OPERATORS, regexPredicate, trueValue,
} from './match-arguments.js';
import {
  andOf, AndNode, ConstantNode, DocumentNode, NorNode, NotNode, OrNode, PathNode, type MatchDetails, type MatchNode,
  type Predicate,
} from './match-nodes.js';
import {
  ComparisonPredicate, ElemMatchObjectPredicate, ElemMatchValuePredicate, ExistsPredicate, SizePredicate, TypePredicate,
  type ComparisonOp,
} from './match-predicates.js';
import { toBigIntIfIntegral } from './numeric.js';
import { compilePath, type CompiledPath } from './path.js';

export { getValuesAtPath } from './path.js';
export type { MatchDetails } from './match-nodes.js';

export interface CompiledFilter {
  /**
   * True when the document matches. With `details`, a match sets
   * `details.arrayIndex` to the index in the first array traversed that
   * produced it (MongoDB's elemMatchKey, used by positional `$`).
   */
  matches(doc: Document, details?: MatchDetails): boolean;
}

export interface FilterOptions {
  /** Values for `$$name` in `$expr` (the `let` option of find/aggregate). */
  variables?: Document;
}

/** Where a filter is being parsed: the document itself, or inside $elemMatch. */
type Level = 'top' | 'sub';

interface Context {
  readonly variables?: Document;
}

const GEO_OPERATORS = new Set(['$near', '$nearSphere', '$geoWithin', '$within', '$geoIntersects', '$maxDistance', '$minDistance']);

/** Operators that may follow a field name; $all rejects objects led by one of these. */
const PATH_OPERATORS = new Set([
  '$eq', '$ne', '$lt', '$lte', '$gt', '$gte', '$in', '$nin', '$exists', '$type', '$mod', '$regex', '$options',
  '$not', '$elemMatch', '$all', '$size', '$bitsAllSet', '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear', ...GEO_OPERATORS,
]);

/** Compiles a filter document; throws MongoError for invalid or unsupported filters. */
export function compileFilter(filter: Document, options: FilterOptions = {}): CompiledFilter {
  if (!isPlainObject(filter)) throw new MongoError(ErrorCodes.TypeMismatch, 'query filter must be an object');
  const root = parseDocument(filter, { variables: options.variables }, 'top');
  return {
    matches(doc: Document, details?: MatchDetails): boolean {
      if (details === undefined) return root.matches(doc);
      details.arrayIndex = undefined;
      const matched = root.matches(doc, details);
      if (!matched) details.arrayIndex = undefined;
      return matched;
    },
  };
}

/** The driver serialises undefined as null, so a filter written in-process means the same. */
function defined(v: unknown): unknown {
  return v === undefined ? null : v;
}

function parseDocument(filter: Document, ctx: Context, level: Level): MatchNode {
  const children: MatchNode[] = [];
  for (const key of Object.keys(filter)) {
    const value = defined(filter[key]);
    const node = key.startsWith('$') ? parsePathless(key, value, ctx, level) : parseField(compilePath(key), value, ctx, level);
    if (node !== null) children.push(node);
  }
  return andOf(children);
}

function parsePathless(name: string, value: unknown, ctx: Context, level: Level): MatchNode | null {
  switch (name) {
    case '$and':
    case '$or':
    case '$nor': {
      if (!Array.isArray(value)) throw badValue(`${name} must be an array`);
      if (value.length === 0) throw badValue('$and/$or/$nor must be a nonempty array');
      const children = value.map((entry) => {
        if (!isPlainObject(entry)) throw badValue('$or/$and/$nor entries need to be full objects');
        return parseDocument(entry, ctx, level);
      });
      return name === '$and' ? new AndNode(children) : name === '$or' ? new OrNode(children) : new NorNode(children);
    }
    case '$comment':
      return null;
    case '$expr': {
      if (level === 'sub') throw badValue('$expr can only be applied to the top-level document');
      const expression = compileExpression(value, { variables: ctx.variables });
      return new DocumentNode((doc) => isTruthy(expression.evaluate(doc as Document)));
    }
    case '$alwaysTrue':
    case '$alwaysFalse':
      if (!isNumeric(value) || toBigIntIfIntegral(value) !== 1n) {
        throw new MongoError(ErrorCodes.FailedToParse, `${name} must be an integer value of 1`);
      }
      return new ConstantNode(name === '$alwaysTrue');
    case '$ref':
    case '$id':
    case '$db':
      // Fields of a DBRef sub-document queried inside $elemMatch.
      return new PathNode(compilePath(name), new ComparisonPredicate('eq', value));
    case '$where':
    case '$text':
    case '$jsonSchema':
    case '$sampleRate':
      throw notSupported(name);
    default:
      throw badValue(`unknown top level operator: ${name}`);
  }
}

function parseField(path: CompiledPath, value: unknown, ctx: Context, level: Level): MatchNode {
  if (isOperatorDocument(value)) return parseOperators(path, value, ctx, level);
  if (isRegexValue(value)) return new PathNode(path, regexPredicate(value));
  return new PathNode(path, new ComparisonPredicate('eq', value));
}

/** An operator document such as {$gt: 1, $lt: 5}: each operator is its own condition on the path. */
function parseOperators(path: CompiledPath | null, ops: Document, ctx: Context, level: Level): MatchNode {
  const keys = Object.keys(ops);
  if (keys[0] === '$near' || keys[0] === '$nearSphere') throw notSupported(keys[0]);
  const children: MatchNode[] = [];
  for (const op of keys) {
    const node = parseOperator(path, op, defined(ops[op]), ops, ctx, level);
    if (node !== null) children.push(node);
  }
  return andOf(children);
}

function leaf(path: CompiledPath | null, predicate: Predicate): MatchNode {
  return new PathNode(path, predicate);
}

function parseOperator(path: CompiledPath | null, op: string, arg: unknown, ops: Document, ctx: Context, level: Level): MatchNode | null {
  switch (op) {
    case '$eq':
      return leaf(path, new ComparisonPredicate('eq', arg));
    case '$ne':
      if (isRegexValue(arg)) throw badValue("Can't have regex as arg to $ne.");
      return new NotNode(leaf(path, new ComparisonPredicate('eq', arg)));
    case '$lt':
    case '$lte':
    case '$gt':
    case '$gte':
      if (isRegexValue(arg)) throw badValue(`Can't have RegEx as arg to predicate over field '${path?.path ?? ''}'.`);
      return leaf(path, new ComparisonPredicate(op.slice(1) as ComparisonOp, arg));
    case '$in':
      return leaf(path, parseIn(arg, (v) => isOperatorDocument(v)));
    case '$nin':
      return new NotNode(leaf(path, parseIn(arg, (v) => isOperatorDocument(v))));
    case '$exists':
      return trueValue(arg) ? leaf(path, new ExistsPredicate()) : new NotNode(leaf(path, new ExistsPredicate()));
    case '$type':
      return leaf(path, new TypePredicate(parseTypeSet(arg)));
    case '$mod':
      return leaf(path, parseMod(arg));
    case '$regex':
      return leaf(path, parseRegexDocument(ops));
    case '$options':
      if (Object.hasOwn(ops, '$regex')) return null;
      throw badValue('$options needs a $regex');
    case '$not':
      return parseNot(path, arg, ctx, level);
    case '$elemMatch':
      return leaf(path, parseElemMatch(arg, ctx));
    case '$all':
      return parseAll(path, arg, ctx);
    case '$size':
      return leaf(path, new SizePredicate(parseSize(arg)));
    case '$where':
      throw badValue('$where cannot be applied to a field');
    default:
      if (isBitTestOperator(op)) return leaf(path, parseBits(op, arg));
      if (GEO_OPERATORS.has(op)) throw notSupported(op);
      throw badValue(`unknown operator: ${op}`);
  }
}

function parseNot(path: CompiledPath | null, arg: unknown, ctx: Context, level: Level): MatchNode {
  if (isRegexValue(arg)) return new NotNode(leaf(path, regexPredicate(arg)));
  if (!isPlainObject(arg)) throw badValue('$not needs a regex or a document');
  if (Object.keys(arg).length === 0) throw badValue('$not cannot be empty');
  return new NotNode(parseOperators(path, arg, ctx, level));
}

function parseElemMatch(arg: unknown, ctx: Context): Predicate {
  if (!isPlainObject(arg)) throw badValue('$elemMatch needs an Object');
  // Led by a path operator ({$gt: 1}) it tests array values; otherwise each element is a sub-document.
  if (isOperatorDocument(arg, true) && !PATHLESS_OPERATORS.has(Object.keys(arg)[0])) {
    return new ElemMatchValuePredicate([parseOperators(null, arg, ctx, 'sub')]);
  }
  return new ElemMatchObjectPredicate(parseDocument(arg, ctx, 'sub'));
}

function parseAll(path: CompiledPath | null, arg: unknown, ctx: Context): MatchNode {
  if (!Array.isArray(arg)) throw badValue('$all needs an array');
  const isElemMatch = (v: unknown): v is Document => isPlainObject(v) && Object.keys(v)[0] === '$elemMatch';
  if (isElemMatch(arg[0])) {
    return andOf(arg.map((e) => {
      if (!isElemMatch(e)) throw badValue('$all/$elemMatch has to be consistent');
      return leaf(path, parseElemMatch(e.$elemMatch, ctx));
    }));
  }
  if (arg.length === 0) return new ConstantNode(false);
  return andOf(arg.map((raw) => {
    const e = defined(raw);
    if (isRegexValue(e)) return leaf(path, regexPredicate(e));
    if (isPlainObject(e) && PATH_OPERATORS.has(Object.keys(e)[0])) throw badValue('no $ expressions in $all');
    return leaf(path, new ComparisonPredicate('eq', e));
  }));
}
