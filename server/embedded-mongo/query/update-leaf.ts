/**
 * The contract between a parsed update operator and the tree walker that
 * applies it (update-apply.ts), mirroring MongoDB's ModifierNode: an operator
 * says what to do with an existing value and whether a missing path is
 * created, ignored, or ignored only if it could have been created.
 */
import { ErrorCodes } from '../errors.js';
import type { Document } from '../bson-values.js';
import { formatElement, updateError } from './update-messages.js';
import { numericKind } from './update-arithmetic.js';

/** What the walker knows about the element an operator is applied to. */
export interface LeafEnv {
  /** The element's own field name (an array index for array elements). */
  readonly fieldName: string;
  /** The dotted path actually taken in this document (positional parts resolved). */
  readonly path: string;
  /** The working document, which MongoDB quotes (by `_id`) in some errors. */
  readonly doc: Document;
  /** The statement's clock reading, for `$currentDate`. */
  readonly now: Date;
}

export type Outcome =
  | { readonly kind: 'keep' }
  | { readonly kind: 'set'; readonly value: unknown }
  /** Remove the field; an array element is set to null instead (MongoDB keeps positions). */
  | { readonly kind: 'unset' };

export const KEEP: Outcome = { kind: 'keep' };

export interface LeafOp {
  /** The operator as written, e.g. "$inc". */
  readonly operator: string;
  /** `$setOnInsert`: a no-op unless the update is inserting an upserted document. */
  readonly insertOnly?: boolean;
  /**
   * A missing target path is created ('create'), ignored ('ignore', $unset),
   * or ignored only if the path could have been created ('ignore-if-viable',
   * $pull/$pop, which reject e.g. 'a.b' when 'a' is a number).
   */
  readonly onMissing: 'create' | 'ignore' | 'ignore-if-viable';
  /** For `$rename`: the source path, which the walker moves to this leaf's path. */
  readonly renameFrom?: string;
  /** The value to create at a missing path (required when onMissing is 'create'). */
  create?(env: LeafEnv): unknown;
  update(current: unknown, env: LeafEnv): Outcome;
}

/**
 * MatchExpressionParser::parseIntegerElementToLong: an integral number of any
 * numeric type, as a JS number (the callers' ranges are far inside 2^53).
 */
export function parseIntegerArgument(name: string, value: unknown): number {
  const kind = numericKind(value);
  const element = formatElement(name, value);
  if (kind === undefined) throw updateError(ErrorCodes.FailedToParse, `Expected a number in: ${element}`);
  const n = typeof value === 'number' ? value : Number((value as { toString(): string }).toString());
  if (Number.isNaN(n)) throw updateError(ErrorCodes.FailedToParse, `Expected an integer, but found NaN in: ${element}`);
  if (Math.abs(n) >= 2 ** 63) throw updateError(ErrorCodes.FailedToParse, `Cannot represent as a 64-bit integer: ${element}`);
  if (!Number.isInteger(n)) {
    const message = kind === 'decimal' ? `Cannot represent as a 64-bit integer: ${element}` : `Expected an integer: ${element}`;
    throw updateError(ErrorCodes.FailedToParse, message);
  }
  return n;
}
