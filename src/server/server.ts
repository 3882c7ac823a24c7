import { createServer, type Server, type Socket } from 'node:net';
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
      this.server = createServer();
    }
    // Counted when the TCP connection is accepted, before any TLS handshake (Kafka's Acceptor).
    this.server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? '?';
      const refused = options.quotas?.tryAcquire(address, options.exemptFromMaxConnections === true) ?? null;
      if (refused !== null) {
        this.log.info({ remote: address }, `connection refused: ${refused}`);
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => { this.sockets.delete(socket); options.quotas?.release(address); });
      if (options.tls === undefined) this.accept(socket, undefined);
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
    for (const c of this.connections) c.close('broker shutting down');
    for (const s of this.sockets) s.destroy(); // TLS handshakes still under way
    await closed;
  }

  private accept(socket: Socket, principal: string | undefined): void {
    if (socket.destroyed) return;
    const id = this.nextConnectionId++;
    const connection = new Connection(socket, id, this.handlers, this.options, this.log, (c) => {
      if (this.connections.delete(c)) this.options.observer?.connectionClosed();
    });
    if (principal !== undefined) connection.info.principal = principal;
    this.connections.add(connection);
    this.options.observer?.connectionOpened();
    this.log.debug({ conn: id, remote: connection.info.remoteAddress, listener: connection.info.listenerName }, 'connection accepted');
  }
}

/** The client certificate's principal (User:<subject DN>), ANONYMOUS without a verified certificate. */
function tlsPrincipal(socket: TLSSocket): string {
  if (!socket.authorized) return 'User:ANONYMOUS';
  const cert = socket.getPeerX509Certificate();
  return cert === undefined ? 'User:ANONYMOUS' : principalFromSubject(cert.subject);
}
