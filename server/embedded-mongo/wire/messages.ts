/**
 * MongoDB wire messages: framing, parsing of requests, building of replies.
 *
 * Only what the Node driver speaks is accepted: OP_MSG for every command and
 * OP_QUERY for the connection handshake. A parse failure is a
 * `WireProtocolError`; its `fatal` flag tells the server whether to answer
 * with an error reply (the message was framed and its requestID is known) or
 * to drop the connection, as mongod does for its "ConnectionFatalMessageParse"
 * errors (illegal flags, checksum mismatch) and for undecodable framing.
 */
import { decodeDocument, encodeDocument, type Document } from '../bson-values.js';

export const OpCode = { REPLY: 1, QUERY: 2004, COMPRESSED: 2012, MSG: 2013 } as const;

export const HEADER_SIZE = 16;
/** maxMessageSizeBytes advertised in the handshake. */
export const MAX_MESSAGE_SIZE = 48_000_000;
/** maxBsonObjectSize advertised in the handshake. */
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
/** mongod accepts documents slightly over the user limit so that commands wrapping a maximal document still fit. */
export const MAX_BSON_INTERNAL_SIZE = MAX_BSON_OBJECT_SIZE + 16 * 1024;

export const MsgFlags = { checksumPresent: 1 << 0, moreToCome: 1 << 1, exhaustAllowed: 1 << 16 } as const;
/** Bits 0-15 are "required": a receiver that does not know one must reject the message. */
const REQUIRED_FLAG_MASK = 0xffff;
const KNOWN_FLAGS = MsgFlags.checksumPresent | MsgFlags.moreToCome;

/** The legacy OP_QUERY commands mongod still accepts (everything else is UnsupportedOpQueryCommand). */
const LEGACY_HANDSHAKE_COMMANDS = new Set(['ismaster', 'isMaster', 'hello']);

/** A request that could not be parsed. `fatal` means: close the connection instead of replying. */
export class WireProtocolError extends Error {
  constructor(message: string, readonly code: number, readonly codeName: string, readonly fatal = false) {
    super(message);
    this.name = 'WireProtocolError';
  }

  toReply(): Document {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName };
  }
}

const protocolError = (message: string) => new WireProtocolError(message, 17, 'ProtocolError');
const invalidBson = (message: string) => new WireProtocolError(message, 22, 'InvalidBSON');
/** Malformed OP_MSG structure, with mongod's own assertion numbers so errors look familiar. */
const opMsgError = (code: number, message: string) => new WireProtocolError(message, code, `Location${code}`);

export interface MessageHeader { messageLength: number; requestID: number; responseTo: number; opCode: number }

export interface OpMsgRequest {
  kind: 'msg';
  header: MessageHeader;
  flags: number;
  moreToCome: boolean;
  exhaustAllowed: boolean;
  checksumPresent: boolean;
  /** The body with every kind-1 document sequence attached as an array field. */
  command: Document;
}

export interface OpQueryRequest {
  kind: 'query';
  header: MessageHeader;
  flags: number;
  fullCollectionName: string;
  numberToSkip: number;
  numberToReturn: number;
  /** The query, unwrapped from `{$query: ...}`, with `$db` taken from the namespace. */
  command: Document;
  returnFieldsSelector?: Document;
}

export type WireRequest = OpMsgRequest | OpQueryRequest;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function readHeader(bytes: Uint8Array): MessageHeader {
  const buf = asBuffer(bytes);
  if (buf.length < HEADER_SIZE) throw new WireProtocolError(`message of ${buf.length} bytes is shorter than its header`, 17, 'ProtocolError', true);
  return {
    messageLength: buf.readInt32LE(0),
    requestID: buf.readInt32LE(4),
    responseTo: buf.readInt32LE(8),
    opCode: buf.readInt32LE(12),
  };
}

/** True when an OP_MSG asks for no reply; used to decide how to report its parse errors. */
export function isMoreToCome(bytes: Uint8Array): boolean {
  const buf = asBuffer(bytes);
  return buf.length >= HEADER_SIZE + 4 && buf.readInt32LE(12) === OpCode.MSG
    && (buf.readUInt32LE(HEADER_SIZE) & MsgFlags.moreToCome) !== 0;
}

/** Parses one complete, framed message. Throws `WireProtocolError` and nothing else. */
export function parseMessage(bytes: Uint8Array): WireRequest {
  const buf = asBuffer(bytes);
  const header = readHeader(buf);
  if (header.messageLength !== buf.length) {
    throw new WireProtocolError(`message length field says ${header.messageLength} bytes but ${buf.length} were framed`, 17, 'ProtocolError', true);
  }
  switch (header.opCode) {
    case OpCode.MSG: return parseOpMsg(buf, header);
    case OpCode.QUERY: return parseOpQuery(buf, header);
    case OpCode.COMPRESSED:
      throw new WireProtocolError('OP_COMPRESSED received, but no compression was negotiated', 17, 'ProtocolError', true);
    default:
      throw new WireProtocolError(`unsupported opCode ${header.opCode}`, 17, 'ProtocolError', true);
  }
}

/** Reads one BSON document that must lie within [offset, end). */
function readDocument(buf: Buffer, offset: number, end: number, what: string): { doc: Document; next: number } {
  if (end - offset < 5) throw invalidBson(`${what}: truncated BSON document`);
  const size = buf.readInt32LE(offset);
  if (size < 5 || size > end - offset) throw invalidBson(`${what}: BSON document length ${size} does not fit in the ${end - offset} bytes left`);
  if (size > MAX_BSON_INTERNAL_SIZE) {
    throw new WireProtocolError(`${what}: BSONObj size: ${size} (0x${size.toString(16)}) is invalid. Size must be between 0 and ${MAX_BSON_INTERNAL_SIZE}`, 10334, 'BSONObjectTooLarge');
  }
  try {
    return { doc: decodeDocument(buf.subarray(offset, offset + size)), next: offset + size };
  } catch (err) {
    // bson throws BSONError for bad input, but a deeply nested document can also overflow the stack.
    throw invalidBson(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function readCString(buf: Buffer, offset: number, end: number, what: string): { value: string; next: number } {
  const nul = buf.indexOf(0, offset);
  if (nul < 0 || nul >= end) throw protocolError(`${what}: unterminated string`);
  return { value: buf.toString('utf8', offset, nul), next: nul + 1 };
}

function parseOpMsg(buf: Buffer, header: MessageHeader): OpMsgRequest {
  if (buf.length < HEADER_SIZE + 5) throw protocolError('OP_MSG is too short to hold flags and a section');
  const flags = buf.readUInt32LE(HEADER_SIZE);
  if (flags & REQUIRED_FLAG_MASK & ~KNOWN_FLAGS) {
    throw new WireProtocolError(`Message contains illegal flags value: 0b${flags.toString(2).padStart(32, '0')}`, 223, 'IllegalOpMsgFlag', true);
  }
  const checksumPresent = (flags & MsgFlags.checksumPresent) !== 0;
  let end = buf.length;
  if (checksumPresent) {
    end -= 4;
    if (end < HEADER_SIZE + 5) throw protocolError('OP_MSG is too short to hold its checksum');
    if (buf.readUInt32LE(end) !== crc32c(buf, 0, end)) {
      throw new WireProtocolError('OP_MSG checksum does not match contents', 288, 'ChecksumMismatch', true);
    }
  }

  let body: Document | undefined;
  const sequences = new Map<string, Document[]>();
  let offset = HEADER_SIZE + 4;
  while (offset < end) {
    const kind = buf[offset++];
    if (kind === 0) {
      if (body) throw opMsgError(40430, 'Multiple body sections in message');
      const read = readDocument(buf, offset, end, 'OP_MSG body');
      body = read.doc;
      offset = read.next;
    } else if (kind === 1) {
      if (end - offset < 4) throw protocolError('OP_MSG document sequence: truncated size');
      const size = buf.readInt32LE(offset);
      if (size < 5 || size > end - offset) throw protocolError(`OP_MSG document sequence: size ${size} does not fit in the ${end - offset} bytes left`);
      const seqEnd = offset + size;
      const name = readCString(buf, offset + 4, seqEnd, 'OP_MSG document sequence identifier');
      if (sequences.has(name.value)) throw opMsgError(40431, `Duplicate document sequence: ${name.value}`);
      const docs: Document[] = [];
      for (let pos = name.next; pos < seqEnd;) {
        const read = readDocument(buf, pos, seqEnd, `OP_MSG document sequence ${name.value}[${docs.length}]`);
        docs.push(read.doc);
        pos = read.next;
      }
      sequences.set(name.value, docs);
      offset = seqEnd;
    } else {
      throw opMsgError(40432, `Unknown section kind ${kind}`);
    }
  }
  if (!body) throw opMsgError(40587, 'OP_MSG messages must have a body');
  // Sequences are attached as top-level fields; drivers only use plain names (documents, updates, deletes, ops, nsInfo).
  for (const [name, docs] of sequences) {
    if (Object.hasOwn(body, name)) throw opMsgError(40433, `Duplicate field between body and document sequence ${name}`);
    // defineProperty, not assignment: an identifier of "__proto__" must become data, not a prototype.
    Object.defineProperty(body, name, { value: docs, enumerable: true, writable: true, configurable: true });
  }
  return {
    kind: 'msg', header, flags, checksumPresent, command: body,
    moreToCome: (flags & MsgFlags.moreToCome) !== 0,
    exhaustAllowed: (flags & MsgFlags.exhaustAllowed) !== 0,
  };
}

function parseOpQuery(buf: Buffer, header: MessageHeader): OpQueryRequest {
  const end = buf.length;
  if (end < HEADER_SIZE + 4) throw protocolError('OP_QUERY is too short to hold its flags');
  const flags = buf.readInt32LE(HEADER_SIZE);
  const ns = readCString(buf, HEADER_SIZE + 4, end, 'OP_QUERY fullCollectionName');
  if (end - ns.next < 8) throw protocolError('OP_QUERY is too short to hold numberToSkip and numberToReturn');
  const numberToSkip = buf.readInt32LE(ns.next);
  const numberToReturn = buf.readInt32LE(ns.next + 4);
  const query = readDocument(buf, ns.next + 8, end, 'OP_QUERY query');
  let returnFieldsSelector: Document | undefined;
  if (query.next < end) {
    const read = readDocument(buf, query.next, end, 'OP_QUERY returnFieldsSelector');
    if (read.next !== end) throw protocolError('OP_QUERY has trailing bytes after returnFieldsSelector');
    returnFieldsSelector = read.doc;
  }

  // Drivers wrap the command as {$query: cmd, $readPreference: ...} when they add a read preference.
  const wrapped = query.doc.$query;
  const command: Document = wrapped !== null && typeof wrapped === 'object' && !Array.isArray(wrapped)
    ? { ...(wrapped as Document) } : query.doc;
  if (command !== query.doc && query.doc.$readPreference !== undefined && command.$readPreference === undefined) {
    command.$readPreference = query.doc.$readPreference;
  }
  const commandName = Object.keys(command)[0] ?? '';
  const dot = ns.value.indexOf('.');
  if (dot <= 0 || ns.value.slice(dot + 1) !== '$cmd' || !LEGACY_HANDSHAKE_COMMANDS.has(commandName)) {
    throw new WireProtocolError(
      `Unsupported OP_QUERY command: ${commandName || '(none)'} on ${ns.value}. The client driver may require an upgrade.`,
      352, 'UnsupportedOpQueryCommand');
  }
  // Give the handler the same shape as an OP_MSG command, which always carries $db.
  if (command.$db === undefined) command.$db = ns.value.slice(0, dot);
  return { kind: 'query', header, flags, fullCollectionName: ns.value, numberToSkip, numberToReturn, command, returnFieldsSelector };
}

export interface OpMsgParts {
  requestID: number;
  responseTo?: number;
  flags?: number;
  body: Document;
  /** Kind-1 sections, written before the body (as the driver does). */
  sequences?: Record<string, Document[]>;
  /** Append a CRC-32C and set the checksumPresent flag. */
  checksum?: boolean;
}

/** Builds an OP_MSG. Replies use only `body`; requests (tests, tools) may add sequences and a checksum. */
export function encodeOpMsg(parts: OpMsgParts): Buffer {
  const pieces: Buffer[] = [];
  for (const [name, docs] of Object.entries(parts.sequences ?? {})) {
    const encoded = docs.map((d) => encodeDocument(d));
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const size = 4 + nameBytes.length + encoded.reduce((n, d) => n + d.length, 0);
    const head = Buffer.alloc(5);
    head[0] = 1;
    head.writeInt32LE(size, 1);
    pieces.push(head, nameBytes, ...encoded.map((d) => asBuffer(d)));
  }
  pieces.push(Buffer.from([0]), asBuffer(encodeDocument(parts.body)));
  const flags = ((parts.flags ?? 0) | (parts.checksum ? MsgFlags.checksumPresent : 0)) >>> 0;
  const sections = Buffer.concat(pieces);
  const length = HEADER_SIZE + 4 + sections.length + (parts.checksum ? 4 : 0);
  const out = Buffer.alloc(length);
  writeHeader(out, length, parts.requestID, parts.responseTo ?? 0, OpCode.MSG);
  out.writeUInt32LE(flags, HEADER_SIZE);
  sections.copy(out, HEADER_SIZE + 4);
  if (parts.checksum) out.writeUInt32LE(crc32c(out, 0, length - 4), length - 4);
  return out;
}

/** A legacy OP_QUERY, as drivers send the handshake (tests and tools; the server only parses them). */
export function encodeOpQuery(requestID: number, fullCollectionName: string, query: Document, fields?: Document): Buffer {
  const ns = Buffer.from(`${fullCollectionName}\0`, 'utf8');
  const docs = [query, ...(fields ? [fields] : [])].map((d) => asBuffer(encodeDocument(d)));
  const length = HEADER_SIZE + 4 + ns.length + 8 + docs.reduce((n, d) => n + d.length, 0);
  const out = Buffer.alloc(length);
  writeHeader(out, length, requestID, 0, OpCode.QUERY);
  ns.copy(out, HEADER_SIZE + 4); // flags stay 0
  out.writeInt32LE(-1, HEADER_SIZE + 4 + ns.length + 4); // numberToReturn -1: one reply document, no cursor
  Buffer.concat(docs).copy(out, HEADER_SIZE + 4 + ns.length + 8);
  return out;
}

/** An OP_MSG reply around an already-encoded body (flags 0, one kind-0 section). */
export function frameOpMsgReply(requestID: number, responseTo: number, body: Uint8Array): Buffer {
  const length = HEADER_SIZE + 4 + 1 + body.length;
  // Every byte is written below, so the zero-fill of Buffer.alloc would be wasted on each reply.
  const out = Buffer.allocUnsafe(length);
  writeHeader(out, length, requestID, responseTo, OpCode.MSG);
  out.writeUInt32LE(0, HEADER_SIZE);
  out[HEADER_SIZE + 4] = 0;
  out.set(body, HEADER_SIZE + 5);
  return out;
}

/** An OP_REPLY around an already-encoded document: the answer to a legacy OP_QUERY handshake. */
export function frameOpReply(requestID: number, responseTo: number, doc: Uint8Array): Buffer {
  const length = HEADER_SIZE + 20 + doc.length;
  const out = Buffer.allocUnsafe(length); // every byte is written below
  writeHeader(out, length, requestID, responseTo, OpCode.REPLY);
  out.writeInt32LE(0, HEADER_SIZE); // responseFlags
  out.writeBigInt64LE(0n, HEADER_SIZE + 4); // cursorID: a command reply never opens a legacy cursor
  out.writeInt32LE(0, HEADER_SIZE + 12); // startingFrom
  out.writeInt32LE(1, HEADER_SIZE + 16); // numberReturned
  out.set(doc, HEADER_SIZE + 20);
  return out;
}

export const buildOpMsgReply = (requestID: number, responseTo: number, doc: Document): Buffer =>
  frameOpMsgReply(requestID, responseTo, encodeDocument(doc));

export const buildOpReply = (requestID: number, responseTo: number, doc: Document): Buffer =>
  frameOpReply(requestID, responseTo, encodeDocument(doc));

function writeHeader(out: Buffer, length: number, requestID: number, responseTo: number, opCode: number): void {
  out.writeInt32LE(length, 0);
  out.writeInt32LE(requestID, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(opCode, 12);
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    // 0x82F63B78 is the bit-reversed Castagnoli polynomial; zlib's crc32 uses 0xEDB88320 and would not match.
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli) of bytes[start, end), as used by the OP_MSG checksum. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
