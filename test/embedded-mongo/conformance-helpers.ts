/**
 * Shared assertions for the conformance suites: they drive the store through
 * the real driver and compare against MongoDB's documented replies and codes.
 */
import { expect } from 'chai';
import type { Db, Document, ObjectId } from 'mongodb';

/** Awaits `work`, which must fail with a server error carrying `code` (and its codeName). */
export async function expectCode(work: Promise<unknown>, code: number | number[], message?: RegExp): Promise<Document> {
  let failure: unknown;
  try {
    await work;
  } catch (err) {
    failure = err;
  }
  if (failure === undefined) expect.fail(`expected an error with code ${String(code)}, but the operation succeeded`);
  const err = failure as Document;
  const codes = Array.isArray(code) ? code : [code];
  expect(codes, `code of "${String(err.message)}"`).to.include(err.code);
  expect(err.codeName, 'codeName').to.be.a('string').and.not.equal('');
  if (message) expect(String(err.message)).to.match(message);
  return err;
}

/** Awaits `work`, which must fail in any way; returns the error. */
export async function expectFailure(work: Promise<unknown>): Promise<Document> {
  try {
    await work;
  } catch (err) {
    return err as Document;
  }
  return expect.fail('expected the operation to fail, but it succeeded');
}

/** Every document of a collection, sorted by `_id`. */
export function all(db: Db, coll: string): Promise<Document[]> {
  return db.collection<Loose>(coll).find({}, { sort: { _id: 1 } }).toArray();
}

/** The plan stages (with their index names) in an explain reply's winning plan, outermost first. */
export function planStages(explain: Document): { stage: string; indexName?: string }[] {
  const out: { stage: string; indexName?: string }[] = [];
  let plan = explain.queryPlanner?.winningPlan as Document | undefined;
  while (plan) {
    out.push({ stage: plan.stage, indexName: plan.indexName });
    plan = (plan.inputStage ?? plan.queryPlan) as Document | undefined;
  }
  return out;
}

/** A schema loose enough for tests that store numbers and strings as `_id` (the driver's default is ObjectId). */
export type Id = string | number | ObjectId;
export interface Loose {
  _id?: Id;
  [key: string]: any;
}
