/**
 * The client side of broker-to-broker security: how a broker connects to its peers' inter-broker
 * listener (Kafka's inter.broker.listener.name): TLS with the listener's truststore (and its
 * keystore as the client certificate), and SASL with `sasl.mechanism.inter.broker.protocol` and
 * the broker's own `username`/`password` from the listener's JAAS config, as Kafka's brokers do.
 */
import type { ConnectionOptions } from 'node:tls';
import type { BrokerConfig } from '../config.js';
import {
  clientTlsOptions, enabledMechanisms, interBrokerCredentials, interBrokerListener, listenerProperty, resolveListeners, usesSasl, usesTls,
} from './listeners.js';
import { ScramClient, scramMechanismByName } from './scram.js';

/** SASL mechanisms a broker can authenticate to its peers with. */
export const INTER_BROKER_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export interface PeerSaslCredentials {
  readonly mechanism: string;
  readonly username: string;
  readonly password: string;
}

/** How a PeerClient secures its connection (nothing: PLAINTEXT). */
export interface PeerSecurity {
  /** node:tls options (ca, key/cert or pfx, checkServerIdentity); absent: no TLS. */
  readonly tls?: ConnectionOptions;
  /** SASL mechanism and credentials; absent: no SASL. */
  readonly sasl?: PeerSaslCredentials;
}

/** One SASL exchange on the client side: the first token, then one answer per server token until complete. */
export interface SaslClient {
  initial(): Buffer;
  /** Evaluates a server token: the next token to send, or null once authentication is complete (the server is verified). */
  evaluate(serverToken: Buffer): Buffer | null;
}

class PlainClient implements SaslClient {
  constructor(private readonly username: string, private readonly password: string) {}
  initial(): Buffer { return Buffer.from(`\u0000${this.username}\u0000${this.password}`, 'utf8'); }
  evaluate(): null { return null; }
}

class ScramSaslClient implements SaslClient {
  private step: 'first' | 'final' = 'first';
  constructor(private readonly scram: ScramClient) {}
  initial(): Buffer { return this.scram.first(); }
  evaluate(serverToken: Buffer): Buffer | null {
    if (this.step === 'first') { this.step = 'final'; return this.scram.final(serverToken); }
    this.scram.verify(serverToken);
    return null;
  }
}

export function createSaslClient(credentials: PeerSaslCredentials): SaslClient {
  if (credentials.mechanism === 'PLAIN') return new PlainClient(credentials.username, credentials.password);
  const scram = scramMechanismByName(credentials.mechanism);
  if (scram === undefined) throw new Error(`SASL mechanism ${credentials.mechanism} cannot be used between brokers (${INTER_BROKER_SASL_MECHANISMS.join(', ')})`);
  return new ScramSaslClient(new ScramClient(scram, credentials.username, credentials.password));
}

/**
 * The security of this broker's connections to its peers, from its inter-broker listener's
 * protocol: TLS options from the listener's ssl.* settings (ssl.endpoint.identification.algorithm
 * empty turns host name verification off, as Kafka), SASL from
 * `sasl.mechanism.inter.broker.protocol` (default PLAIN; Kafka's default GSSAPI is not
 * implemented) and the JAAS config's `username`/`password` for that mechanism on that listener.
 * Throws on a configuration that cannot work (no credentials, mechanism not enabled).
 */
export function interBrokerSecurity(config: BrokerConfig): PeerSecurity {
  const listener = interBrokerListener(config, resolveListeners(config));
  const name = listener.name;
  let tls: ConnectionOptions | undefined;
  if (usesTls(listener.securityProtocol)) {
    tls = { ...clientTlsOptions(config, name) };
    const identification = listenerProperty(config, name, 'ssl.endpoint.identification.algorithm') ?? 'https';
    if (identification.trim() === '') tls.checkServerIdentity = () => undefined;
  }
  let sasl: PeerSaslCredentials | undefined;
  if (usesSasl(listener.securityProtocol)) {
    const mechanism = (config.securityProperties.get('sasl.mechanism.inter.broker.protocol') ?? 'PLAIN').trim().toUpperCase();
    if (!(INTER_BROKER_SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new Error(`sasl.mechanism.inter.broker.protocol=${mechanism} is not supported between brokers (${INTER_BROKER_SASL_MECHANISMS.join(', ')})`);
    }
    if (!enabledMechanisms(config, name).includes(mechanism)) {
      throw new Error(`sasl.mechanism.inter.broker.protocol=${mechanism} is not in sasl.enabled.mechanisms of the inter-broker listener ${name}`);
    }
    const credentials = interBrokerCredentials(config, name, mechanism);
    if (credentials === undefined) {
      throw new Error(`the inter-broker listener ${name} uses SASL ${mechanism}: its JAAS config (listener.name.${name.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config) needs username and password, the broker's own credentials`);
    }
    sasl = { mechanism, ...credentials };
  }
  return { tls, sasl };
}
