import { ApiKey } from '../../protocol/generated/index.js';
import type { ConnectionInfo } from '../kafka/handlers/handler.js';
import { ErrorCode } from '../kafka/errors.js';
import type { ScramCredential } from '../cluster/image.js';
import type { Clock } from '../util/clock.js';
import { OAuthBearerUnsecuredServer, PlainServer, SaslAuthenticationError, type SaslServer, type UnsecuredJwtOptions } from './sasl-server.js';
import { ScramServer, scramMechanismByName } from './scram.js';

/** The mechanisms raftka implements (sasl.enabled.mechanisms may name only these). */
export const SUPPORTED_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;

/** SASL settings of one SASL_PLAINTEXT or SASL_SSL listener. */
export interface SaslListenerConfig {
  readonly listenerName: string;
  /** sasl.enabled.mechanisms, in the order answered in SaslHandshake. */
  readonly mechanisms: readonly string[];
  /** PLAIN users (user_<name>="<password>" of the listener's PlainLoginModule JAAS config). */
  readonly plainUsers: ReadonlyMap<string, string>;
  /** SCRAM credentials from the replicated metadata. */
  scramCredential(username: string, mechanismId: number): ScramCredential | undefined;
  readonly oauth: UnsecuredJwtOptions;
  /** connections.max.reauth.ms (0: sessions do not expire, unless their credential does). */
  readonly connectionsMaxReauthMs: number;
}

/** What the connection does with a request before or around authentication. */
export type Admission =
  /** Dispatch it to its handler. */
  | 'serve'
  /** Close the connection without an answer (Kafka: "Unexpected Kafka request ... during SASL handshake"). */
  | 'close'
  /** Answer it with ILLEGAL_SASL_STATE, then close (a request other than SaslAuthenticate mid-exchange). */
  | 'reject';

type State = 'handshake' | 'authenticate' | 'raw' | 'complete' | 'failed';

export interface SaslAuthenticateResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly authBytes: Buffer;
  readonly sessionLifetimeMs: bigint;
}

/**
 * The SASL state of one connection (Kafka's SaslServerAuthenticator): ApiVersions and
 * SaslHandshake first; then SaslAuthenticate requests (handshake v1) or raw size-prefixed tokens
 * (handshake v0, as kafka-python and old clients send); then every API. A failure answers
 * SASL_AUTHENTICATION_FAILED (or the handshake's error) and the connection closes. KIP-368: a
 * SaslHandshake on an authenticated connection starts re-authentication (same mechanism, same
 * principal); a session past its lifetime is closed at its next request.
 */
export class SaslSession {
  private state: State = 'handshake';
  private server: SaslServer | null = null;
  private mechanism: string | null = null;
  private authenticatedMechanism: string | null = null;
  private authenticatedPrincipal: string | null = null;
  /** Monotonic ms at which the session expires, null: never. */
  private expiresAt: number | null = null;

  constructor(
    private readonly config: SaslListenerConfig,
    private readonly info: ConnectionInfo,
    private readonly clock: Clock,
  ) {}

  /** Authenticated at least once (a re-authentication may be under way). */
  get authenticated(): boolean { return this.authenticatedPrincipal !== null; }
  /** The connection must close once the pending answers are written. */
  get failed(): boolean { return this.state === 'failed'; }
  /** The next frame is a raw SASL token (after SaslHandshake v0), not a Kafka request. */
  get expectsRawToken(): boolean { return this.state === 'raw'; }
  get expired(): boolean { return this.expiresAt !== null && this.clock.monotonic() >= this.expiresAt; }

  admit(apiKey: number): Admission {
    switch (this.state) {
      case 'complete':
        if (this.expired && apiKey !== ApiKey.SaslHandshake) return 'close';
        return 'serve';
      case 'handshake':
        if (this.authenticated) return this.expired && apiKey !== ApiKey.SaslHandshake ? 'close' : 'serve';
        return apiKey === ApiKey.ApiVersions || apiKey === ApiKey.SaslHandshake ? 'serve' : 'close';
      case 'authenticate':
        if (apiKey === ApiKey.SaslAuthenticate) return 'serve';
        // During a re-authentication the old session still stands until it expires.
        if (this.authenticated && !this.expired) return 'serve';
        return 'reject';
      case 'raw':
      case 'failed':
        return 'close';
    }
  }

  handshake(mechanism: string, version: number): { errorCode: number; mechanisms: string[] } {
    const mechanisms = [...this.config.mechanisms];
    const reauth = this.authenticated;
    if (reauth && this.state === 'complete') this.state = 'handshake';
    if (this.state !== 'handshake') { this.state = 'failed'; return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms }; }
    if (!mechanisms.includes(mechanism)) { this.state = 'failed'; return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms }; }
    if (reauth && (version < 1 || mechanism !== this.authenticatedMechanism)) {
      this.state = 'failed';
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
    }
    this.mechanism = mechanism;
    this.server = this.createServer(mechanism);
    this.state = version >= 1 ? 'authenticate' : 'raw';
    return { errorCode: ErrorCode.NONE, mechanisms };
  }

  authenticate(authBytes: Buffer, version: number): SaslAuthenticateResult {
    const answer = (errorCode: number, errorMessage: string | null, bytes: Buffer = Buffer.alloc(0), lifetime = 0): SaslAuthenticateResult =>
      ({ errorCode, errorMessage, authBytes: bytes, sessionLifetimeMs: BigInt(lifetime) });
    if (this.state !== 'authenticate' || this.server === null) {
      return answer(ErrorCode.ILLEGAL_SASL_STATE, this.state === 'complete'
        ? 'SaslAuthenticate request received after successful authentication'
        : `Unexpected SaslAuthenticate request in SASL state ${this.state}`);
    }
    try {
      const out = this.server.evaluate(authBytes);
      if (!this.server.complete) return answer(ErrorCode.NONE, null, out);
      const lifetime = this.finish();
      return answer(ErrorCode.NONE, null, out, version >= 1 ? lifetime : 0);
    } catch (err) {
      this.state = 'failed';
      if (err instanceof SaslAuthenticationError) return answer(ErrorCode.SASL_AUTHENTICATION_FAILED, err.message);
      throw err;
    }
  }

  /** A raw token after SaslHandshake v0: the bytes to send back size-prefixed, or null to close. */
  rawToken(token: Buffer): Buffer | null {
    if (this.state !== 'raw' || this.server === null) return null;
    try {
      const out = this.server.evaluate(token);
      if (this.server.complete) this.finish();
      return out;
    } catch (err) {
      this.state = 'failed';
      if (err instanceof SaslAuthenticationError) return null;
      throw err;
    }
  }

  /** Authentication completed: principal set, session lifetime (ms, 0: none) computed (Kafka's ReauthInfo). */
  private finish(): number {
    const server = this.server!;
    const principal = `User:${server.authorizationId}`;
    if (this.authenticatedPrincipal !== null && principal !== this.authenticatedPrincipal) {
      throw new SaslAuthenticationError(`Cannot change principals during re-authentication from ${this.authenticatedPrincipal} to ${principal}`);
    }
    this.state = 'complete';
    this.authenticatedPrincipal = principal;
    this.authenticatedMechanism = this.mechanism;
    this.info.principal = principal;
    this.server = null;
    const maxReauth = this.config.connectionsMaxReauthMs;
    const credentialLeft = server.credentialExpiresAtMs === undefined ? undefined : Math.max(0, server.credentialExpiresAtMs - this.clock.now());
    let lifetime = 0;
    if (credentialLeft !== undefined && maxReauth > 0) lifetime = Math.min(credentialLeft, maxReauth);
    else if (credentialLeft !== undefined) lifetime = credentialLeft;
    else if (maxReauth > 0) lifetime = maxReauth;
    this.expiresAt = credentialLeft !== undefined || maxReauth > 0 ? this.clock.monotonic() + lifetime : null;
    return Math.floor(lifetime);
  }

  private createServer(mechanism: string): SaslServer {
    if (mechanism === 'PLAIN') return new PlainServer(this.config.plainUsers);
    if (mechanism === 'OAUTHBEARER') return new OAuthBearerUnsecuredServer(this.config.oauth, () => this.clock.now());
    const scram = scramMechanismByName(mechanism);
    if (scram !== undefined) return new ScramServer(scram, (u, id) => this.config.scramCredential(u, id));
    throw new Error(`SASL mechanism ${mechanism} is enabled but not implemented`);
  }
}

const sessions = new WeakMap<ConnectionInfo, SaslSession>();

/** The SASL session of a connection on a SASL listener (undefined on PLAINTEXT and SSL listeners). */
export function saslSessionOf(info: ConnectionInfo): SaslSession | undefined {
  return sessions.get(info);
}

export function attachSaslSession(info: ConnectionInfo, session: SaslSession): void {
  sessions.set(info, session);
}
