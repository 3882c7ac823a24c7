import { createServer, Socket, type Server } from 'node:net';
import { FrameReader } from '../../protocol/frame.js';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from '../util/log.js';
import type { ApiHandler } from '../kafka/handlers/handler.js';
import type { ConnectionQuotas } from '../security/connection-quotas.js';
import { principalFromSubject } from '../security/listeners.js';
import { Connection, type ConnectionConfig } from './connection.js';

export interface ListenerOptions extends ConnectionConfig {
  readonly host: string;
  readonly port: number;
  /** SSL and SASL_SSL listeners: the node:tls server options (certificate, key, CA, client auth). */
  readonly tls?: TlsOptions;
  /** Broker-wide connection limits (max.connections, max.connections.per.ip), shared by every listener. */
  readonly quotas?: ConnectionQuotas;
  /** Not counted against max.connections (the inter-broker listener of a multi-listener broker, as Kafka). */
  readonly exemptFromMaxConnections?: boolean;
}

/** One listener: TCP or TLS, one Connection per accepted socket. */
export class KafkaServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly sockets = new Set<Socket>();
  private nextConnectionId = 1;

  constructor(
    private readonly options: ListenerOptions,
    private readonly handlers: ReadonlyMap<number, ApiHandler>,
    private readonly log: Logger,
  ) {
    if (options.tls !== undefined) {
      this.server = createTlsServer({ ...options.tls, handshakeTimeout: 30000 });
      this.server.on('secureConnection', (socket: TLSSocket) => this.accept(socket, tlsPrincipal(socket)));
      this.server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        this.log.debug({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
      });
    } else {
      // Paused until accepted: the socket is re-wrapped to read into the frame reader's buffers.
      this.server = createServer({ pauseOnConnect: true });
    }
    // Counted when the TCP connection is accepted, before any TLS handshake (Kafka's Acceptor).
    this.server.on('connection', (accepted: Socket) => {
      let socket = accepted;
      /** The reader the re-wrapped socket reads into; its reads reach `connection` once it exists. */
      let frames: FrameReader | undefined;
      let connection: Connection | undefined;
      if (options.tls === undefined) {
        const reader = new FrameReader(options.socketRequestMaxBytes);
        const wrapped = userBufferSocket(accepted, reader, (n) => connection?.onRead(n));
        if (wrapped !== undefined) { socket = wrapped; frames = reader; } else accepted.resume();
      }
      const address = socket.remoteAddress ?? '?';
      const refused = options.quotas?.tryAcquire(address, options.exemptFromMaxConnections === true) ?? null;
      if (refused !== null) {
        this.log.info({ remote: address }, `connection refused: ${refused}`);
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => { this.sockets.delete(socket); options.quotas?.release(address); });
      if (options.tls === undefined) connection = this.accept(socket, undefined, frames);
    });
  }

  /** Starts listening; resolves with the bound port (useful when port 0 was asked for). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : this.options.port);
      });
    });
  }

  get connectionCount(): number { return this.connections.size; }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // The server's own count does not cover the re-wrapped sockets (userBufferSocket): wait for them here.
    const socketsClosed = [...this.sockets].map((s) => new Promise<void>((resolve) => { s.once('close', () => resolve()); }));
    for (const c of this.connections) c.close('broker shutting down');
    for (const s of this.sockets) s.destroy(); // TLS handshakes still under way
    await Promise.all([closed, ...socketsClosed]);
  }

  private accept(socket: Socket, principal: string | undefined, frames?: FrameReader): Connection | undefined {
    if (socket.destroyed) return undefined;
    const id = this.nextConnectionId++;
    const connection = new Connection(socket, id, this.handlers, this.options, this.log, (c) => {
      if (this.connections.delete(c)) this.options.observer?.connectionClosed();
    }, frames);
    if (principal !== undefined) connection.info.principal = principal;
    this.connections.add(connection);
    this.options.observer?.connectionOpened();
    this.log.debug({ conn: id, remote: connection.info.remoteAddress, listener: connection.info.listenerName }, 'connection accepted');
    return connection;
  }
}

/** The parts of an accepted net.Socket that userBufferSocket moves (Node internals, checked at run time). */
interface SocketInternals {
  _handle?: { useUserBuffer?: unknown } | null;
}

/**
 * A new socket over the TCP handle of `accepted` (a paused socket from a net.Server with
 * pauseOnConnect) whose reads land in `frames.readTarget()` (net.Socket's `onread` option, which
 * net.Server does not offer for accepted sockets): a large request is read by the kernel straight
 * into its frame buffer, without Node allocating a fresh 64 KiB chunk per read and without the
 * copy from those chunks into the frame. `onRead` runs after each read. The accepted socket is
 * destroyed without closing the handle (which frees its place in the server's connection count).
 * Undefined, with `accepted` left untouched, when this Node.js does not allow it.
 */
export function userBufferSocket(accepted: Socket, frames: FrameReader, onRead: (bytes: number) => void): Socket | undefined {
  const internals = accepted as unknown as SocketInternals;
  const handle = internals._handle;
  if (handle === undefined || handle === null || typeof handle.useUserBuffer !== 'function' || accepted.destroyed) return undefined;
  let socket: Socket;
  try {
    socket = new Socket({
      handle, readable: true, writable: true,
      onread: { buffer: () => frames.readTarget(), callback: (n: number) => { frames.wrote(n); onRead(n); return true; } },
    } as ConstructorParameters<typeof Socket>[0]);
  } catch {
    return undefined;
  }
  internals._handle = null;
  accepted.destroy();
  return socket;
}

/** The client certificate's principal (User:<subject DN>), ANONYMOUS without a verified certificate. */
function tlsPrincipal(socket: TLSSocket): string {
  if (!socket.authorized) return 'User:ANONYMOUS';
  const cert = socket.getPeerX509Certificate();
  return cert === undefined ? 'User:ANONYMOUS' : principalFromSubject(cert.subject);
}
