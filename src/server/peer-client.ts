import { connect, type Socket } from 'node:net';
import { FrameReader, FrameTooLarge } from '../../protocol/frame.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import type { ApiDescriptor } from '../../protocol/generated/index.js';
import { encodeRequestHeader } from '../../protocol/generated/request-header.js';
import { decodeResponseHeader } from '../../protocol/generated/response-header.js';
import type { Logger } from '../util/log.js';

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
}

/**
 * One connection to another broker, speaking Kafka's framing: requests with responses matched by
 * correlation id, and one-way messages (Raft envelopes) that get none. Connects on first use and
 * again after a failure; a request on a dead connection fails at once with PeerUnavailableError.
 */
export class PeerClient {
  private socket: Socket | null = null;
  private connected = false;
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
      socket.write(this.frame(descriptor, version, body, correlationId));
    });
  }

  /** Sends a one-way message; returns false when it was dropped (no connection, or too much buffered). */
  send(descriptor: ApiDescriptor, version: number, body: unknown): boolean {
    const socket = this.ensureSocket();
    if (socket === null || socket.writableLength > this.options.maxBufferedBytes) return false;
    socket.write(this.frame(descriptor, version, body, this.nextCorrelationId++));
    return true;
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.failAll('connection closed');
  }

  private frame(descriptor: ApiDescriptor, version: number, body: unknown, correlationId: number): Buffer {
    const w = new Writer();
    w.int32(0);
    encodeRequestHeader(w, descriptor.requestHeaderVersion(version), {
      requestApiKey: descriptor.apiKey, requestApiVersion: version, correlationId, clientId: this.clientId,
    });
    descriptor.encodeRequest(w, version, body);
    const out = w.toBuffer();
    out.writeInt32BE(out.length - 4, 0);
    return out;
  }

  private ensureSocket(): Socket | null {
    if (this.closed) return null;
    if (this.socket !== null) return this.socket;
    if (performance.now() - this.lastFailure < this.options.reconnectBackoffMs) return null;
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.frames = new FrameReader(1 << 30);
    socket.on('connect', () => {
      this.connected = true;
      this.log.debug({ peer: this.nodeId }, 'connected to peer broker');
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ peer: this.nodeId, err: err.message }, 'peer connection error'));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      if (!this.connected) this.lastFailure = performance.now();
      this.socket = null;
      this.connected = false;
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
