/**
 * Shared helpers for the update-engine tests: every update runs on deep-frozen
 * inputs and is checked not to have changed them, and documents are compared
 * through canonical Extended JSON, which keeps BSON types and field order (so
 * an Int32 1 and a Double 1.0, or {a, b} and {b, a}, never compare equal).
 */
import { expect } from 'chai';
import { BSON, EJSON } from 'bson';
import { encodeDocument, isPlainObject, type Document } from '../../server/embedded-mongo/bson-values.js';
import { MongoError } from '../../server/embedded-mongo/errors.js';
import { applyUpdate, type UpdateOptions, type UpdateResult } from '../../server/embedded-mongo/query/update.js';

/** Freezes plain objects and arrays recursively (BSON value classes hold buffers that cannot be frozen). */
export function deepFreeze<T>(value: T): T {
  if (Array.isArray(value)) {
    value.forEach(deepFreeze);
    Object.freeze(value);
  } else if (isPlainObject(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/**
 * Canonical EJSON of the value as stored: type- and order-preserving text for
 * exact comparisons. It goes through BSON first because EJSON alone would call
 * a plain 2147483648 an Int64, while the store (like `bson`) writes it as a Double.
 */
export function ejson(value: unknown): string {
  const bytes = BSON.serialize({ v: value }, { ignoreUndefined: true });
  return EJSON.stringify(BSON.deserialize(bytes, { promoteValues: false, bsonRegExp: true }), { relaxed: false });
}

export function expectSameDoc(actual: unknown, expected: unknown): void {
  expect(ejson(actual)).to.equal(ejson(expected));
}

/** applyUpdate on frozen inputs, asserting neither the document nor the update changed. */
export function run(doc: Document, update: Document | Document[], options: UpdateOptions = {}): UpdateResult {
  const docBytes = Buffer.from(encodeDocument(doc));
  const updateText = ejson(update);
  const result = applyUpdate(deepFreeze(doc), deepFreeze(update), options);
  expect(Buffer.compare(docBytes, Buffer.from(encodeDocument(doc))), 'input document changed').to.equal(0);
  expect(ejson(update), 'update changed').to.equal(updateText);
  return result;
}

/** The updated document, asserting it differs from the input. */
export function updated(doc: Document, update: Document | Document[], options: UpdateOptions = {}): Document {
  const result = run(doc, update, options);
  expect(result.modified, 'expected the update to modify the document').to.equal(true);
  return result.doc;
}

/** Asserts the update leaves the document as it was (nModified 0). */
export function unchanged(doc: Document, update: Document | Document[], options: UpdateOptions = {}): void {
  const result = run(doc, update, options);
  expect(result.modified, 'expected a no-op').to.equal(false);
  expect(result.doc).to.equal(doc);
}

/** Asserts `fn` throws a MongoError with `code` (and `message`, when given). */
export function expectError(fn: () => unknown, code: number, message?: string | RegExp): MongoError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an error').to.be.instanceOf(MongoError);
  const error = caught as MongoError;
  expect(error.code, error.message).to.equal(code);
  if (typeof message === 'string') expect(error.message).to.equal(message);
  else if (message) expect(error.message).to.match(message);
  return error;
}

/** An update that must fail on `doc` with `code` (and `message`). */
export function fails(doc: Document, update: unknown, code: number, message?: string | RegExp, options: UpdateOptions = {}): MongoError {
  return expectError(() => run(doc, update as Document, options), code, message);
}
