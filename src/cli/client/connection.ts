import { connect, type Socket } from 'node:net';
import { Reader, Writer } from '../../../protocol/primitives.js';
import { FrameReader, FrameTooLarge } from '../../../protocol/frame.js';
import type { ApiDescriptor } from '../../../protocol/generated/index.js';
import { ApiVersionsApi, type ApiVersionsResponse } from '../../../protocol/generated/api-versions.js';
import { encodeRequestHeader } from '../../../protocol/generated/request-header.js';
import { decodeResponseHeader } from '../../../protocol/generated/response-header.js';

/** A failure the tools report as one line (connection refused, timeouts, unsupported APIs). */
export class ClientError extends Error {
  constructor(message: string) { super(message); this.name = 'ClientError'; }
}

interface InFlight {
  readonly api: ApiDescriptor;
  readonly version: number;
  readonly resolve: (body: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const MAX_RESPONSE_BYTES = 1 << 30;

/**
 * One connection to one broker: requests encoded with the generated codecs, pipelined, answered
 * by correlation id. After connect() it knows the broker's ApiVersions and picks, per API, the
 * highest version both sides support.
 */
export class KafkaConnection {
  private readonly frames = new FrameReader(MAX_RESPONSE_BYTES);
  private readonly inFlight = new Map<number, InFlight>();
  private nextCorrelationId = 1;
  private versions = new Map<number, { min: number; max: number }>();
  private failure: Error | null = null;
  private corked = false;

  private constructor(private readonly socket: Socket, readonly address: string, private readonly clientId: string) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new ClientError(`connection to ${address} failed: ${err.message}`)));
    socket.on('close', () => this.fail(new ClientError(`connection to ${address} closed`)));
  }

  static async open(host: string, port: number, options: { clientId?: string; timeoutMs?: number } = {}): Promise<KafkaConnection> {
    const address = `${host}:${port}`;
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { socket.destroy(); reject(new ClientError(`cannot connect to ${address}: timed out`)); }, options.timeoutMs ?? 10000);
      socket.once('connect', () => { clearTimeout(timer); resolve(); });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ClientError(`cannot connect to ${address}: ${err.code ?? err.message}`));
      });
    });
    const conn = new KafkaConnection(socket, address, options.clientId ?? 'raftka-cli');
    const res = await conn.send(ApiVersionsApi, 0, { clientSoftwareName: '', clientSoftwareVersion: '' }) as ApiVersionsResponse;
    conn.versions = new Map(res.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
    return conn;
  }

  /** The highest version of `api` both the broker and this client speak, up to `preferred`. */
  version(api: ApiDescriptor, preferred: number = api.maxVersion, min = api.minVersion): number {
    const broker = this.versions.get(api.apiKey);
    if (broker === undefined) throw new ClientError(`the broker at ${this.address} does not support ${api.name}`);
    const v = Math.min(preferred, broker.max);
    if (v < Math.max(min, broker.min)) throw new ClientError(`no common ${api.name} version with the broker at ${this.address} (it speaks ${broker.min}-${broker.max})`);
    return v;
  }

  supports(api: ApiDescriptor): boolean { return this.versions.has(api.apiKey); }

  /** Sends at the negotiated version and resolves with the decoded response body. */
  request<T>(api: ApiDescriptor, body: unknown, options: { preferred?: number; min?: number; timeoutMs?: number } = {}): Promise<{ version: number; body: T }> {
    const version = this.version(api, options.preferred, options.min);
    return this.send(api, version, body, options.timeoutMs).then((b) => ({ version, body: b as T }));
  }

  /** Sends one request; `expectResponse` false for Produce acks=0. */
  send(api: ApiDescriptor, version: number, body: unknown, timeoutMs = 30000, expectResponse = true): Promise<unknown> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId++;
    const w = new Writer(512);
    w.int32(0); // the frame's size, patched below
    encodeRequestHeader(w, api.requestHeaderVersion(version), { requestApiKey: api.apiKey, requestApiVersion: version, correlationId, clientId: this.clientId });
    api.encodeRequest(w, version, body);
    // Large record buffers stay chunks of their own (no copy); the first chunk holds the size.
    const chunks = w.toChunks();
    chunks[0]!.writeInt32BE(w.length - 4, 0);
    const flushed = this.writeChunks(chunks);
    // Without a response to wait for (acks=0), the socket's buffer is the only backpressure.
    if (!expectResponse) return flushed ? Promise.resolve(null) : new Promise((resolve) => this.socket.once('drain', () => resolve(null)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inFlight.delete(correlationId);
        reject(new ClientError(`${api.name} request to ${this.address} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.inFlight.set(correlationId, { api, version, resolve, reject, timer });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  /**
   * Writes one frame's chunks. Every frame written in the same turn of the event loop leaves in
   * one writev (the socket is corked until the next tick): pipelined requests cost one syscall.
   */
  private writeChunks(chunks: readonly Buffer[]): boolean {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => { this.corked = false; this.socket.uncork(); });
    }
    let flushed = true;
    for (const c of chunks) flushed = this.socket.write(c) && flushed;
    return flushed;
  }

  private onData(chunk: Buffer): void {
    this.frames.push(chunk);
    for (let f = this.frames.next(); f !== null; f = this.frames.next()) {
      if (f instanceof FrameTooLarge) { this.fail(new ClientError(`response from ${this.address} too large (${f.size} bytes)`)); this.socket.destroy(); return; }
      const correlationId = f.readInt32BE(0);
      const call = this.inFlight.get(correlationId);
      if (call === undefined) continue; // a request that timed out
      this.inFlight.delete(correlationId);
      clearTimeout(call.timer);
      try {
        const r = new Reader(f);
        decodeResponseHeader(r, call.api.responseHeaderVersion(call.version));
        call.resolve(call.api.decodeResponse(r, call.version));
      } catch (err) {
        call.reject(new ClientError(`cannot decode ${call.api.name} response from ${this.address}: ${(err as Error).message}`));
      }
    }
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    for (const call of this.inFlight.values()) { clearTimeout(call.timer); call.reject(err); }
    this.inFlight.clear();
  }
}
