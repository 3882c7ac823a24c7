import type { Logger } from '../util/log.js';
import type { ApiHandler } from '../kafka/handlers/handler.js';
import type { BrokerConfig } from '../config.js';
import type { BrokerEndpoint, ScramCredential } from '../cluster/image.js';
import { ConnectionQuotas, parseIpOverrides } from '../security/connection-quotas.js';
import {
  SECURITY_PROTOCOL_IDS, enabledMechanisms, interBrokerListener, oauthOptionsFor, plainUsersFor, resolveListeners,
  serverTlsOptions, usesSasl, usesTls, type ListenerSpec,
} from '../security/listeners.js';
import type { SaslListenerConfig } from '../security/sasl-session.js';
import { KafkaServer } from './server.js';
import type { ServerObserver } from './connection.js';

/**
 * Every listener of a broker (`listeners`): one KafkaServer each, with its security protocol
 * (TLS, SASL), sharing the broker-wide connection limits. The inter-broker listener alone serves
 * raftka's broker-to-broker APIs when there are several.
 */
export class ListenerSet {
  private readonly bound = new Map<string, number>();

  private constructor(
    readonly listeners: readonly ListenerSpec[],
    readonly interBroker: ListenerSpec,
    private readonly servers: readonly KafkaServer[],
  ) {}

  static create(config: BrokerConfig, handlers: ReadonlyMap<number, ApiHandler>, options: {
    readonly observer?: ServerObserver;
    readonly scramCredential: (username: string, mechanismId: number) => ScramCredential | undefined;
    readonly log: Logger;
  }): ListenerSet {
    const listeners = resolveListeners(config);
    const interBroker = interBrokerListener(config, listeners);
    // Peers dial the address of this broker in the bootstrap list, which is the first listener's.
    if (config.bootstrap.length > 1 && listeners[0]!.name !== interBroker.name) {
      throw new Error(`the inter-broker listener ${interBroker.name} must be the first of listeners (${listeners.map((l) => l.name).join(', ')}): the other brokers connect to the bootstrap address, which is the first listener's`);
    }
    const quotas = new ConnectionQuotas(config.maxConnections, config.maxConnectionsPerIp, parseIpOverrides(config.maxConnectionsPerIpOverrides));
    const several = listeners.length > 1;
    const servers = listeners.map((l) => {
      const sasl: SaslListenerConfig | undefined = usesSasl(l.securityProtocol) ? {
        listenerName: l.name,
        mechanisms: enabledMechanisms(config, l.name),
        plainUsers: plainUsersFor(config, l.name),
        scramCredential: options.scramCredential,
        oauth: oauthOptionsFor(config, l.name),
        connectionsMaxReauthMs: config.connectionsMaxReauthMs,
      } : undefined;
      return new KafkaServer({
        host: l.host, port: l.port, queuedMaxRequests: config.queuedMaxRequests,
        socketRequestMaxBytes: config.socketRequestMaxBytes, connectionsMaxIdleMs: config.connectionsMaxIdleMs,
        observer: options.observer,
        listenerName: l.name,
        sasl,
        tls: usesTls(l.securityProtocol) ? serverTlsOptions(config, l.name) : undefined,
        maxInflightBytes: config.connectionMaxInflightBytes,
        internalApis: !several || l.name === interBroker.name,
        quotas,
        exemptFromMaxConnections: several && l.name === interBroker.name,
      }, handlers, options.log.child({ listener: l.name }));
    });
    return new ListenerSet(listeners, interBroker, servers);
  }

  /** Binds every listener; resolves with the bound ports by listener name. */
  async listen(): Promise<ReadonlyMap<string, number>> {
    for (let i = 0; i < this.servers.length; i++) this.bound.set(this.listeners[i]!.name, await this.servers[i]!.listen());
    return this.bound;
  }

  /** Bound port of a listener (after listen). */
  port(name: string): number | undefined { return this.bound.get(name); }
  get ports(): ReadonlyMap<string, number> { return this.bound; }

  /**
   * The endpoints to register: advertised host and port of each listener. Without an advertised
   * host, the first listener advertises `firstHost` (the broker's address in the bootstrap list,
   * or its bind host), the others their bind host, or `wildcardHost` when they bind every interface.
   */
  endpoints(firstHost: string, wildcardHost: string): BrokerEndpoint[] {
    return this.listeners.map((l, i) => ({
      name: l.name,
      host: l.advertisedHost !== '' ? l.advertisedHost : i === 0 ? firstHost : (l.host === '0.0.0.0' || l.host === '::' ? wildcardHost : l.host),
      port: l.advertisedPort !== 0 ? l.advertisedPort : this.bound.get(l.name)!,
      securityProtocol: SECURITY_PROTOCOL_IDS[l.securityProtocol],
    }));
  }

  get connectionCount(): number { return this.servers.reduce((n, s) => n + s.connectionCount, 0); }

  async close(): Promise<void> { await Promise.all(this.servers.map((s) => s.close())); }
}
