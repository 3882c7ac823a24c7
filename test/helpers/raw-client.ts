import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { Reader, Writer } from '../../protocol/primitives.js';
import { FrameReader, FrameTooLarge } from '../../protocol/frame.js';
import { apiByKey } from '../../protocol/generated/index.js';
import { encodeRequestHeader } from '../../protocol/generated/request-header.js';
import { decodeResponseHeader } from '../../protocol/generated/response-header.js';

export interface RawResponse {
  correlationId: number;
  body: unknown;
}

/**
 * A bare Kafka client for tests: encodes requests with the generated codecs, pipelines freely,
 * and hands back responses in the order they arrive on the socket.
 */
export class RawClient {
  private readonly frames = new FrameReader(1 << 30);
  private readonly arrived: Buffer[] = [];
  private readonly waiting: ((frame: Buffer) => void)[] = [];
  private readonly expected = new Map<number, { apiKey: number; version: number }>();
  private nextCorrelationId = 1;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(chunk);
      for (let f = this.frames.next(); f !== null; f = this.frames.next()) {
        if (f instanceof FrameTooLarge) throw new Error('response frame too large');
        const w = this.waiting.shift();
        if (w !== undefined) w(f); else this.arrived.push(f);
      }
    });
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => undefined);
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** Encodes one request frame (size prefix included). */
  encode(apiKey: number, version: number, body: unknown, correlationId = this.nextCorrelationId++): { frame: Buffer; correlationId: number } {
    const api = apiByKey(apiKey);
    if (api === undefined) throw new Error(`unknown api key ${apiKey}`);
    const w = new Writer();
    encodeRequestHeader(w, api.requestHeaderVersion(version), { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: 'raw-client' });
    api.encodeRequest(w, version, body);
    const payload = w.toBuffer();
    const frame = Buffer.alloc(4 + payload.length);
    frame.writeInt32BE(payload.length, 0);
    payload.copy(frame, 4);
    this.expected.set(correlationId, { apiKey, version });
    return { frame, correlationId };
  }

  send(apiKey: number, version: number, body: unknown): number {
    const { frame, correlationId } = this.encode(apiKey, version, body);
    this.socket.write(frame);
    return correlationId;
  }

  writeRaw(bytes: Buffer): void { this.socket.write(bytes); }

  /** Decode the response to `correlationId` as `apiKey` at `version` (for hand-patched frames). */
  expect(correlationId: number, apiKey: number, version: number): void {
    this.expected.set(correlationId, { apiKey, version });
  }

  /** The next response on the wire, decoded by the api and version of the request it answers. */
  async receive(): Promise<RawResponse> {
    const frame = this.arrived.shift() ?? await new Promise<Buffer>((resolve, reject) => {
      this.waiting.push(resolve);
      this.closed.then(() => reject(new Error('connection closed')), reject);
    });
    const correlationId = frame.readInt32BE(0);
    const req = this.expected.get(correlationId);
    if (req === undefined) throw new Error(`response to unknown correlation id ${correlationId}`);
    const api = apiByKey(req.apiKey)!;
    const r = new Reader(frame);
    decodeResponseHeader(r, api.responseHeaderVersion(req.version));
    return { correlationId, body: api.decodeResponse(r, req.version) };
  }

  close(): void { this.socket.destroy(); }
}
