import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramCredential } from '../cluster/image.js';
import { SaslAuthenticationError, type SaslServer } from './sasl-server.js';

/** Kafka's ScramMechanism: the id stored in UserScramCredentialRecord and used by the admin APIs. */
export interface ScramMechanism {
  readonly name: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly id: number;
  readonly hash: 'sha256' | 'sha512';
  readonly keyLength: number;
  /** Kafka's minimum (and the admin API's lower bound) for iterations. */
  readonly minIterations: number;
}

export const SCRAM_SHA_256: ScramMechanism = { name: 'SCRAM-SHA-256', id: 1, hash: 'sha256', keyLength: 32, minIterations: 4096 };
export const SCRAM_SHA_512: ScramMechanism = { name: 'SCRAM-SHA-512', id: 2, hash: 'sha512', keyLength: 64, minIterations: 4096 };
/** AlterUserScramCredentials accepts iterations up to this (Kafka's MAX_ITERATIONS). */
export const SCRAM_MAX_ITERATIONS = 16384;

export function scramMechanismByName(name: string): ScramMechanism | undefined {
  return name === SCRAM_SHA_256.name ? SCRAM_SHA_256 : name === SCRAM_SHA_512.name ? SCRAM_SHA_512 : undefined;
}

export function scramMechanismById(id: number): ScramMechanism | undefined {
  return id === 1 ? SCRAM_SHA_256 : id === 2 ? SCRAM_SHA_512 : undefined;
}

const hmac = (m: ScramMechanism, key: Buffer, data: Buffer | string): Buffer => createHmac(m.hash, key).update(data).digest();
const digest = (m: ScramMechanism, data: Buffer): Buffer => createHash(m.hash).update(data).digest();

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** RFC 5802 Hi(): PBKDF2 with HMAC-H. */
export function saltedPassword(m: ScramMechanism, password: Buffer | string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(password, salt, iterations, m.keyLength, m.hash);
}

/** The stored credential for a password: stored key and server key from a salted password. Never the password. */
export function scramCredentialFromSaltedPassword(m: ScramMechanism, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const clientKey = hmac(m, salted, 'Client Key');
  return { salt, storedKey: digest(m, clientKey), serverKey: hmac(m, salted, 'Server Key'), iterations };
}

export function scramCredential(m: ScramMechanism, password: string, iterations: number, salt: Buffer = randomBytes(32)): ScramCredential {
  return scramCredentialFromSaltedPassword(m, saltedPassword(m, password, salt, iterations), salt, iterations);
}

/** RFC 5802 saslname: ',' and '=' are escaped as =2C and =3D. */
export function saslNameToUsername(saslName: string): string {
  if (/=(?!2C|3D)/.test(saslName)) throw new SaslAuthenticationError('Invalid username');
  return saslName.replaceAll('=2C', ',').replaceAll('=3D', '=');
}
export function usernameToSaslName(username: string): string {
  return username.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

/** Kafka's ScramFormatter.secureRandomString: base-36 digits of 130 random bits. */
function randomNonce(): string {
  return BigInt(`0x${randomBytes(17).toString('hex')}`).toString(36);
}

const FAILED = 'Authentication failed during authentication due to invalid credentials with SASL mechanism';

/**
 * Server side of SCRAM-SHA-256/512 (RFC 5802, 7677) as Kafka's ScramSaslServer: client-first
 * (gs2 header, n=, r=), server-first (r=, s=, i=), client-final (c=, r=, p=), server-final (v=).
 * Credentials come from the replicated metadata (salted keys only).
 */
export class ScramServer implements SaslServer {
  private step: 'first' | 'final' | 'done' = 'first';
  private username = '';
  private credential: ScramCredential | undefined;
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (username: string, mechanismId: number) => ScramCredential | undefined,
  ) {}

  get mechanismName(): string { return this.mechanism.name; }
  get complete(): boolean { return this.step === 'done'; }
  get authorizationId(): string { return this.username; }

  evaluate(token: Buffer): Buffer {
    const text = token.toString('utf8');
    if (this.step === 'first') return this.clientFirst(text);
    if (this.step === 'final') return this.clientFinal(text);
    throw new SaslAuthenticationError('Unexpected SCRAM message after authentication completed');
  }

  private fail(): never { throw new SaslAuthenticationError(`${FAILED} ${this.mechanism.name}`); }

  private clientFirst(text: string): Buffer {
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(n=[^,]*,r=[^,]+(?:,.*)?)$/.exec(text);
    if (m === null) throw new SaslAuthenticationError('Invalid SCRAM client first message');
    if (m[1]!.startsWith('p=')) throw new SaslAuthenticationError('SCRAM channel binding is not supported');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3]!;
    const attrs = parseAttributes(this.clientFirstBare);
    this.username = saslNameToUsername(attrs.get('n') ?? '');
    const authzid = m[2] === undefined ? '' : saslNameToUsername(m[2].slice(2));
    if (authzid !== '' && authzid !== this.username) {
      throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    }
    if ((attrs.get('tokenauth') ?? 'false') === 'true') this.fail(); // delegation tokens: not supported
    this.credential = this.lookup(this.username, this.mechanism.id);
    if (this.credential === undefined || this.credential.iterations < this.mechanism.minIterations) this.fail();
    this.nonce = `${attrs.get('r')!}${randomNonce()}`;
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    this.step = 'final';
    return Buffer.from(this.serverFirst, 'utf8');
  }

  private clientFinal(text: string): Buffer {
    const m = /^(c=([^,]*),r=([^,]*)(?:,[^p][^,]*)*),p=([^,]+)$/.exec(text);
    if (m === null) throw new SaslAuthenticationError('Invalid SCRAM client final message');
    const withoutProof = m[1]!;
    if (m[3] !== this.nonce) throw new SaslAuthenticationError('Invalid SCRAM nonce');
    if (Buffer.from(m[2]!, 'base64').toString('utf8') !== this.gs2Header) throw new SaslAuthenticationError('Invalid SCRAM channel binding');
    const cred = this.credential!;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const proof = Buffer.from(m[4]!, 'base64');
    const clientSignature = hmac(this.mechanism, cred.storedKey, authMessage);
    if (proof.length !== clientSignature.length) this.fail();
    const computedStoredKey = digest(this.mechanism, xor(proof, clientSignature));
    if (!timingSafeEqual(computedStoredKey, cred.storedKey)) this.fail();
    this.step = 'done';
    return Buffer.from(`v=${hmac(this.mechanism, cred.serverKey, authMessage).toString('base64')}`, 'utf8');
  }
}

function parseAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/** Client side of SCRAM (broker-to-broker authentication). */
export class ScramClient {
  private readonly clientNonce = randomNonce();
  private clientFirstBare = '';
  private serverSignature: Buffer | null = null;

  constructor(private readonly mechanism: ScramMechanism, private readonly username: string, private readonly password: string) {}

  first(): Buffer {
    this.clientFirstBare = `n=${usernameToSaslName(this.username)},r=${this.clientNonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  final(serverFirstBytes: Buffer): Buffer {
    const serverFirst = serverFirstBytes.toString('utf8');
    const attrs = parseAttributes(serverFirst);
    const nonce = attrs.get('r') ?? '';
    if (!nonce.startsWith(this.clientNonce)) throw new Error('SCRAM: server nonce does not extend the client nonce');
    const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
    const iterations = Number(attrs.get('i'));
    const salted = saltedPassword(this.mechanism, this.password, salt, iterations);
    const clientKey = hmac(this.mechanism, salted, 'Client Key');
    const storedKey = digest(this.mechanism, clientKey);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(this.mechanism, storedKey, authMessage));
    this.serverSignature = hmac(this.mechanism, hmac(this.mechanism, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server-final message (the server knew the credential). */
  verify(serverFinal: Buffer): void {
    const v = parseAttributes(serverFinal.toString('utf8')).get('v');
    if (v === undefined || this.serverSignature === null || !Buffer.from(v, 'base64').equals(this.serverSignature)) {
      throw new Error('SCRAM: invalid server signature');
    }
  }
}

/**
 * Kafka's `kafka-storage format --add-scram` syntax:
 *   SCRAM-SHA-256=[name=alice,password=alice-secret]   (also iterations=, salt=, saltedpassword=)
 */
export interface ScramBootstrapEntry {
  readonly mechanism: ScramMechanism;
  readonly name: string;
  readonly password: string;
  readonly iterations: number;
}

export function parseAddScram(text: string): ScramBootstrapEntry {
  const m = /^\s*([A-Z0-9-]+)=\[(.*)\]\s*$/.exec(text);
  if (m === null) throw new Error(`cannot parse SCRAM credential '${text}' (expected SCRAM-SHA-256=[name=alice,password=alice-secret])`);
  const mechanism = scramMechanismByName(m[1]!);
  if (mechanism === undefined) throw new Error(`unsupported SCRAM mechanism '${m[1]}'`);
  const attrs = new Map<string, string>();
  for (const part of m[2]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`cannot parse '${part}' in SCRAM credential '${text}'`);
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    attrs.set(part.slice(0, eq).trim(), v);
  }
  const name = attrs.get('name');
  const password = attrs.get('password');
  if (name === undefined || name === '') throw new Error(`SCRAM credential '${text}' has no name`);
  if (password === undefined) throw new Error(`SCRAM credential '${text}' has no password`);
  const iterations = attrs.has('iterations') ? Number(attrs.get('iterations')) : mechanism.minIterations;
  if (!Number.isInteger(iterations) || iterations < mechanism.minIterations || iterations > SCRAM_MAX_ITERATIONS) {
    throw new Error(`iterations of SCRAM credential '${text}' must be between ${mechanism.minIterations} and ${SCRAM_MAX_ITERATIONS}`);
  }
  return { mechanism, name, password, iterations };
}

/** Several --add-scram entries in one config value, separated by ';'. */
export function parseAddScramList(text: string): ScramBootstrapEntry[] {
  return text.split(';').map((s) => s.trim()).filter((s) => s !== '').map(parseAddScram);
}
