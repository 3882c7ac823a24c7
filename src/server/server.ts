import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../util/log.js';
import type { ApiHandler } from '../kafka/handlers/handler.js';
import { Connection, type ConnectionConfig } from './connection.js';

export interface ListenerOptions extends ConnectionConfig {
  readonly host: string;
  readonly port: number;
}

/** The TCP listener: one Connection per accepted socket. */
export class KafkaServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;

  constructor(
    private readonly options: ListenerOptions,
    private readonly handlers: ReadonlyMap<number, ApiHandler>,
    private readonly log: Logger,
  ) {
    this.server = createServer((socket) => this.accept(socket));
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
    await closed;
  }

  private accept(socket: Socket): void {
    const id = this.nextConnectionId++;
    const connection = new Connection(socket, id, this.handlers, this.options, this.log, (c) => {
      if (this.connections.delete(c)) this.options.observer?.connectionClosed();
    });
    this.connections.add(connection);
    this.options.observer?.connectionOpened();
    this.log.debug({ conn: id, remote: connection.info.remoteAddress }, 'connection accepted');
  }
}
