/**
 * Integration tests of WireServer: the real mongodb driver against a fake
 * command handler, plus raw sockets for what a driver would never send.
 */
import { expect } from 'chai';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { BSON } from 'bson';
import { MongoClient, MongoServerError } from 'mongodb';
import { ErrorCodes, MongoError } from '../../server/embedded-mongo/errors.js';
import {
  HEADER_SIZE, MAX_BSON_INTERNAL_SIZE, MsgFlags, OpCode, encodeOpMsg, encodeOpQuery, parseMessage, readHeader,
} from '../../server/embedded-mongo/wire/messages.js';
import { MessageFramer, WireServer, type CommandContext } from '../../server/embedded-mongo/wire/server.js';
import type { Document } from '../../server/embedded-mongo/bson-values.js';

type Seen = { command: Document; ctx: CommandContext; start: number; end?: number };

/** Answers the handshake like the real handler will; a few test commands; echoes the rest. */
async function fakeHandler(seen: Seen[], command: Document, ctx: CommandContext): Promise<Document> {
  const entry: Seen = { command, ctx, start: Date.now() };
  seen.push(entry);
  try {
    const name = Object.keys(command)[0];
    if (name === 'ismaster' || name === 'isMaster' || name === 'hello') {
      return {
        ...(name === 'hello' ? { isWritablePrimary: true } : { ismaster: true }),
        helloOk: true, maxBsonObjectSize: 16777216, maxMessageSizeBytes: 48000000, maxWriteBatchSize: 100000,
        localTime: new Date(), connectionId: ctx.connectionId, minWireVersion: 0, maxWireVersion: 21,
        logicalSessionTimeoutMinutes: 30, readOnly: false, ok: 1,
      };
    }
    if (name === 'insert') return { n: command.documents.length, ok: 1 };
    if (name === 'sleep') await delay(command.sleep);
    if (name === 'failMongo') throw new MongoError(ErrorCodes.BadValue, 'bad value from handler');
    if (name === 'failPlain') throw new TypeError('handler bug');
    return { echo: command, ok: 1 };
  } finally {
    entry.end = Date.now();
  }
}

/** A socket speaking raw wire bytes, collecting framed replies. */
class RawClient {
  readonly replies: Buffer[] = [];
  readonly closed: Promise<void>;
  private readonly framer = new MessageFramer();
  private wake: () => void = () => {};

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => { this.replies.push(...this.framer.push(chunk)); this.wake(); });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => { resolve(); this.wake(); }));
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket);
  }

  /** Resolves with the next reply as {requestID, responseTo, opCode, doc}; fails on close or timeout. */
  async next(timeoutMs = 3000): Promise<{ responseTo: number; requestID: number; opCode: number; doc: Document }> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.socket.destroyed) throw new Error('connection closed without a reply');
      if (Date.now() > deadline) throw new Error('no reply');
      await Promise.race([new Promise<void>((resolve) => { this.wake = resolve; }), delay(50)]);
    }
    const raw = this.replies.shift()!;
    const header = readHeader(raw);
    const doc = BSON.deserialize(raw.subarray(header.opCode === OpCode.REPLY ? HEADER_SIZE + 20 : HEADER_SIZE + 5));
    return { ...header, doc };
  }

  async expectClosed(): Promise<void> {
    await Promise.race([this.closed, delay(3000).then(() => { throw new Error('connection was not closed'); })]);
  }
}

const ping = (requestID: number, flags = 0) => encodeOpMsg({ requestID, flags, body: { ping: 1, $db: 'admin' } });

describe('WireServer', () => {
  let server: WireServer;
  let seen: Seen[];
  let closedIds: number[];
  let logs: Array<[string, string, unknown[]]>;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).to.deep.equal([]);
  });

  beforeEach(async () => {
    seen = [];
    closedIds = [];
    logs = [];
    const log = (level: string) => (message: string, ...details: unknown[]) => logs.push([level, message, details]);
    server = await WireServer.listen({
      handler: (command, ctx) => fakeHandler(seen, command, ctx),
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
      onConnectionClosed: (id) => closedIds.push(id),
    });
  });
  afterEach(() => server.close());

  async function expectServesDriver(): Promise<void> {
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 3000 });
    try {
      expect(await client.db('admin').command({ ping: 1 })).to.deep.include({ ok: 1 });
    } finally {
      await client.close();
    }
  }

  it('listens on an ephemeral loopback port and refuses anything but loopback', async () => {
    expect(server.port).to.be.greaterThan(0);
    expect(server.host).to.equal('127.0.0.1');
    expect(server.uri).to.equal(`mongodb://127.0.0.1:${server.port}/`);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      let error: unknown;
      await WireServer.listen({ host, handler: async () => ({ ok: 1 }) }).catch((err) => { error = err; });
      expect(error, host).to.be.instanceOf(Error).with.property('message').that.matches(/no authentication/);
    }
  });

  it('serves the real driver: handshake, ping, insertMany with a kind-1 sequence, endSessions with moreToCome', async () => {
    // A tap between driver and server records every frame, to see flags and which requests got replies.
    const requests: Array<{ requestID: number; flags: number; name: string }> = [];
    const responseTos: number[] = [];
    const tap = net.createServer((down) => {
      const up = net.connect(server.port, '127.0.0.1');
      const fromClient = new MessageFramer();
      const fromServer = new MessageFramer();
      down.on('data', (chunk: Buffer) => {
        for (const raw of fromClient.push(chunk)) {
          const msg = parseMessage(raw);
          requests.push({ requestID: msg.header.requestID, flags: msg.flags, name: Object.keys(msg.command)[0] });
        }
        up.write(chunk);
      });
      up.on('data', (chunk: Buffer) => {
        for (const raw of fromServer.push(chunk)) responseTos.push(readHeader(raw).responseTo);
        down.write(chunk);
      });
      down.on('close', () => up.end()).on('error', () => {});
      up.on('close', () => down.end()).on('error', () => {});
    });
    await new Promise<void>((resolve) => tap.listen(0, '127.0.0.1', resolve));
    const client = new MongoClient(`mongodb://127.0.0.1:${(tap.address() as net.AddressInfo).port}/`, { serverSelectionTimeoutMS: 3000 });
    try {
      expect(await client.db('admin').command({ ping: 1 })).to.deep.include({ ok: 1 });
      const result = await client.db('app').collection('users').insertMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
      expect(result.insertedCount).to.equal(3);
      await client.close();
      for (let i = 0; i < 100 && server.connectionCount > 0; i++) await delay(20);
    } finally {
      await client.close();
      tap.close();
    }

    const handshakes = seen.filter((s) => 'ismaster' in s.command);
    expect(handshakes).to.have.length.greaterThan(0);
    expect(handshakes.every((s) => s.ctx.legacy && s.command.$db === 'admin')).to.equal(true);
    const insert = seen.find((s) => 'insert' in s.command)!;
    expect(insert.ctx.legacy).to.equal(false);
    expect(insert.command).to.include({ insert: 'users', $db: 'app' });
    expect(insert.command.documents.map((d: Document) => d.a)).to.deep.equal([1, 2, 3]);
    expect(requests.find((r) => r.name === 'insert')!.flags & MsgFlags.moreToCome).to.equal(0);

    expect(seen.some((s) => 'endSessions' in s.command)).to.equal(true);
    const endSessions = requests.filter((r) => r.name === 'endSessions');
    expect(endSessions).to.have.length.greaterThan(0);
    for (const r of endSessions) {
      expect(r.flags & MsgFlags.moreToCome, 'endSessions flags').to.equal(MsgFlags.moreToCome);
      expect(responseTos, 'reply to endSessions').to.not.include(r.requestID);
    }
    // Every other request was answered exactly once.
    const answered = requests.filter((r) => !(r.flags & MsgFlags.moreToCome)).map((r) => r.requestID).sort();
    expect([...responseTos].sort()).to.deep.equal(answered);
    expect(server.connectionCount).to.equal(0);
    expect(closedIds.sort()).to.deep.equal([...new Set(seen.map((s) => s.ctx.connectionId))].sort());
    expect(logs.filter(([level]) => level !== 'info')).to.deep.equal([]);
  });

  it('turns handler failures into error replies', async () => {
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 3000 });
    try {
      const mongo = await client.db('x').command({ failMongo: 1 }).catch((err) => err);
      expect(mongo).to.be.instanceOf(MongoServerError).and.include({ code: 2, codeName: 'BadValue', message: 'bad value from handler' });
      const plain = await client.db('x').command({ failPlain: 1 }).catch((err) => err);
      expect(plain).to.be.instanceOf(MongoServerError).and.include({ code: 1, codeName: 'InternalError', message: 'handler bug' });
      expect(await client.db('x').command({ ping: 1 })).to.deep.include({ ok: 1 });
    } finally {
      await client.close();
    }
    const errors = logs.filter(([level]) => level === 'error');
    expect(errors).to.have.length(1);
    expect((errors[0][2][0] as Error).stack).to.match(/handler bug/);
  });

  it('reassembles split frames and answers coalesced ones in order', async () => {
    const raw = await RawClient.connect(server.port);
    const hello = encodeOpQuery(11, 'admin.$cmd', { ismaster: 1, helloOk: true });
    for (const piece of [hello.subarray(0, 3), hello.subarray(3, 20), hello.subarray(20)]) {
      raw.socket.write(piece);
      await delay(30);
    }
    const handshake = await raw.next();
    expect(handshake).to.deep.include({ responseTo: 11, opCode: OpCode.REPLY });
    expect(handshake.doc).to.include({ ismaster: true, ok: 1 });

    raw.socket.write(Buffer.concat([ping(21), encodeOpMsg({ requestID: 22, body: { sleep: 80 } }), ping(23)]));
    const replies = [await raw.next(), await raw.next(), await raw.next()];
    expect(replies.map((r) => r.responseTo)).to.deep.equal([21, 22, 23]);
    expect(replies.every((r) => r.opCode === OpCode.MSG && r.requestID > handshake.requestID)).to.equal(true);
    expect(replies[0].requestID < replies[1].requestID && replies[1].requestID < replies[2].requestID).to.equal(true);
    // Strictly sequential: the ping after the sleep started only once the sleep finished.
    expect(seen[3].start).to.be.at.least(seen[2].end!);
    raw.socket.destroy();
  });

  it('runs different connections concurrently', async () => {
    const [slow, fast] = [await RawClient.connect(server.port), await RawClient.connect(server.port)];
    slow.socket.write(encodeOpMsg({ requestID: 1, body: { sleep: 300 } }));
    await delay(20);
    fast.socket.write(ping(2));
    expect((await fast.next()).responseTo).to.equal(2);
    expect(slow.replies).to.have.length(0);
    expect((await slow.next()).responseTo).to.equal(1);
    const ids = seen.map((s) => s.ctx.connectionId);
    expect(ids[0]).to.not.equal(ids[1]);
    slow.socket.destroy();
    fast.socket.destroy();
  });

  it('runs but never answers a moreToCome request, and the connection stays usable', async () => {
    const raw = await RawClient.connect(server.port);
    raw.socket.write(encodeOpMsg({ requestID: 31, flags: MsgFlags.moreToCome, body: { endSessions: [], $db: 'admin' } }));
    raw.socket.write(encodeOpMsg({ requestID: 32, flags: MsgFlags.moreToCome, body: { failPlain: 1 } }));
    raw.socket.write(ping(33));
    expect((await raw.next()).responseTo).to.equal(33);
    await delay(50);
    expect(raw.replies).to.have.length(0);
    expect(seen.map((s) => Object.keys(s.command)[0])).to.deep.equal(['endSessions', 'failPlain', 'ping']);
    raw.socket.destroy();
    await raw.closed;
    for (let i = 0; i < 50 && closedIds.length === 0; i++) await delay(10);
    expect(closedIds).to.deep.equal([seen[0].ctx.connectionId]);
  });

  it('answers unparseable but framed requests with an error and keeps the connection', async () => {
    const raw = await RawClient.connect(server.port);
    const badBson = ping(41);
    badBson[HEADER_SIZE + 5 + 4] = 0x77;
    raw.socket.write(badBson);
    const invalid = await raw.next();
    expect(invalid).to.deep.include({ responseTo: 41, opCode: OpCode.MSG });
    expect(invalid.doc).to.include({ ok: 0, code: 22, codeName: 'InvalidBSON' });
    raw.socket.write(ping(42));
    expect((await raw.next()).doc).to.include({ ok: 1 });

    raw.socket.write(encodeOpQuery(43, 'admin.$cmd', { find: 'users' }));
    const legacy = await raw.next();
    expect(legacy).to.deep.include({ responseTo: 43, opCode: OpCode.REPLY });
    expect(legacy.doc).to.include({ ok: 0, code: 352 });

    raw.socket.write(encodeOpMsg({ requestID: 44, body: { insert: 'c' }, sequences: { documents: [{ s: 'x'.repeat(MAX_BSON_INTERNAL_SIZE) }] } }));
    expect((await raw.next(10_000)).doc).to.include({ ok: 0, code: 10334, codeName: 'BSONObjectTooLarge' });
    raw.socket.write(ping(45));
    expect((await raw.next()).responseTo).to.equal(45);
    raw.socket.destroy();
    expect(seen.map((s) => Object.keys(s.command)[0])).to.deep.equal(['ping', 'ping']);
  });

  it('closes the connection on garbage, bad lengths, unknown opcodes, and bad moreToCome requests, and keeps serving', async () => {
    const badMoreToCome = ping(5, MsgFlags.moreToCome);
    badMoreToCome[HEADER_SIZE + 5 + 4] = 0x77;
    const unknownOp = ping(6);
    unknownOp.writeInt32LE(2005, 12);
    const tooShort = Buffer.alloc(16);
    tooShort.writeInt32LE(8, 0);
    const tooLong = Buffer.alloc(16);
    tooLong.writeInt32LE(48_000_001, 0);
    const inputs = {
      http: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), tooShort, tooLong, unknownOp, badMoreToCome,
      badFlags: ping(7, 1 << 3), badChecksum: Buffer.concat([ping(8, MsgFlags.checksumPresent), Buffer.alloc(4)]),
    };
    inputs.badChecksum.writeInt32LE(inputs.badChecksum.length, 0);
    for (const [name, bytes] of Object.entries(inputs)) {
      const raw = await RawClient.connect(server.port);
      raw.socket.write(bytes);
      await raw.expectClosed().catch((err) => { throw new Error(`${name}: ${err.message}`); });
      expect(raw.replies, name).to.have.length(0);
    }
    expect(logs.filter(([level]) => level === 'warn')).to.have.length(Object.keys(inputs).length);
    expect(logs.some(([, message]) => /48000001 is outside/.test(message))).to.equal(true);
    expect(seen).to.deep.equal([]);
    await expectServesDriver();
  });

  it('close() lets the command in flight answer, then closes every connection and stops listening', async () => {
    const raw = await RawClient.connect(server.port);
    raw.socket.write(encodeOpMsg({ requestID: 51, body: { sleep: 150 } }));
    await delay(30);
    const idle = await RawClient.connect(server.port);
    await delay(30);
    expect(server.connectionCount).to.equal(2);
    await server.close();
    expect(seen[0].end).to.be.a('number');
    expect((await raw.next()).responseTo).to.equal(51);
    await Promise.all([raw.expectClosed(), idle.expectClosed()]);
    expect(server.connectionCount).to.equal(0);
    expect(closedIds.sort()).to.deep.equal([1, 2]);
    const refused = await RawClient.connect(server.port).then(() => false, () => true);
    expect(refused).to.equal(true);
  });
});
