/** Shared helpers for the query-* tests (matcher, sort, projection). */
import { expect } from 'chai';
import type { Document } from '../../server/embedded-mongo/bson-values.js';
import { MongoError } from '../../server/embedded-mongo/errors.js';
import { compileFilter } from '../../server/embedded-mongo/query/matcher.js';

/** The _ids of the documents a filter matches, in input order. */
export function ids(filter: Document, docs: Document[]): unknown[] {
  const f = compileFilter(filter);
  return docs.filter((d) => f.matches(d)).map((d) => d._id);
}

export function matches(filter: Document, doc: Document): boolean {
  return compileFilter(filter).matches(doc);
}

/** Asserts that fn throws a MongoError with this code (and message, when given). */
export function expectError(fn: () => unknown, code: number, message?: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a MongoError').to.be.instanceOf(MongoError);
  expect((caught as MongoError).code).to.equal(code);
  if (typeof message === 'string') expect((caught as MongoError).message).to.equal(message);
  else if (message) expect((caught as MongoError).message).to.match(message);
}
