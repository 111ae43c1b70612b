/**
 * The TCP side of the embedded store: accepts driver connections on
 * loopback, frames wire messages and hands each parsed command to a handler.
 *
 * Each connection runs its commands strictly one after another, as mongod
 * does: a driver may pipeline requests and relies on getting the replies in
 * order. Different connections run concurrently.
 *
 * Error policy (mongod's, except where noted):
 * - a length field under 16 or over maxMessageSizeBytes, an unknown opCode
 *   (OP_COMPRESSED included, no compression is ever negotiated), illegal
 *   OP_MSG flags or a checksum mismatch: log and close the connection;
 * - a framed message whose contents do not parse (invalid BSON, a document
 *   over 16 MiB + 16 KiB, bad sections, non-handshake OP_QUERY): reply with
 *   an error and keep the connection, unless the request said moreToCome, in
 *   which case nobody would read the reply, so the connection is closed;
 * - the handler throws: MongoError → `err.toReply()`, anything else →
 *   InternalError (code 1), logged with its stack.
 */
import net from 'node:net';
import { encodeDocument, type Document } from '../bson-values.js';
import { MongoError } from '../errors.js';
import {
  HEADER_SIZE, MAX_BSON_INTERNAL_SIZE, MAX_MESSAGE_SIZE, OpCode, WireProtocolError,
  frameOpMsgReply, frameOpReply, isMoreToCome, parseMessage, readHeader,
} from './messages.js';

export interface CommandContext {
  connectionId: number;
  remoteAddress: string;
  /** true if the request was OP_QUERY */
  legacy: boolean;
}

export type CommandHandler = (command: Document, ctx: CommandContext) => Promise<Document>;

export interface WireLogger {
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

export interface WireServerOptions {
  /** Loopback only; default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks an ephemeral port. */
  port?: number;
  handler: CommandHandler;
  logger?: WireLogger;
  /** Called once per connection, after its socket closed and its last command finished. */
  onConnectionClosed?: (connectionId: number) => void;
}

const defaultLogger: WireLogger = {
  info: () => {},
  warn: (message, ...details) => console.warn(`[embedded-mongo/wire] ${message}`, ...details),
  error: (message, ...details) => console.error(`[embedded-mongo/wire] ${message}`, ...details),
};

/** Messages read ahead of the one being handled before the socket stops reading. */
const MAX_QUEUED_MESSAGES = 16;
/** How long a connection being shut down may take to flush its last reply. */
const SHUTDOWN_GRACE_MS = 1000;

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** True for 127.0.0.0/8, ::1 (any spelling, IPv4-mapped included) and "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const family = net.isIP(h);
  return family !== 0 && loopback.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

function refusal(host: string): Error {
  return new Error(
    `Refusing to listen on ${host}: the embedded MongoDB-compatible store has no authentication, `
    + 'so it only listens on loopback (127.0.0.0/8, ::1 or localhost) and must never be exposed to a network. '
    + 'Use a real MongoDB server (MONGODB_URI) for anything reachable from other machines.');
}

/** Splits a TCP byte stream into whole messages, whatever the chunking. */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;

  /** Returns the messages completed by this chunk; throws a fatal WireProtocolError on an impossible length. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) break;
        const length = this.peek(4).readInt32LE(0);
        if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
          throw new WireProtocolError(
            `message length ${length} is outside [${HEADER_SIZE}, ${MAX_MESSAGE_SIZE}]`, 17, 'ProtocolError', true);
        }
        this.expected = length;
      }
      if (this.buffered < this.expected) break;
      messages.push(this.take(this.expected));
      this.expected = -1;
    }
    return messages;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  /** Removes n bytes; concatenates only when a message spans chunks, so large messages are copied once. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    return all.subarray(0, n);
  }
}

interface ConnectionHooks {
  handler: CommandHandler;
  logger: WireLogger;
  nextRequestId(): number;
}

class WireConnection {
  private readonly framer = new MessageFramer();
  private readonly queue: Buffer[] = [];
  private pumping: Promise<void> | null = null;
  /** Set once no further message may start: closed, aborted or shutting down. */
  private ended = false;
  /** Resolves once the socket closed and the command in flight (if any) finished. */
  readonly finished: Promise<void>;
  readonly remoteAddress: string;

  constructor(readonly id: number, private readonly socket: net.Socket, private readonly hooks: ConnectionHooks) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Resets by clients that just went away are routine; without a listener they would crash the process.
    socket.on('error', (err) => hooks.logger.info(`connection ${id} (${this.remoteAddress}): ${err.message}`));
    this.finished = new Promise((resolve) => {
      socket.once('close', () => {
        this.stop();
        void (this.pumping ?? Promise.resolve()).then(() => resolve());
      });
    });
  }

  /** Stops reading, lets the command in flight reply, then closes the socket. */
  shutdown(): void {
    this.stop();
    this.socket.pause();
    void (this.pumping ?? Promise.resolve()).then(() => {
      if (this.socket.destroyed) return;
      setTimeout(() => this.socket.destroy(), SHUTDOWN_GRACE_MS).unref();
      this.socket.end(() => this.socket.destroy());
    });
  }

  private stop(): void {
    this.ended = true;
    this.queue.length = 0;
  }

  private abort(reason: string): void {
    this.hooks.logger.warn(`closing connection ${this.id} (${this.remoteAddress}): ${reason}`);
    this.stop();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    try {
      this.queue.push(...this.framer.push(chunk));
    } catch (err) {
      this.abort(err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.queue.length >= MAX_QUEUED_MESSAGES) this.socket.pause();
    this.schedule();
  }

  /** Starts the pump unless it runs; re-checks when it ends, so a message queued as it finished is not stranded. */
  private schedule(): void {
    if (this.pumping || this.ended || this.queue.length === 0) return;
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      this.schedule();
    });
  }

  /** Runs queued messages one at a time; never rejects. */
  private async pump(): Promise<void> {
    while (!this.ended && this.queue.length > 0) {
      const raw = this.queue.shift()!;
      try {
        await this.process(raw);
      } catch (err) {
        // process() handles its own failures; reaching this is a bug here, not in the client's input.
        this.hooks.logger.error(`connection ${this.id}: unexpected failure`, err);
        this.abort('internal error while processing a message');
      }
      if (!this.ended && this.socket.isPaused() && this.queue.length < MAX_QUEUED_MESSAGES / 2) this.socket.resume();
    }
  }

  private async process(raw: Buffer): Promise<void> {
    let request;
    try {
      request = parseMessage(raw);
    } catch (err) {
      await this.reject(raw, err);
      return;
    }
    const ctx: CommandContext = { connectionId: this.id, remoteAddress: this.remoteAddress, legacy: request.kind === 'query' };
    let reply: Document;
    try {
      reply = await this.hooks.handler(request.command, ctx);
      if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) {
        throw new Error(`command handler returned ${Array.isArray(reply) ? 'an array' : String(reply)} instead of a reply document`);
      }
    } catch (err) {
      reply = this.errorReply(err, request.command);
    }
    if (request.kind === 'msg' && request.moreToCome) {
      if (reply.ok === 0) this.hooks.logger.info(`connection ${this.id}: unacknowledged command failed: ${String(reply.errmsg)}`);
      return;
    }
    await this.send(request.kind === 'query', request.header.requestID, reply);
  }

  /** A framed message that did not parse: answer it if possible, otherwise drop the connection. */
  private async reject(raw: Buffer, err: unknown): Promise<void> {
    const header = readHeader(raw);
    const reason = `request ${header.requestID} (opCode ${header.opCode}): ${err instanceof Error ? err.message : String(err)}`;
    if (!(err instanceof WireProtocolError) || err.fatal || isMoreToCome(raw)) {
      this.abort(reason);
      return;
    }
    this.hooks.logger.warn(`connection ${this.id} (${this.remoteAddress}): rejected ${reason}`);
    await this.send(header.opCode === OpCode.QUERY, header.requestID, err.toReply());
  }

  private errorReply(err: unknown, command: Document): Document {
    if (err instanceof MongoError) return err.toReply();
    const name = Object.keys(command)[0] ?? '(empty command)';
    this.hooks.logger.error(`connection ${this.id}: command ${name} failed`, err);
    const errmsg = err instanceof Error ? err.message : String(err);
    return { ok: 0, errmsg, code: 1, codeName: 'InternalError' };
  }

  private async send(legacy: boolean, responseTo: number, reply: Document): Promise<void> {
    let body: Uint8Array;
    try {
      body = encodeDocument(reply);
      if (body.length > MAX_BSON_INTERNAL_SIZE) {
        body = encodeDocument(new WireProtocolError(
          `reply of ${body.length} bytes exceeds the maximum BSON size`, 10334, 'BSONObjectTooLarge').toReply());
      }
    } catch (err) {
      this.hooks.logger.error(`connection ${this.id}: could not encode the reply`, err);
      const errmsg = `could not encode the reply: ${err instanceof Error ? err.message : String(err)}`;
      body = encodeDocument({ ok: 0, errmsg, code: 1, codeName: 'InternalError' });
    }
    if (this.socket.destroyed || !this.socket.writable) return;
    const requestId = this.hooks.nextRequestId();
    const frame = legacy ? frameOpReply(requestId, responseTo, body) : frameOpMsgReply(requestId, responseTo, body);
    if (this.socket.write(frame)) return;
    // A client that does not read its replies must not make us buffer without bound.
    await new Promise<void>((resolve) => {
      const done = () => { this.socket.off('drain', done); this.socket.off('close', done); resolve(); };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }
}

export class WireServer {
  private readonly connections = new Set<WireConnection>();
  private readonly logger: WireLogger;
  private nextConnectionId = 1;
  private lastRequestId = 0;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly server: net.Server,
    private readonly options: WireServerOptions,
    private readonly address: net.AddressInfo,
  ) {
    this.logger = options.logger ?? defaultLogger;
  }

  static async listen(options: WireServerOptions): Promise<WireServer> {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopbackHost(host)) throw refusal(host);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as net.AddressInfo;
    // "localhost" is resolved by the OS (hosts file), so check what was actually bound too.
    if (!isLoopbackHost(address.address)) {
      await new Promise((resolve) => server.close(resolve));
      throw refusal(`${host} (bound to ${address.address})`);
    }
    const wire = new WireServer(server, options, address);
    server.on('connection', (socket) => wire.accept(socket));
    server.on('error', (err) => wire.logger.error('wire server error', err));
    return wire;
  }

  get port(): number { return this.address.port; }
  get host(): string { return this.address.address; }
  get uri(): string {
    const host = this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address;
    return `mongodb://${host}:${this.address.port}/`;
  }
  /** Open connections, counting one whose socket closed until its last command has finished. */
  get connectionCount(): number { return this.connections.size; }

  /** Stops accepting, lets each connection finish its command in flight, closes them all and waits. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
      const all = [...this.connections];
      for (const connection of all) connection.shutdown();
      await Promise.all(all.map((c) => c.finished));
      await stopped;
    })();
    return this.closing;
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const id = this.nextConnectionId++;
    const connection = new WireConnection(id, socket, {
      handler: this.options.handler,
      logger: this.logger,
      nextRequestId: () => (this.lastRequestId = this.lastRequestId >= 0x7fffffff ? 1 : this.lastRequestId + 1),
    });
    this.connections.add(connection);
    void connection.finished.then(() => {
      this.connections.delete(connection);
      try {
        this.options.onConnectionClosed?.(id);
      } catch (err) {
        this.logger.error(`onConnectionClosed(${id}) failed`, err);
      }
    });
  }
}
