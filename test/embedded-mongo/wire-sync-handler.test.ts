/**
 * WireServer with a handler that answers some commands synchronously, as the
 * store's router does for reads: those replies go out without a promise round
 * trip, and must still come back strictly in request order, interleaved with
 * asynchronous ones, with synchronous throws turned into error replies.
 */
import { expect } from 'chai';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { BSON } from 'bson';
import type { Document } from '../../server/embedded-mongo/bson-values.js';
import { ErrorCodes, MongoError } from '../../server/embedded-mongo/errors.js';
import { HEADER_SIZE, encodeOpMsg, readHeader } from '../../server/embedded-mongo/wire/messages.js';
import { MessageFramer, WireServer } from '../../server/embedded-mongo/wire/server.js';

function handler(order: string[]) {
  return (command: Document): Document | Promise<Document> => {
    const name = Object.keys(command)[0];
    order.push(`start ${command.n}`);
    if (name === 'slow') {
      return delay(60).then(() => {
        order.push(`end ${command.n}`);
        return { n: command.n, async: true, ok: 1 };
      });
    }
    if (name === 'failSync') throw new MongoError(ErrorCodes.BadValue, `sync failure ${command.n}`);
    if (name === 'notADocument') return 42 as unknown as Document;
    order.push(`end ${command.n}`);
    return { n: command.n, ok: 1 };
  };
}

/** Sends all requests in one write and collects `count` replies as documents. */
async function exchange(port: number, requests: Buffer[], count: number): Promise<Array<{ responseTo: number; doc: Document }>> {
  const socket = net.connect(port, '127.0.0.1');
  const framer = new MessageFramer();
  const replies: Array<{ responseTo: number; doc: Document }> = [];
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      for (const raw of framer.push(chunk)) replies.push({ responseTo: readHeader(raw).responseTo, doc: BSON.deserialize(raw.subarray(HEADER_SIZE + 5)) });
      if (replies.length >= count) resolve();
    });
    socket.on('error', reject);
    setTimeout(() => reject(new Error(`only ${replies.length} of ${count} replies`)), 3000).unref();
  });
  socket.write(Buffer.concat(requests));
  await done;
  socket.destroy();
  return replies;
}

describe('WireServer with synchronous replies', () => {
  let server: WireServer;
  let order: string[];
  const errors: string[] = [];

  beforeEach(async () => {
    order = [];
    errors.length = 0;
    const log = () => {};
    server = await WireServer.listen({ handler: handler(order), logger: { info: log, warn: log, error: (m: string) => errors.push(m) } });
  });
  afterEach(() => server.close());

  it('answers pipelined synchronous and asynchronous commands in order, one at a time', async () => {
    const body = (name: string, n: number) => encodeOpMsg({ requestID: n, body: { [name]: 1, n, $db: 'x' } });
    const replies = await exchange(server.port, [body('ping', 1), body('slow', 2), body('ping', 3), body('slow', 4), body('ping', 5)], 5);
    expect(replies.map((r) => r.responseTo)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(replies.map((r) => r.doc.n)).to.deep.equal([1, 2, 3, 4, 5]);
    // A command starts only after the one before it ended, even when it could answer at once.
    expect(order).to.deep.equal(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3', 'start 4', 'end 4', 'start 5', 'end 5']);
  });

  it('turns a synchronous throw or a non-document into an error reply and keeps serving', async () => {
    const body = (name: string, n: number) => encodeOpMsg({ requestID: n, body: { [name]: 1, n, $db: 'x' } });
    const replies = await exchange(server.port, [body('failSync', 1), body('notADocument', 2), body('ping', 3)], 3);
    expect(replies[0].doc).to.include({ ok: 0, code: ErrorCodes.BadValue, errmsg: 'sync failure 1' });
    expect(replies[1].doc).to.include({ ok: 0, code: 1, codeName: 'InternalError' });
    expect(replies[2].doc).to.include({ ok: 1, n: 3 });
    expect(errors).to.have.length(1);
  });
});
