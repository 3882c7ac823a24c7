import type { Socket } from 'node:net';
import { FrameReader, FrameTooLarge } from '../../protocol/frame.js';
import { Reader, Writer } from '../../protocol/primitives.js';
import { DecodeError } from '../../protocol/errors.js';
import { apiByKey, ApiKey, type ApiDescriptor } from '../../protocol/generated/index.js';
import { decodeRequestHeader } from '../../protocol/generated/request-header.js';
import { encodeResponseHeader } from '../../protocol/generated/response-header.js';
import type { Logger } from '../util/log.js';
import type { ApiHandler, ConnectionInfo, RequestContext } from '../kafka/handlers/handler.js';
import { ErrorCode } from '../kafka/errors.js';
import { attachSaslSession, SaslSession, type SaslListenerConfig } from '../security/sasl-session.js';
import { systemClock, type Clock } from '../util/clock.js';

export interface ConnectionConfig {
  /** queued.max.requests: stop reading a socket while this many of its requests are pending. */
  readonly queuedMaxRequests: number;
  /** socket.request.max.bytes: larger frames close the connection before anything is allocated. */
  readonly socketRequestMaxBytes: number;
  /** connections.max.idle.ms */
  readonly connectionsMaxIdleMs: number;
  /** Instrumentation hooks (metrics); the server knows only this interface. */
  readonly observer?: ServerObserver;
  /** The listener's name (ConnectionInfo.listenerName; default PLAINTEXT). */
  readonly listenerName?: string;
  /** SASL_PLAINTEXT / SASL_SSL listeners: nothing but ApiVersions and the SASL APIs before authentication. */
  readonly sasl?: SaslListenerConfig;
  /** raftka.connection.max.inflight.bytes: stop reading while pending requests hold this many bytes. */
  readonly maxInflightBytes?: number;
  /** Only the inter-broker listener serves raftka's internal APIs (api keys >= 10000 and the controller RPCs). */
  readonly internalApis?: boolean;
  /** Time source for SASL session lifetimes and token expiry (default: the system clock). */
  readonly clock?: Clock;
}

/** Hooks the listener calls; implemented outside src/server (src/metrics). */
export interface ServerObserver {
  connectionOpened(): void;
  connectionClosed(): void;
  bytesIn(bytes: number): void;
  bytesOut(bytes: number): void;
  /** A request was answered: its api, milliseconds from arrival to encoded response, and the response (null: none sent). */
  requestCompleted(apiKey: number, apiName: string, durationMs: number, response: unknown): void;
}

/** A request in flight; responses leave strictly in the order requests arrived. */
interface Slot {
  readonly correlationId: number;
  done: boolean;
  /** Encoded response (size prefix included), or null when Kafka sends no response. */
  chunks: Buffer[] | null;
  /** performance.now() at arrival, when an observer is set. */
  readonly started?: number;
  /** Bytes of the request frame (raftka.connection.max.inflight.bytes). */
  readonly bytes?: number;
}

/**
 * One client socket: frames in, handlers dispatched in arrival order (their synchronous part runs
 * in that order, so appends from pipelined produce requests keep their order), responses out in
 * request order even when later requests finish first.
 */
export class Connection {
  readonly info: ConnectionInfo;
  private readonly frames: FrameReader;
  private readonly pending: Slot[] = [];
  private readingPaused = false;
  private writeBlocked = false;
  private closed = false;
  /** Close once the answers already queued are written (a failed authentication). */
  private closeAfterFlush = false;
  /** Bytes of the requests in `pending`. */
  private inflightBytes = 0;
  /** The socket is corked until the next tick (see flushResponses). */
  private corked = false;
  private readonly sasl: SaslSession | undefined;

  constructor(
    private readonly socket: Socket,
    id: number,
    private readonly handlers: ReadonlyMap<number, ApiHandler>,
    private readonly config: ConnectionConfig,
    private readonly log: Logger,
    private readonly onClose: (c: Connection) => void,
    /** Given when the socket reads into the reader's buffers itself (see userBufferSocket); then call `onRead` after each read. */
    frames?: FrameReader,
  ) {
    this.info = {
      id,
      remoteAddress: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      localPort: socket.localPort ?? 0,
      clientSoftwareName: null,
      clientSoftwareVersion: null,
      principal: 'User:ANONYMOUS',
      listenerName: config.listenerName ?? 'PLAINTEXT',
    };
    if (config.sasl !== undefined) {
      this.sasl = new SaslSession(config.sasl, this.info, config.clock ?? systemClock);
      attachSaslSession(this.info, this.sasl);
    }
    this.frames = frames ?? new FrameReader(config.socketRequestMaxBytes);
    socket.setNoDelay(true);
    socket.setTimeout(config.connectionsMaxIdleMs);
    if (frames === undefined) socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => { this.writeBlocked = false; this.updateReading(); });
    socket.on('timeout', () => {
      if (this.pending.length === 0) this.close('idle for connections.max.idle.ms');
    });
    socket.on('error', (err) => this.log.debug({ conn: id, err: err.message }, 'socket error'));
    socket.on('close', () => { this.closed = true; this.onClose(this); });
  }

  get pendingRequests(): number { return this.pending.length; }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.log.info({ conn: this.info.id, remote: this.info.remoteAddress, reason }, 'closing connection');
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.config.observer?.bytesIn(chunk.length);
    this.frames.push(chunk);
    this.processFrames();
  }

  /** The socket read `bytes` straight into the frame reader's buffers (already passed to its `wrote`). */
  onRead(bytes: number): void {
    if (this.closed) return;
    this.config.observer?.bytesIn(bytes);
    this.processFrames();
  }

  private processFrames(): void {
    while (!this.closed && !this.readingPaused) {
      const frame = this.frames.next();
      if (frame === null) return;
      if (frame instanceof FrameTooLarge) {
        this.close(`frame of ${frame.size} bytes exceeds socket.request.max.bytes ${this.config.socketRequestMaxBytes}`);
        return;
      }
      this.handleFrame(frame);
      this.updateReading();
    }
  }

  /** Backpressure: stop reading while too many requests are pending or the socket cannot take more. */
  private updateReading(): void {
    if (this.closed) return;
    const shouldPause = this.writeBlocked || this.pending.length >= this.config.queuedMaxRequests
      || (this.config.maxInflightBytes !== undefined && this.inflightBytes >= this.config.maxInflightBytes);
    if (shouldPause && !this.readingPaused) {
      this.readingPaused = true;
      this.socket.pause();
    } else if (!shouldPause && this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
      this.processFrames(); // frames already buffered come first
    }
  }

  private handleFrame(frame: Buffer): void {
    if (this.sasl?.expectsRawToken === true) { this.handleRawToken(frame); return; }
    if (frame.length < 8) { this.close('frame shorter than a request header'); return; }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const handler = this.handlers.get(apiKey);
    const descriptor = handler?.descriptor ?? apiByKey(apiKey);
    if (descriptor === undefined || handler === undefined || (handler.internal === true && this.config.internalApis === false)) {
      this.close(`unknown or unsupported api key ${apiKey}`);
      return;
    }
    let rejected = false;
    if (this.sasl !== undefined) {
      const admission = this.sasl.admit(apiKey);
      if (admission === 'close') {
        this.close(this.sasl.authenticated ? 'SASL session expired (connections.max.reauth.ms or credential lifetime)' : `unexpected ${descriptor.name} request before SASL authentication`);
        return;
      }
      rejected = admission === 'reject';
    }
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) {
        this.answerUnsupportedApiVersions(handler, descriptor, correlationId);
      } else {
        this.close(`unsupported version ${apiVersion} of api key ${apiKey}`);
      }
      return;
    }
    let request: unknown;
    let clientId: string | null;
    try {
      const reader = new Reader(frame);
      clientId = decodeRequestHeader(reader, descriptor.requestHeaderVersion(apiVersion)).clientId;
      request = descriptor.decodeRequest(reader, apiVersion);
    } catch (err) {
      if (!(err instanceof DecodeError)) this.log.error({ err, apiKey, apiVersion }, 'decoder threw an untyped error');
      this.close(`malformed ${descriptor.name} v${apiVersion} request: ${(err as Error).message}`);
      return;
    }
    const ctx: RequestContext = {
      apiKey, apiVersion, correlationId, clientId, connection: this.info,
      log: this.log,
    };
    const slot: Slot = { correlationId, done: false, chunks: null, started: this.config.observer === undefined ? 0 : performance.now(), bytes: frame.length };
    this.pending.push(slot);
    this.inflightBytes += frame.length;
    if (rejected) {
      // Kafka: a request other than SaslAuthenticate during the SASL exchange gets its error
      // response (ILLEGAL_SASL_STATE), then the connection closes.
      this.closeAfterFlush = true;
      this.complete(slot, descriptor, apiVersion, handler.errorResponse(request, ErrorCode.ILLEGAL_SASL_STATE, ctx));
      return;
    }
    const fail = (err: unknown): void => {
      this.log.error({ err, api: descriptor.name, apiVersion, correlationId }, 'request handler failed');
      let response: unknown;
      try {
        response = handler.errorResponse(request, ErrorCode.UNKNOWN_SERVER_ERROR, ctx);
      } catch (err2) {
        this.log.error({ err: err2, api: descriptor.name }, 'error response failed');
        this.close('cannot answer request');
        return;
      }
      this.complete(slot, descriptor, apiVersion, response);
    };
    let result: unknown;
    try {
      result = handler.handle(request, ctx);
    } catch (err) {
      fail(err);
      return;
    }
    if (result instanceof Promise) {
      result.then((res: unknown) => this.complete(slot, descriptor, apiVersion, res), fail);
    } else {
      this.complete(slot, descriptor, apiVersion, result);
    }
  }

  /** Kafka answers an ApiVersions version it does not know with UNSUPPORTED_VERSION, encoded as v0. */
  private answerUnsupportedApiVersions(handler: ApiHandler, descriptor: ApiDescriptor, correlationId: number): void {
    const slot: Slot = { correlationId, done: false, chunks: null };
    this.pending.push(slot);
    const ctx: RequestContext = {
      apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId, clientId: null, connection: this.info, log: this.log,
    };
    this.complete(slot, descriptor, 0, handler.errorResponse({}, ErrorCode.UNSUPPORTED_VERSION, ctx));
  }

  private complete(slot: Slot, descriptor: ApiDescriptor, apiVersion: number, response: unknown): void {
    if (this.closed) return;
    if (response !== null) {
      try {
        const w = new Writer();
        w.int32(0); // size, patched below
        encodeResponseHeader(w, descriptor.responseHeaderVersion(apiVersion), { correlationId: slot.correlationId });
        descriptor.encodeResponse(w, apiVersion, response);
        const chunks = w.toChunks();
        chunks[0]!.writeInt32BE(w.length - 4, 0);
        slot.chunks = chunks;
      } catch (err) {
        this.log.error({ err, api: descriptor.name, apiVersion }, 'response encoding failed');
        this.close('cannot encode response');
        return;
      }
    }
    slot.done = true;
    if (slot.started !== undefined) this.config.observer?.requestCompleted(descriptor.apiKey, descriptor.name, performance.now() - slot.started, response);
    this.flushResponses();
  }

  /** After SaslHandshake v0: the frame is a SASL token; the answer goes back size-prefixed, without a header. */
  private handleRawToken(token: Buffer): void {
    const out = this.sasl!.rawToken(token);
    if (out === null) { this.close('SASL authentication failed'); return; }
    const size = Buffer.alloc(4);
    size.writeInt32BE(out.length, 0);
    this.pending.push({ correlationId: -1, done: true, chunks: [size, out] });
    this.flushResponses();
  }

  private flushResponses(): void {
    if (this.pending[0]?.done !== true) return;
    // Every response completed within one event-loop turn (e.g. all the requests one commit
    // answers, each finishing in its own microtask) leaves in one writev: the socket stays corked
    // until the next tick. Responses are written in request order as before.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => { this.corked = false; this.socket.uncork(); });
    }
    while (this.pending[0]?.done === true) {
      const slot = this.pending.shift()!;
      this.inflightBytes -= slot.bytes ?? 0;
      if (slot.chunks === null) continue;
      for (const chunk of slot.chunks) {
        this.config.observer?.bytesOut(chunk.length);
        if (!this.socket.write(chunk)) this.writeBlocked = true;
      }
    }
    if ((this.closeAfterFlush || this.sasl?.failed === true) && this.pending.length === 0) {
      this.closed = true;
      this.log.info({ conn: this.info.id, remote: this.info.remoteAddress }, 'closing connection after failed authentication');
      this.socket.end(() => this.socket.destroy());
      return;
    }
    this.updateReading();
  }
}
