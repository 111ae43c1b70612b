/**
 * One driver connection: frames its byte stream, runs its commands strictly
 * one after another (a driver may pipeline requests and relies on getting the
 * replies in order) and writes the replies. See server.ts for the error policy.
 */
import type net from 'node:net';
import { encodeDocument, type Document } from '../bson-values.js';
import { MongoError } from '../errors.js';
import { MessageFramer } from './framer.js';
import {
  MAX_BSON_INTERNAL_SIZE, OpCode, WireProtocolError, frameOpMsgReply, frameOpReply, isMoreToCome, parseMessage,
  readHeader, type WireRequest,
} from './messages.js';

export interface CommandContext {
  connectionId: number;
  remoteAddress: string;
  /** true if the request was OP_QUERY */
  legacy: boolean;
}

/** May answer synchronously (reads): the reply then goes out without a promise round trip. */
export type CommandHandler = (command: Document, ctx: CommandContext) => Document | Promise<Document>;

export interface WireLogger {
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

/** Messages read ahead of the one being handled before the socket stops reading. */
const MAX_QUEUED_MESSAGES = 16;
/** How long a connection being shut down may take to flush its last reply. */
const SHUTDOWN_GRACE_MS = 1000;

export interface ConnectionHooks {
  handler: CommandHandler;
  logger: WireLogger;
  nextRequestId(): number;
}

export class WireConnection {
  private readonly framer = new MessageFramer();
  private readonly queue: Buffer[] = [];
  /** The message being handled asynchronously, if any; the queue waits for it. */
  private pumping: Promise<void> | null = null;
  /** Set once no further message may start: closed, aborted or shutting down. */
  private ended = false;
  /** Resolves once the socket closed and the command in flight (if any) finished. */
  readonly finished: Promise<void>;
  readonly remoteAddress: string;
  /** The two contexts a command can have on this connection, made once rather than per message. */
  private readonly contexts: { msg: CommandContext; query: CommandContext };

  constructor(readonly id: number, private readonly socket: net.Socket, private readonly hooks: ConnectionHooks) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.contexts = {
      msg: Object.freeze({ connectionId: id, remoteAddress: this.remoteAddress, legacy: false }),
      query: Object.freeze({ connectionId: id, remoteAddress: this.remoteAddress, legacy: true }),
    };
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
      for (const message of this.framer.push(chunk)) this.queue.push(message);
    } catch (err) {
      this.abort(err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.queue.length >= MAX_QUEUED_MESSAGES) this.socket.pause();
    this.pump();
  }

  /**
   * Handles queued messages in order, one at a time. A message answered
   * synchronously (a read) is replied to here and then; one that needs to
   * wait (a durable write, a lock) parks the queue until it is done.
   */
  private pump(): void {
    while (!this.pumping && !this.ended && this.queue.length > 0) {
      const raw = this.queue.shift()!;
      let pending: void | Promise<void>;
      try {
        pending = this.process(raw);
      } catch (err) {
        this.unexpected(err);
        return;
      }
      if (pending) {
        this.pumping = pending.then(
          () => {
            this.pumping = null;
            this.resumeReading();
            this.pump();
          },
          (err: unknown) => {
            this.pumping = null;
            this.unexpected(err);
          },
        );
        return;
      }
      this.resumeReading();
    }
  }

  private resumeReading(): void {
    if (!this.ended && this.socket.isPaused() && this.queue.length < MAX_QUEUED_MESSAGES / 2) this.socket.resume();
  }

  /** process() handles its own failures; reaching this is a bug here, not in the client's input. */
  private unexpected(err: unknown): void {
    this.hooks.logger.error(`connection ${this.id}: unexpected failure`, err);
    this.abort('internal error while processing a message');
  }

  /** Handles one message; returns a promise only when the reply is not sent yet. */
  private process(raw: Buffer): void | Promise<void> {
    let request: WireRequest;
    try {
      request = parseMessage(raw);
    } catch (err) {
      return this.reject(raw, err);
    }
    let result: Document | Promise<Document>;
    try {
      result = this.hooks.handler(request.command, request.kind === 'query' ? this.contexts.query : this.contexts.msg);
    } catch (err) {
      result = this.errorReply(err, request.command);
    }
    if (result instanceof Promise) {
      return result.then(
        (reply) => this.answer(request, reply),
        (err: unknown) => this.answer(request, this.errorReply(err, request.command)),
      );
    }
    return this.answer(request, result);
  }

  private answer(request: WireRequest, reply: Document): void | Promise<void> {
    if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) {
      const got = Array.isArray(reply) ? 'an array' : String(reply);
      reply = this.errorReply(new Error(`command handler returned ${got} instead of a reply document`), request.command);
    }
    if (request.kind === 'msg' && request.moreToCome) {
      if (reply.ok === 0) this.hooks.logger.info(`connection ${this.id}: unacknowledged command failed: ${String(reply.errmsg)}`);
      return;
    }
    return this.send(request.kind === 'query', request.header.requestID, reply);
  }

  /** A framed message that did not parse: answer it if possible, otherwise drop the connection. */
  private reject(raw: Buffer, err: unknown): void | Promise<void> {
    const header = readHeader(raw);
    const reason = `request ${header.requestID} (opCode ${header.opCode}): ${err instanceof Error ? err.message : String(err)}`;
    if (!(err instanceof WireProtocolError) || err.fatal || isMoreToCome(raw)) {
      this.abort(reason);
      return;
    }
    this.hooks.logger.warn(`connection ${this.id} (${this.remoteAddress}): rejected ${reason}`);
    return this.send(header.opCode === OpCode.QUERY, header.requestID, err.toReply());
  }

  private errorReply(err: unknown, command: Document): Document {
    if (err instanceof MongoError) return err.toReply();
    const name = Object.keys(command)[0] ?? '(empty command)';
    this.hooks.logger.error(`connection ${this.id}: command ${name} failed`, err);
    const errmsg = err instanceof Error ? err.message : String(err);
    return { ok: 0, errmsg, code: 1, codeName: 'InternalError' };
  }

  /** Writes the reply; returns a promise only when the socket is backed up and we must wait for it to drain. */
  private send(legacy: boolean, responseTo: number, reply: Document): void | Promise<void> {
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
    return new Promise<void>((resolve) => {
      const done = () => { this.socket.off('drain', done); this.socket.off('close', done); resolve(); };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }
}
