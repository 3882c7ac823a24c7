import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import type { BrokerConfig } from '../config.js';
import { parseJaasConfig, plainUsers, type JaasEntry } from './jaas.js';
import { DEFAULT_UNSECURED_JWT_OPTIONS, type UnsecuredJwtOptions } from './sasl-server.js';
import { SUPPORTED_SASL_MECHANISMS } from './sasl-session.js';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
/** Kafka's SecurityProtocol ids (RegisterBrokerRecord endPoints). */
export const SECURITY_PROTOCOL_IDS: Record<SecurityProtocol, number> = { PLAINTEXT: 0, SSL: 1, SASL_PLAINTEXT: 2, SASL_SSL: 3 };
const PROTOCOLS = Object.keys(SECURITY_PROTOCOL_IDS) as SecurityProtocol[];

export const usesTls = (p: SecurityProtocol): boolean => p === 'SSL' || p === 'SASL_SSL';
export const usesSasl = (p: SecurityProtocol): boolean => p === 'SASL_PLAINTEXT' || p === 'SASL_SSL';

/** One listener of this broker. */
export interface ListenerSpec {
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  /** Bind host ('0.0.0.0' for an empty host, as Kafka binds all interfaces). */
  readonly host: string;
  /** Bind port (0: any free port). */
  readonly port: number;
  /** advertised.listeners host ('' : derived from the bind host). */
  readonly advertisedHost: string;
  /** advertised.listeners port (0: the bound port). */
  readonly advertisedPort: number;
}

interface Endpoint { readonly name: string; readonly host: string; readonly port: number }

function parseEndpoints(value: string, key: string): Endpoint[] {
  const out: Endpoint[] = [];
  for (const entry of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry);
    if (m === null) throw new Error(`cannot parse ${key} entry '${entry}' (expected NAME://host:port)`);
    out.push({ name: m[1]!.toUpperCase(), host: m[2]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[3]) });
  }
  if (new Set(out.map((e) => e.name)).size !== out.length) throw new Error(`${key} names a listener twice: ${value}`);
  return out;
}

/** listener.security.protocol.map: NAME:PROTOCOL pairs; the protocol names map to themselves by default. */
function parseProtocolMap(value: string): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>(PROTOCOLS.map((p) => [p, p]));
  for (const entry of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [name, protocol] = entry.split(':').map((s) => s.trim().toUpperCase());
    if (name === undefined || protocol === undefined || !(PROTOCOLS as string[]).includes(protocol)) {
      throw new Error(`cannot parse listener.security.protocol.map entry '${entry}' (expected NAME:PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)`);
    }
    map.set(name, protocol as SecurityProtocol);
  }
  return map;
}

/**
 * The broker's listeners from `listeners`, `advertised.listeners` and
 * `listener.security.protocol.map`. Without `listeners`: one PLAINTEXT listener on host:port (the
 * default, and what --host/--port mean). With it, host and port (the flags, or the bootstrap
 * list's address of this broker) replace the first listener's.
 */
export function resolveListeners(config: BrokerConfig): ListenerSpec[] {
  if (config.listeners === '') {
    return [{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: config.host, port: config.port, advertisedHost: config.advertisedHost, advertisedPort: config.advertisedPort }];
  }
  const protocols = parseProtocolMap(config.listenerSecurityProtocolMap);
  const bound = parseEndpoints(config.listeners, 'listeners');
  const advertised = config.advertisedListeners === '' ? [] : parseEndpoints(config.advertisedListeners, 'advertised.listeners');
  return bound.map((e, i) => {
    const securityProtocol = protocols.get(e.name);
    if (securityProtocol === undefined) throw new Error(`listener ${e.name} has no security protocol: add ${e.name}:<protocol> to listener.security.protocol.map`);
    const adv = advertised.find((a) => a.name === e.name);
    const host = i === 0 ? config.host : (e.host === '' ? '0.0.0.0' : e.host);
    const port = i === 0 ? config.port : e.port;
    const single = i === 0 && advertised.length === 0 ? { advertisedHost: config.advertisedHost, advertisedPort: config.advertisedPort } : undefined;
    return { name: e.name, securityProtocol, host, port, advertisedHost: single?.advertisedHost ?? adv?.host ?? '', advertisedPort: single?.advertisedPort ?? adv?.port ?? 0 };
  });
}

/** inter.broker.listener.name, else the listener named security.inter.broker.protocol, else the first listener. */
export function interBrokerListener(config: BrokerConfig, listeners: readonly ListenerSpec[]): ListenerSpec {
  const wanted = config.interBrokerListenerName !== '' ? config.interBrokerListenerName.toUpperCase()
    : config.securityInterBrokerProtocol !== '' ? config.securityInterBrokerProtocol.toUpperCase() : listeners[0]!.name;
  const l = listeners.find((x) => x.name === wanted);
  if (l === undefined) throw new Error(`the inter-broker listener ${wanted} is not one of the listeners (${listeners.map((x) => x.name).join(', ')})`);
  return l;
}

/** A security property for a listener: `listener.name.<listener>.<key>` first, then `<key>`. */
export function listenerProperty(config: BrokerConfig, listenerName: string, key: string): string | undefined {
  const props = config.securityProperties;
  return props.get(`listener.name.${listenerName.toLowerCase()}.${key}`) ?? props.get(key);
}

/** The JAAS entry for a mechanism on a listener (Kafka's listener.name.<l>.<mechanism>.sasl.jaas.config), by login module. */
export function jaasEntry(config: BrokerConfig, listenerName: string, mechanism: string, moduleSuffix: string): JaasEntry | undefined {
  const l = listenerName.toLowerCase();
  const m = mechanism.toLowerCase();
  const candidates = [`listener.name.${l}.${m}.sasl.jaas.config`, `listener.name.${l}.sasl.jaas.config`, `${m}.sasl.jaas.config`, 'sasl.jaas.config'];
  for (const key of candidates) {
    const text = config.securityProperties.get(key);
    if (text === undefined) continue;
    const entry = parseJaasConfig(text).find((e) => e.loginModule.endsWith(moduleSuffix));
    if (entry !== undefined) return entry;
  }
  return undefined;
}

/** sasl.enabled.mechanisms for a listener (default PLAIN,SCRAM-SHA-256,SCRAM-SHA-512; OAUTHBEARER only when named). */
export function enabledMechanisms(config: BrokerConfig, listenerName: string): string[] {
  const value = listenerProperty(config, listenerName, 'sasl.enabled.mechanisms') ?? 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512';
  const mechanisms = value.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  for (const m of mechanisms) {
    if (!(SUPPORTED_SASL_MECHANISMS as readonly string[]).includes(m)) throw new Error(`sasl.enabled.mechanisms: ${m} is not supported (raftka has ${SUPPORTED_SASL_MECHANISMS.join(', ')})`);
  }
  return mechanisms;
}

export function plainUsersFor(config: BrokerConfig, listenerName: string): Map<string, string> {
  const entry = jaasEntry(config, listenerName, 'PLAIN', 'PlainLoginModule');
  return entry === undefined ? new Map() : plainUsers(entry);
}

export function oauthOptionsFor(config: BrokerConfig, listenerName: string): UnsecuredJwtOptions {
  const o = jaasEntry(config, listenerName, 'OAUTHBEARER', 'OAuthBearerLoginModule')?.options;
  if (o === undefined) return DEFAULT_UNSECURED_JWT_OPTIONS;
  const skew = Number(o.get('unsecuredValidatorAllowableClockSkewMs') ?? 0);
  return {
    principalClaimName: o.get('unsecuredValidatorPrincipalClaimName') ?? 'sub',
    scopeClaimName: o.get('unsecuredValidatorScopeClaimName') ?? 'scope',
    requiredScope: (o.get('unsecuredValidatorRequiredScope') ?? '').split(/[\s,]+/).filter((s) => s !== ''),
    allowableClockSkewMs: Number.isFinite(skew) && skew >= 0 ? skew : 0,
  };
}

/** The broker's own credentials on the inter-broker listener (username/password of the mechanism's JAAS entry). */
export function interBrokerCredentials(config: BrokerConfig, listenerName: string, mechanism: string): { username: string; password: string } | undefined {
  const suffix = mechanism === 'PLAIN' ? 'PlainLoginModule' : 'ScramLoginModule';
  const o = jaasEntry(config, listenerName, mechanism, suffix)?.options;
  const username = o?.get('username');
  const password = o?.get('password');
  return username === undefined || password === undefined ? undefined : { username, password };
}

function readPem(path: string): string { return readFileSync(path, 'utf8'); }

/** ssl.client.auth for a listener: required, requested or none (default none). */
export function clientAuth(config: BrokerConfig, listenerName: string): 'required' | 'requested' | 'none' {
  const v = (listenerProperty(config, listenerName, 'ssl.client.auth') ?? 'none').toLowerCase();
  if (v !== 'required' && v !== 'requested' && v !== 'none') throw new Error(`ssl.client.auth must be required, requested or none, got ${v}`);
  return v;
}

/**
 * Node TLS options of a listener from Kafka's ssl.* names: PEM keystores
 * (ssl.keystore.location holding key and certificate chain, or ssl.keystore.key +
 * ssl.keystore.certificate.chain inline), PKCS12 keystores (ssl.keystore.type=PKCS12 with
 * ssl.keystore.password), PEM truststores (ssl.truststore.location or
 * ssl.truststore.certificates), ssl.client.auth, ssl.enabled.protocols.
 */
export function serverTlsOptions(config: BrokerConfig, listenerName: string): TlsOptions {
  const p = (key: string): string | undefined => listenerProperty(config, listenerName, key);
  // Inline PEM values written on one line of server.properties use \n escapes, as Java's Properties reads them.
  const pem = (key: string): string | undefined => p(key)?.replaceAll('\\n', '\n');
  const options: TlsOptions = {};
  const keystoreType = (p('ssl.keystore.type') ?? 'PEM').toUpperCase();
  const keyPassword = p('ssl.key.password');
  if (keystoreType === 'PEM') {
    const location = p('ssl.keystore.location');
    const key = pem('ssl.keystore.key') ?? (location !== undefined ? readPem(location) : undefined);
    const cert = pem('ssl.keystore.certificate.chain') ?? (location !== undefined ? readPem(location) : undefined);
    if (key === undefined || cert === undefined) throw new Error(`listener ${listenerName}: TLS needs ssl.keystore.location, or ssl.keystore.key and ssl.keystore.certificate.chain`);
    options.key = key;
    options.cert = cert;
    if (keyPassword !== undefined) options.passphrase = keyPassword;
  } else if (keystoreType === 'PKCS12') {
    const location = p('ssl.keystore.location');
    if (location === undefined) throw new Error(`listener ${listenerName}: ssl.keystore.type=PKCS12 needs ssl.keystore.location`);
    options.pfx = readFileSync(location);
    options.passphrase = p('ssl.keystore.password') ?? keyPassword;
  } else {
    throw new Error(`listener ${listenerName}: ssl.keystore.type ${keystoreType} is not supported (PEM or PKCS12)`);
  }
  const truststoreType = (p('ssl.truststore.type') ?? 'PEM').toUpperCase();
  const trustLocation = p('ssl.truststore.location');
  const trustInline = pem('ssl.truststore.certificates');
  if (trustLocation !== undefined || trustInline !== undefined) {
    if (truststoreType !== 'PEM') throw new Error(`listener ${listenerName}: ssl.truststore.type ${truststoreType} is not supported (PEM)`);
    options.ca = trustInline ?? readPem(trustLocation!);
  }
  const auth = clientAuth(config, listenerName);
  options.requestCert = auth !== 'none';
  options.rejectUnauthorized = auth === 'required';
  const protocols = (p('ssl.enabled.protocols') ?? 'TLSv1.2,TLSv1.3').split(',').map((s) => s.trim());
  options.minVersion = protocols.includes('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3';
  options.maxVersion = protocols.includes('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2';
  const rules = p('ssl.principal.mapping.rules');
  if (rules !== undefined && rules.trim() !== 'DEFAULT') throw new Error('ssl.principal.mapping.rules: only DEFAULT is supported');
  return options;
}

/** Client TLS options for connecting to a peer's inter-broker listener (same keystore and truststore). */
export function clientTlsOptions(config: BrokerConfig, listenerName: string): { key?: string | Buffer; cert?: string | Buffer; pfx?: Buffer; passphrase?: string; ca?: string | Buffer } {
  const s = serverTlsOptions(config, listenerName);
  return { key: s.key as string | undefined, cert: s.cert as string | undefined, pfx: s.pfx as Buffer | undefined, passphrase: s.passphrase, ca: s.ca as string | undefined };
}

/**
 * Kafka's DefaultKafkaPrincipalBuilder for SSL: `User:` + the certificate subject as an RFC 2253
 * distinguished name (most specific first: CN=client,OU=...,O=...,C=...).
 */
export function principalFromSubject(subject: string): string {
  const rdns = subject.split('\n').filter((s) => s !== '').map((rdn) => {
    const eq = rdn.indexOf('=');
    const value = rdn.slice(eq + 1).replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1');
    return `${rdn.slice(0, eq)}=${value}`;
  });
  return `User:${rdns.reverse().join(',')}`;
}
