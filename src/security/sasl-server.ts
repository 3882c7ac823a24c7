import { createHash, timingSafeEqual } from 'node:crypto';

/** One SASL exchange on the server side (Kafka's javax SaslServer, per mechanism). */
export interface SaslServer {
  readonly mechanismName: string;
  /** Evaluates the client's token; returns the challenge or final bytes. Throws SaslAuthenticationError. */
  evaluate(token: Buffer): Buffer;
  readonly complete: boolean;
  /** The authenticated user name once complete. */
  readonly authorizationId: string;
  /** Wall-clock ms at which the credential expires (OAUTHBEARER's exp), if it does. */
  readonly credentialExpiresAtMs?: number;
}

/** A failed authentication: `message` is what the client is told (SASL_AUTHENTICATION_FAILED). */
export class SaslAuthenticationError extends Error {
  constructor(message: string) { super(message); this.name = 'SaslAuthenticationError'; }
}

/**
 * PLAIN (RFC 4616) as Kafka's PlainSaslServer: `authzid NUL authcid NUL passwd`, checked against
 * the `user_<name>="<password>"` options of the listener's JAAS config.
 */
export class PlainServer implements SaslServer {
  readonly mechanismName = 'PLAIN';
  private done = false;
  private user = '';

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  get complete(): boolean { return this.done; }
  get authorizationId(): string { return this.user; }

  evaluate(token: Buffer): Buffer {
    const parts = token.toString('utf8').split('\u0000');
    if (parts.length !== 3) throw new SaslAuthenticationError('Invalid SASL/PLAIN response: expected 3 tokens');
    const [authzid, username, password] = parts as [string, string, string];
    if (username === '') throw new SaslAuthenticationError('Authentication failed: username not specified');
    if (password === '') throw new SaslAuthenticationError('Authentication failed: password not specified');
    const expected = this.users.get(username);
    if (expected === undefined || !constantTimeEquals(expected, password)) {
      throw new SaslAuthenticationError('Authentication failed: Invalid username or password');
    }
    if (authzid !== '' && authzid !== username) {
      throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    }
    this.user = username;
    this.done = true;
    return Buffer.alloc(0);
  }
}

/** Compares digests, so neither the length nor the content of the expected password leaks through timing. */
function constantTimeEquals(a: string, b: string): boolean {
  const h = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(h(a), h(b));
}

/** Options of Kafka's OAuthBearerUnsecuredValidatorCallbackHandler (from the OAuthBearerLoginModule JAAS entry). */
export interface UnsecuredJwtOptions {
  /** unsecuredValidatorPrincipalClaimName (default "sub"). */
  readonly principalClaimName: string;
  /** unsecuredValidatorScopeClaimName (default "scope"). */
  readonly scopeClaimName: string;
  /** unsecuredValidatorRequiredScope (default none). */
  readonly requiredScope: readonly string[];
  /** unsecuredValidatorAllowableClockSkewMs (default 0). */
  readonly allowableClockSkewMs: number;
}

export const DEFAULT_UNSECURED_JWT_OPTIONS: UnsecuredJwtOptions = {
  principalClaimName: 'sub', scopeClaimName: 'scope', requiredScope: [], allowableClockSkewMs: 0,
};

const KVSEP = '\u0001';

/**
 * OAUTHBEARER (RFC 7628) with Kafka's default unsecured validator: a JWT with `alg: none`, the
 * principal from `sub`, `exp` required and not past. A bad token is answered, as Kafka does, with
 * an error challenge (`{"status":"invalid_token"}`); the client's `\x01` reply then fails.
 */
export class OAuthBearerUnsecuredServer implements SaslServer {
  readonly mechanismName = 'OAUTHBEARER';
  private done = false;
  private principal = '';
  private errorMessage: string | null = null;
  credentialExpiresAtMs: number | undefined;

  constructor(private readonly options: UnsecuredJwtOptions, private readonly nowMs: () => number) {}

  get complete(): boolean { return this.done; }
  get authorizationId(): string { return this.principal; }

  evaluate(token: Buffer): Buffer {
    const text = token.toString('utf8');
    if (this.errorMessage !== null) {
      if (text === KVSEP) throw new SaslAuthenticationError(this.errorMessage);
      throw new SaslAuthenticationError('Invalid OAUTHBEARER client response after an error challenge');
    }
    const m = /^n,(?:a=([^,]*))?,\u0001((?:[^\u0001]*\u0001)*)\u0001$/.exec(text);
    if (m === null) throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message');
    const kv = new Map<string, string>();
    for (const pair of m[2]!.split(KVSEP).filter((s) => s !== '')) {
      const eq = pair.indexOf('=');
      if (eq > 0) kv.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const auth = /^Bearer (.+)$/i.exec(kv.get('auth') ?? '');
    if (auth === null) throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message: no auth=Bearer token');
    const failure = this.validate(auth[1]!.trim());
    if (failure !== null) {
      this.errorMessage = JSON.stringify({ status: 'invalid_token' });
      return Buffer.from(this.errorMessage, 'utf8');
    }
    const authzid = m[1] ?? '';
    if (authzid !== '' && authzid !== this.principal) {
      throw new SaslAuthenticationError(`Authentication failed: Client requested an authorization id (${authzid}) that is different from the token's principal name (${this.principal})`);
    }
    this.done = true;
    return Buffer.alloc(0);
  }

  /** Returns a reason the token is rejected, or null (and sets principal and expiry). */
  private validate(jwt: string): string | null {
    const parts = jwt.split('.');
    if (parts.length !== 3) return 'not a JWS compact serialization';
    let header: unknown;
    let claims: unknown;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return 'header or claims are not JSON';
    }
    if (!isObject(header) || !isObject(claims)) return 'header or claims are not JSON objects';
    if (header.alg !== 'none') return 'unsecured JWS must have alg "none"';
    const now = this.nowMs();
    const skew = this.options.allowableClockSkewMs;
    const exp = claims.exp;
    if (typeof exp !== 'number') return 'no expiration time (exp)';
    if (now - skew >= exp * 1000) return 'token expired';
    const iat = claims.iat;
    if (iat !== undefined && (typeof iat !== 'number' || iat * 1000 > now + skew)) return 'issued in the future';
    const sub = claims[this.options.principalClaimName];
    if (typeof sub !== 'string' || sub.trim() === '') return `no principal claim (${this.options.principalClaimName})`;
    if (this.options.requiredScope.length > 0) {
      const raw = claims[this.options.scopeClaimName];
      const scope = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : [];
      if (!this.options.requiredScope.every((s) => scope.includes(s))) return 'required scope missing';
    }
    this.principal = sub;
    this.credentialExpiresAtMs = exp * 1000;
    return null;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
