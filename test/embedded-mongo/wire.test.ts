/**
 * Unit tests of the wire-message layer: parsing, building, framing, and the
 * guarantee that malformed input yields a WireProtocolError and nothing worse.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { BSON, Long } from 'bson';
import {
  HEADER_SIZE, MAX_BSON_INTERNAL_SIZE, MsgFlags, OpCode, WireProtocolError,
  buildOpMsgReply, buildOpReply, crc32c, encodeOpMsg, encodeOpQuery, parseMessage, readHeader,
} from '../../server/embedded-mongo/wire/messages.js';
import { MessageFramer, isLoopbackHost } from '../../server/embedded-mongo/wire/server.js';

/** Rewrites the length field after a test has cut or grown a message. */
function withLength(buf: Buffer): Buffer {
  buf.writeInt32LE(buf.length, 0);
  return buf;
}

function parseError(bytes: Buffer): WireProtocolError {
  try {
    parseMessage(bytes);
  } catch (err) {
    expect(err).to.be.instanceOf(WireProtocolError);
    return err as WireProtocolError;
  }
  expect.fail('parseMessage accepted a malformed message');
}

describe('wire messages', () => {
  describe('OP_MSG', () => {
    it('parses a kind-0 body and the flags', () => {
      const msg = parseMessage(encodeOpMsg({ requestID: 7, body: { ping: 1, $db: 'admin' }, flags: MsgFlags.exhaustAllowed }));
      expect(msg.kind).to.equal('msg');
      if (msg.kind !== 'msg') return;
      expect(msg.header).to.deep.include({ requestID: 7, responseTo: 0, opCode: OpCode.MSG });
      expect(msg.command).to.deep.equal({ ping: 1, $db: 'admin' });
      expect([msg.moreToCome, msg.exhaustAllowed, msg.checksumPresent]).to.deep.equal([false, true, false]);
    });

    it('attaches kind-1 sequences to the body under their identifiers, keeping BSON types', () => {
      const docs = [{ _id: 1, n: new Long(5) }, { _id: 2 }];
      const msg = parseMessage(encodeOpMsg({
        requestID: 1,
        body: { insert: 'c', $db: 'app' },
        sequences: { documents: docs, other: [] },
      }));
      expect(Object.keys(msg.command)).to.deep.equal(['insert', '$db', 'documents', 'other']);
      expect(msg.command.documents).to.have.length(2);
      expect(msg.command.documents[0].n).to.be.instanceOf(Long);
      expect(msg.command.other).to.deep.equal([]);
    });

    it('sets moreToCome', () => {
      const msg = parseMessage(encodeOpMsg({ requestID: 1, body: { endSessions: [] }, flags: MsgFlags.moreToCome }));
      expect(msg.kind === 'msg' && msg.moreToCome).to.equal(true);
    });

    it('accepts a correct CRC-32C and rejects a wrong one as fatal', () => {
      expect(crc32c(Buffer.from('123456789'))).to.equal(0xe3069283); // the standard CRC-32C check value
      const good = encodeOpMsg({ requestID: 3, body: { ping: 1 }, sequences: { documents: [{ a: 1 }] }, checksum: true });
      const msg = parseMessage(good);
      expect(msg.kind === 'msg' && msg.checksumPresent).to.equal(true);
      expect(msg.command).to.deep.equal({ ping: 1, documents: [{ a: 1 }] });
      const bad = Buffer.from(good);
      bad[bad.length - 1] ^= 0xff;
      expect(parseError(bad)).to.include({ code: 288, codeName: 'ChecksumMismatch', fatal: true });
    });

    it('rejects unknown required flag bits but tolerates unknown optional ones', () => {
      expect(parseError(encodeOpMsg({ requestID: 1, body: { ping: 1 }, flags: 1 << 2 })))
        .to.include({ code: 223, codeName: 'IllegalOpMsgFlag', fatal: true });
      expect(parseMessage(encodeOpMsg({ requestID: 1, body: { ping: 1 }, flags: 1 << 20 })).command).to.deep.equal({ ping: 1 });
    });

    it('rejects structural errors with mongod\'s codes, as non-fatal', () => {
      const dupField = encodeOpMsg({ requestID: 1, body: { insert: 'c', documents: [] }, sequences: { documents: [{}] } });
      expect(parseError(dupField)).to.include({ code: 40433, fatal: false });

      const seq = encodeOpMsg({ requestID: 1, body: { x: 1 }, sequences: { documents: [{}] } });
      const seqBytes = seq.subarray(HEADER_SIZE + 4, seq.length - (BSON.serialize({ x: 1 }).length + 1));
      const twice = withLength(Buffer.concat([seq.subarray(0, HEADER_SIZE + 4), seqBytes, seqBytes, seq.subarray(HEADER_SIZE + 4 + seqBytes.length)]));
      expect(parseError(twice).code).to.equal(40431);

      const body = Buffer.concat([Buffer.from([0]), Buffer.from(BSON.serialize({ ping: 1 }))]);
      expect(parseError(withLength(Buffer.concat([seq.subarray(0, HEADER_SIZE + 4), body, body]))).code).to.equal(40430);
      expect(parseError(withLength(Buffer.concat([seq.subarray(0, HEADER_SIZE + 4), seqBytes]))).code).to.equal(40587);
      expect(parseError(withLength(Buffer.concat([seq.subarray(0, HEADER_SIZE + 4), Buffer.from([2, 5, 0, 0, 0, 0])]))).code).to.equal(40432);
    });

    it('rejects truncated sections and a length field that disagrees with the framed size', () => {
      const msg = encodeOpMsg({ requestID: 1, body: { ping: 1 }, sequences: { documents: [{ a: 1 }, { b: 2 }] } });
      for (let cut = HEADER_SIZE; cut < msg.length; cut++) {
        const truncated = withLength(Buffer.from(msg.subarray(0, cut)));
        expect(parseError(truncated), `cut at ${cut}`).to.be.instanceOf(WireProtocolError);
      }
      expect(parseError(msg.subarray(0, msg.length - 1)).fatal).to.equal(true);
    });

    it('rejects invalid BSON as InvalidBSON', () => {
      const msg = encodeOpMsg({ requestID: 1, body: { ping: 1, s: 'x' } });
      const badType = Buffer.from(msg);
      badType[HEADER_SIZE + 5 + 4] = 0x77; // element type byte of `ping`
      expect(parseError(badType)).to.include({ code: 22, codeName: 'InvalidBSON', fatal: false });
      const badLength = Buffer.from(msg);
      badLength.writeInt32LE(1000, HEADER_SIZE + 5);
      expect(parseError(badLength).code).to.equal(22);
      const badUtf8 = Buffer.from(msg);
      badUtf8[badUtf8.length - 3] = 0xff; // inside the string 'x'
      expect(parseError(badUtf8).code).to.equal(22);
    });

    it('rejects a document over 16 MiB + 16 KiB as BSONObjectTooLarge', () => {
      const big = encodeOpMsg({ requestID: 1, body: { insert: 'c' }, sequences: { documents: [{ s: 'x'.repeat(MAX_BSON_INTERNAL_SIZE) }] } });
      expect(parseError(big)).to.include({ code: 10334, codeName: 'BSONObjectTooLarge', fatal: false });
      const fits = encodeOpMsg({ requestID: 1, body: { insert: 'c' }, sequences: { documents: [{ s: 'x'.repeat(MAX_BSON_INTERNAL_SIZE - 100) }] } });
      expect(parseMessage(fits).command.documents[0].s).to.have.length(MAX_BSON_INTERNAL_SIZE - 100);
    });

    it('keeps a "__proto__" sequence as data', () => {
      const msg = parseMessage(encodeOpMsg({ requestID: 1, body: { x: 1 }, sequences: { ['__proto__']: [{ a: 1 }] } }));
      expect(Object.getPrototypeOf(msg.command)).to.equal(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(msg.command, '__proto__')?.value).to.deep.equal([{ a: 1 }]);
    });
  });

  describe('OP_QUERY', () => {
    it('parses the handshake and adds $db from the namespace', () => {
      const msg = parseMessage(encodeOpQuery(9, 'admin.$cmd', { ismaster: 1, helloOk: true }, { x: 1 }));
      expect(msg.kind).to.equal('query');
      if (msg.kind !== 'query') return;
      expect(msg.command).to.deep.equal({ ismaster: 1, helloOk: true, $db: 'admin' });
      expect(msg).to.deep.include({ fullCollectionName: 'admin.$cmd', numberToReturn: -1, returnFieldsSelector: { x: 1 } });
    });

    it('unwraps {$query: ...} and keeps $readPreference', () => {
      const msg = parseMessage(encodeOpQuery(9, 'admin.$cmd', { $query: { hello: 1 }, $readPreference: { mode: 'primaryPreferred' } }));
      expect(msg.command).to.deep.equal({ hello: 1, $readPreference: { mode: 'primaryPreferred' }, $db: 'admin' });
    });

    it('refuses anything but the handshake with UnsupportedOpQueryCommand', () => {
      expect(parseError(encodeOpQuery(1, 'admin.$cmd', { ping: 1 }))).to.include({ code: 352, fatal: false });
      expect(parseError(encodeOpQuery(1, 'app.users', { ismaster: 1 })).code).to.equal(352);
    });
  });

  it('treats OP_COMPRESSED, OP_REPLY and unknown opcodes as fatal', () => {
    for (const opCode of [OpCode.COMPRESSED, OpCode.REPLY, 2002, 0, -1]) {
      const msg = encodeOpMsg({ requestID: 1, body: { ping: 1 } });
      msg.writeInt32LE(opCode, 12);
      expect(parseError(msg).fatal, `opCode ${opCode}`).to.equal(true);
    }
  });

  it('builds OP_MSG and OP_REPLY replies', () => {
    const msg = buildOpMsgReply(5, 9, { ok: 1 });
    expect(readHeader(msg)).to.deep.equal({ messageLength: msg.length, requestID: 5, responseTo: 9, opCode: OpCode.MSG });
    expect(msg.readUInt32LE(HEADER_SIZE)).to.equal(0);
    expect(msg[HEADER_SIZE + 4]).to.equal(0);
    expect(BSON.deserialize(msg.subarray(HEADER_SIZE + 5))).to.deep.equal({ ok: 1 });

    const reply = buildOpReply(6, 10, { ismaster: true, ok: 1 });
    expect(readHeader(reply)).to.deep.equal({ messageLength: reply.length, requestID: 6, responseTo: 10, opCode: OpCode.REPLY });
    expect([reply.readInt32LE(16), reply.readBigInt64LE(20), reply.readInt32LE(28), reply.readInt32LE(32)]).to.deep.equal([0, 0n, 0, 1]);
    expect(BSON.deserialize(reply.subarray(36))).to.deep.equal({ ismaster: true, ok: 1 });
  });

  it('never throws anything but WireProtocolError, for random bytes or mutated messages', () => {
    const valid = encodeOpMsg({ requestID: 1, body: { insert: 'c', $db: 'd' }, sequences: { documents: [{ a: [1, { b: 'x' }] }] } });
    const check = (bytes: Buffer) => {
      try {
        parseMessage(bytes);
      } catch (err) {
        if (!(err instanceof WireProtocolError)) throw err;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 200 }), (bytes) => check(withLength(Buffer.from(bytes)))), { numRuns: 2000 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const bytes = Buffer.from(valid);
      for (const [at, value] of edits) bytes[at] = value;
      check(bytes);
    }), { numRuns: 3000 });
  });
});

describe('MessageFramer', () => {
  const a = encodeOpMsg({ requestID: 1, body: { ping: 1 } });
  const b = encodeOpMsg({ requestID: 2, body: { hello: 1, s: 'y'.repeat(300) } });

  it('reassembles messages split into single bytes', () => {
    const framer = new MessageFramer();
    const out: Buffer[] = [];
    for (const byte of Buffer.concat([a, b])) out.push(...framer.push(Buffer.from([byte])));
    expect(out.map((m) => readHeader(m).requestID)).to.deep.equal([1, 2]);
    expect(Buffer.concat(out).equals(Buffer.concat([a, b]))).to.equal(true);
  });

  it('splits several messages delivered in one chunk, keeping a partial tail', () => {
    const framer = new MessageFramer();
    const all = Buffer.concat([a, b, a]);
    const first = framer.push(all.subarray(0, a.length + b.length + 3));
    expect(first.map((m) => readHeader(m).requestID)).to.deep.equal([1, 2]);
    expect(framer.push(all.subarray(a.length + b.length + 3)).map((m) => m.equals(a))).to.deep.equal([true]);
  });

  it('rejects lengths under 16 or over 48,000,000 before buffering them', () => {
    for (const length of [0, 15, -5, 48_000_001, 0x7fffffff]) {
      const head = Buffer.alloc(4);
      head.writeInt32LE(length, 0);
      expect(() => new MessageFramer().push(head), `length ${length}`).to.throw(WireProtocolError, /outside/);
    }
    const edge = Buffer.alloc(4);
    edge.writeInt32LE(48_000_000, 0);
    expect(new MessageFramer().push(edge)).to.deep.equal([]);
  });
});

describe('isLoopbackHost', () => {
  it('accepts loopback spellings only', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      expect(isLoopbackHost(host), host).to.equal(true);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', 'example.com', 'localhost.evil.com', '']) {
      expect(isLoopbackHost(host), host).to.equal(false);
    }
  });
});
