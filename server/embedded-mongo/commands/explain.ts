/**
 * `explain` for find, count, distinct, update, delete, findAndModify and
 * aggregate: a queryPlanner section naming the index the planner chose (and
 * executionStats when asked), computed by really planning the query.
 */
import type { Document } from '../bson-values.js';
import { isPlainObject } from '../bson-values.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { planQuery } from '../engine/planner.js';
import { compileFilter } from '../query/matcher.js';
import { SERVER_VERSION } from './admin.js';
import { validateCollectionName, type CommandEnv } from './context.js';

/** The filter each explainable command runs. */
function filterOf(name: string, inner: Document): Document {
  switch (name) {
    case 'find': return (inner.filter as Document) ?? {};
    case 'count': case 'distinct': return (inner.query as Document) ?? {};
    case 'findAndModify': return (inner.query as Document) ?? {};
    case 'update': return ((inner.updates as Document[])?.[0]?.q as Document) ?? {};
    case 'delete': return ((inner.deletes as Document[])?.[0]?.q as Document) ?? {};
    case 'aggregate': {
      const first = (inner.pipeline as Document[])?.[0];
      return first && isPlainObject(first.$match) ? first.$match : {};
    }
    default: throw new MongoError(ErrorCodes.IllegalOperation, `explain is not supported for the ${name} command`);
  }
}

export function explain(env: CommandEnv): Document {
  const inner = env.cmd.explain;
  if (!isPlainObject(inner)) throw new MongoError(ErrorCodes.TypeMismatch, 'explain requires a command document');
  const name = Object.keys(inner)[0];
  const collName = inner[name];
  if (typeof collName !== 'string') throw new MongoError(ErrorCodes.InvalidNamespace, 'explain needs a collection name');
  validateCollectionName(collName);
  const filter = filterOf(name, inner);
  const matcher = compileFilter(filter);
  const coll = env.engine.store.collection(env.db, collName);
  const plan = coll ? planQuery(coll, filter) : null;
  const stage = !plan ? 'EOF' : plan.stage;
  const winningPlan: Document = plan?.index && stage !== 'COLLSCAN'
    ? { stage: 'FETCH', inputStage: { stage, indexName: plan.index.name, keyPattern: plan.index.spec.key, isMultiKey: plan.index.multikey, isUnique: plan.index.unique, indexBounds: plan.bounds } }
    : { stage, filter };
  const reply: Document = {
    explainVersion: '1',
    queryPlanner: { namespace: `${env.db}.${collName}`, parsedQuery: filter, indexFilterSet: false, winningPlan, rejectedPlans: [] },
    serverInfo: { host: 'embedded', port: 0, version: SERVER_VERSION },
    command: inner,
    ok: 1,
  };
  const verbosity = env.cmd.verbosity ?? 'allPlansExecution';
  if (verbosity !== 'queryPlanner') {
    const access = env.access;
    const started = process.hrtime.bigint();
    const docs = access.find(coll, filter, matcher);
    reply.executionStats = {
      executionSuccess: true,
      nReturned: docs.length,
      executionTimeMillis: Number((process.hrtime.bigint() - started) / 1_000_000n),
      totalKeysExamined: access.keysExamined,
      totalDocsExamined: access.docsExamined,
    };
  }
  return reply;
}
