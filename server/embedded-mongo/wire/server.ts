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
import { WireConnection, type CommandHandler, type WireLogger } from './connection.js';

export { MessageFramer } from './framer.js';
export type { CommandContext, CommandHandler, WireLogger } from './connection.js';

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
