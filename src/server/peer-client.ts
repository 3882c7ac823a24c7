import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { FrameReader, FrameTooLarge } from '../../protocol/frame.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { SaslAuthenticateApi, SaslHandshakeApi, type ApiDescriptor } from '../../protocol/generated/index.js';
import type { SaslHandshakeResponse } from '../../protocol/generated/sasl-handshake.js';
import type { SaslAuthenticateResponse } from '../../protocol/generated/sasl-authenticate.js';
import { encodeRequestHeader } from '../../protocol/generated/request-header.js';
import { decodeResponseHeader } from '../../protocol/generated/response-header.js';
import type { Logger } from '../util/log.js';
import { createSaslClient, type PeerSecurity } from '../security/inter-broker.js';

export class PeerUnavailableError extends Error {
  constructor(readonly nodeId: number, message: string) { super(message); this.name = 'PeerUnavailableError'; }
}

interface InFlight {
  readonly descriptor: ApiDescriptor;
  readonly version: number;
  readonly resolve: (body: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface PeerClientOptions {
  readonly requestTimeoutMs: number;
  /** One-way messages are dropped (Raft resends) while this many bytes wait in the socket. */
  readonly maxBufferedBytes: number;
  /** No new connection attempt sooner than this after a failed one. */
  readonly reconnectBackoffMs: number;
  /** TLS and SASL towards the peer's inter-broker listener (default: PLAINTEXT). */
  readonly security?: PeerSecurity;
}

/** Re-authenticate (KIP-368) when this share of the session lifetime the server gave has passed. */
const REAUTH_AT = 0.85;

/**
 * One connection to another broker, speaking Kafka's framing: requests with responses matched by
 * correlation id, and one-way messages (Raft envelopes) that get none. Connects on first use and
 * again after a failure; a request on a dead connection fails at once with PeerUnavailableError.
 * With `security`: TLS, then SASL (SaslHandshake v1 + SaslAuthenticate v2, PLAIN or SCRAM) before
 * anything else is written (frames wait meanwhile), and re-authentication on the same connection
 * before the session lifetime the server answered runs out.
 */
export class PeerClient {
  private socket: Socket | null = null;
  private connected = false;
  /** Authenticated (or no SASL): frames go straight to the socket; until then they wait in `queued`. */
  private ready = false;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  /** The socket corked until the next tick (see write). */
  private corked: Socket | null = null;
  private reauthTimer: NodeJS.Timeout | null = null;
  /** The last TLS failure logged (each different one is logged once, not every reconnect attempt). */
  private lastTlsError = '';
  private lastFailure = -Infinity;
  private frames: FrameReader | null = null;
  private readonly inFlight = new Map<number, InFlight>();
  private nextCorrelationId = 1;
  private closed = false;

  constructor(
    readonly nodeId: number,
    readonly host: string,
    readonly port: number,
    private readonly clientId: string,
    private readonly options: PeerClientOptions,
    private readonly log: Logger,
  ) {}

  /** Sends a request and resolves with the decoded response body. */
  request(descriptor: ApiDescriptor, version: number, body: unknown, timeoutMs = this.options.requestTimeoutMs): Promise<unknown> {
    const socket = this.ensureSocket();
    if (socket === null) return Promise.reject(new PeerUnavailableError(this.nodeId, `broker ${this.nodeId} at ${this.host}:${this.port} is unreachable`));
    const correlationId = this.nextCorrelationId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inFlight.delete(correlationId);
        reject(new PeerUnavailableError(this.nodeId, `${descriptor.name} to broker ${this.nodeId} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.inFlight.set(correlationId, { descriptor, version, resolve, reject, timer });
      this.write(socket, this.frame(descriptor, version, body, correlationId));
    });
  }

  /** Sends a one-way message; returns false when it was dropped (no connection, or too much buffered). */
  send(descriptor: ApiDescriptor, version: number, body: unknown): boolean {
    const socket = this.ensureSocket();
    if (socket === null || socket.writableLength + this.queuedBytes > this.options.maxBufferedBytes) return false;
    this.write(socket, this.frame(descriptor, version, body, this.nextCorrelationId++));
    return true;
  }

  close(): void {
    this.closed = true;
    this.clearReauth();
    this.socket?.destroy();
    this.failAll('connection closed');
  }

  private write(socket: Socket, frame: Buffer[]): void {
    if (this.ready) {
      // Every frame of one event-loop turn (each group's Raft envelope, requests) leaves in one
      // writev: the socket stays corked until the next tick.
      if (this.corked !== socket) {
        this.corked = socket;
        socket.cork();
        process.nextTick(() => { if (this.corked === socket) this.corked = null; socket.uncork(); });
      }
      for (const c of frame) socket.write(c);
      return;
    }
    for (const c of frame) { this.queued.push(c); this.queuedBytes += c.length; }
  }

  /** A request written at once, ahead of the queued frames (the SASL exchange). */
  private exchange<T>(socket: Socket, descriptor: ApiDescriptor, version: number, body: unknown): Promise<T> {
    const correlationId = this.nextCorrelationId++;
    const timeoutMs = this.options.requestTimeoutMs;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inFlight.delete(correlationId);
        reject(new PeerUnavailableError(this.nodeId, `${descriptor.name} to broker ${this.nodeId} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.inFlight.set(correlationId, { descriptor, version, resolve, reject, timer });
      for (const c of this.frame(descriptor, version, body, correlationId)) socket.write(c);
    }) as Promise<T>;
  }

  /** The transport is up (TCP, or the TLS handshake done): authenticate if asked, then write what waited. */
  private onConnected(socket: Socket): void {
    this.connected = true;
    this.log.debug({ peer: this.nodeId }, 'connected to peer broker');
    if (this.options.security?.sasl === undefined) { this.markReady(socket); return; }
    this.authenticate(socket).then(() => {
      if (this.socket === socket) this.markReady(socket);
    }, (err: unknown) => {
      if (this.socket !== socket) return;
      this.log.warn({ peer: this.nodeId, err: (err as Error).message }, 'SASL authentication to peer broker failed');
      this.lastFailure = performance.now();
      socket.destroy();
    });
  }

  private markReady(socket: Socket): void {
    this.ready = true;
    const frames = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    if (frames.length > 0) {
      socket.cork();
      for (const f of frames) socket.write(f);
      socket.uncork();
    }
  }

  /**
   * SaslHandshake v1 then SaslAuthenticate v2 until the mechanism completes (the server's final
   * message checked for SCRAM); a session lifetime in the answer schedules the next round.
   */
  private async authenticate(socket: Socket): Promise<void> {
    const credentials = this.options.security!.sasl!;
    const handshake = await this.exchange<SaslHandshakeResponse>(socket, SaslHandshakeApi, 1, { mechanism: credentials.mechanism });
    if (handshake.errorCode !== 0) {
      throw new Error(`SaslHandshake for ${credentials.mechanism} failed with error ${handshake.errorCode} (enabled: ${handshake.mechanisms.join(', ')})`);
    }
    const client = createSaslClient(credentials);
    let token: Buffer | null = client.initial();
    let lifetimeMs = 0n;
    while (token !== null) {
      const r: SaslAuthenticateResponse = await this.exchange<SaslAuthenticateResponse>(socket, SaslAuthenticateApi, 2, { authBytes: token });
      if (r.errorCode !== 0) throw new Error(`SaslAuthenticate failed with error ${r.errorCode}: ${r.errorMessage ?? ''}`);
      lifetimeMs = r.sessionLifetimeMs;
      token = client.evaluate(r.authBytes);
    }
    if (lifetimeMs > 0n && this.socket === socket) {
      const delay = Math.max(1, Math.floor(Number(lifetimeMs) * REAUTH_AT));
      this.clearReauth();
      this.reauthTimer = setTimeout(() => this.reauthenticate(socket), delay);
      this.reauthTimer.unref();
    }
  }

  /** KIP-368: a new SASL exchange on the live connection; other requests keep flowing meanwhile. */
  private reauthenticate(socket: Socket): void {
    this.reauthTimer = null;
    if (this.socket !== socket || this.closed) return;
    this.authenticate(socket).catch((err: unknown) => {
      this.log.warn({ peer: this.nodeId, err: (err as Error).message }, 'SASL re-authentication to peer broker failed');
      if (this.socket === socket) socket.destroy();
    });
  }

  private clearReauth(): void {
    if (this.reauthTimer !== null) clearTimeout(this.reauthTimer);
    this.reauthTimer = null;
  }

  /** One request frame as chunks: record bytes (Raft entries) stay by reference, never copied into one buffer. */
  private frame(descriptor: ApiDescriptor, version: number, body: unknown, correlationId: number): Buffer[] {
    const w = new Writer(512);
    w.int32(0);
    encodeRequestHeader(w, descriptor.requestHeaderVersion(version), {
      requestApiKey: descriptor.apiKey, requestApiVersion: version, correlationId, clientId: this.clientId,
    });
    descriptor.encodeRequest(w, version, body);
    const chunks = w.toChunks();
    chunks[0]!.writeInt32BE(w.length - 4, 0);
    return chunks;
  }

  private ensureSocket(): Socket | null {
    if (this.closed) return null;
    if (this.socket !== null) return this.socket;
    if (performance.now() - this.lastFailure < this.options.reconnectBackoffMs) return null;
    const tls = this.options.security?.tls;
    const socket: Socket = tls === undefined
      ? connect({ host: this.host, port: this.port })
      : connectTls({ ...tls, host: this.host, port: this.port, servername: isIp(this.host) ? undefined : this.host });
    socket.setNoDelay(true);
    this.socket = socket;
    this.ready = false;
    this.frames = new FrameReader(1 << 30);
    socket.on(tls === undefined ? 'connect' : 'secureConnect', () => this.onConnected(socket));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      // A TLS handshake failure is a configuration problem worth seeing; other errors are routine.
      if (tls !== undefined && !this.connected && err.message !== this.lastTlsError) {
        this.lastTlsError = err.message;
        this.log.warn({ peer: this.nodeId, err: err.message }, 'TLS connection to peer broker failed');
      } else this.log.debug({ peer: this.nodeId, err: err.message }, 'peer connection error');
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      if (!this.connected) this.lastFailure = performance.now();
      this.socket = null;
      this.connected = false;
      this.ready = false;
      this.queued = [];
      this.queuedBytes = 0;
      this.clearReauth();
      this.failAll(`connection to broker ${this.nodeId} closed`);
    });
    return socket;
  }

  private onData(chunk: Buffer): void {
    const frames = this.frames!;
    frames.push(chunk);
    for (let f = frames.next(); f !== null; f = frames.next()) {
      if (f instanceof FrameTooLarge || f.length < 4) {
        this.log.warn({ peer: this.nodeId }, 'malformed response from peer broker');
        this.socket?.destroy();
        return;
      }
      const correlationId = f.readInt32BE(0);
      const call = this.inFlight.get(correlationId);
      if (call === undefined) continue; // timed out already
      this.inFlight.delete(correlationId);
      clearTimeout(call.timer);
      try {
        const r = new Reader(f);
        decodeResponseHeader(r, call.descriptor.responseHeaderVersion(call.version));
        call.resolve(call.descriptor.decodeResponse(r, call.version));
      } catch (err) {
        call.reject(err as Error);
      }
    }
  }

  private failAll(reason: string): void {
    for (const call of this.inFlight.values()) {
      clearTimeout(call.timer);
      call.reject(new PeerUnavailableError(this.nodeId, reason));
    }
    this.inFlight.clear();
  }
}

function isIp(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
