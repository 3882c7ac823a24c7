import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { Broker } from '../../src/broker.js';
import { loadBrokerConfig, type BrokerConfig } from '../../src/config.js';
import { silentLogger } from '../../src/util/log.js';

export interface TestBroker {
  readonly broker: Broker;
  readonly dir: string;
  port(listener: string): number;
  close(): Promise<void>;
}

/** An in-process broker configured from server.properties lines (listeners on port 0). */
export async function startSecureBroker(properties: Record<string, string>, overrides: Partial<BrokerConfig> = {}): Promise<TestBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'raftka-sec-'));
  const file = join(dir, 'server.properties');
  await writeFile(file, Object.entries(properties).map(([k, v]) => `${k}=${v}`).join('\n'));
  const config = loadBrokerConfig({
    configFile: file,
    overrides: {
      dataDir: join(dir, 'data'), nodeId: 1, port: 0, host: '127.0.0.1', offsetsTopicReplicationFactor: 1,
      offsetsTopicNumPartitions: 1, groupInitialRebalanceDelayMs: 0, ...overrides,
    },
  });
  const broker = await Broker.start(config, silentLogger);
  return {
    broker, dir,
    port: (listener) => {
      const p = broker.listenerPorts.get(listener);
      if (p === undefined) throw new Error(`no listener ${listener}`);
      return p;
    },
    close: async () => { await broker.close(); await rm(dir, { recursive: true, force: true }); },
  };
}

/** A socket that reads size-prefixed frames (responses, or raw SASL tokens after SaslHandshake v0). */
export class FrameSocket {
  private buffered = Buffer.alloc(0);
  private readonly waiting: ((b: Buffer) => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        const w = this.waiting.shift();
        if (w !== undefined) w(frame); else this.frames.push(frame);
      }
    });
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => undefined);
  }

  private readonly frames: Buffer[] = [];

  static async connect(port: number): Promise<FrameSocket> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return new FrameSocket(socket);
  }

  writeFrame(payload: Buffer): void {
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length, 0);
    this.socket.write(Buffer.concat([size, payload]));
  }

  /** The next frame, or rejects when the connection closes first. */
  next(): Promise<Buffer> {
    const f = this.frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      this.closed.then(() => reject(new Error('connection closed')), reject);
    });
  }

  close(): void { this.socket.destroy(); }
}

/** An unsecured JWT (alg none) as Kafka's OAuthBearerUnsecuredLoginCallbackHandler makes. */
export function unsecuredJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64(claims)}.`;
}

import { Reader, Writer } from '../../protocol/primitives.js';
import { apiByKey } from '../../protocol/generated/index.js';
import { encodeRequestHeader } from '../../protocol/generated/request-header.js';
import { decodeResponseHeader } from '../../protocol/generated/response-header.js';

/** One request (without the size prefix). */
export function encodeRequest(apiKey: number, version: number, body: unknown, correlationId = 1): Buffer {
  const api = apiByKey(apiKey)!;
  const w = new Writer();
  encodeRequestHeader(w, api.requestHeaderVersion(version), { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: 'sec-test' });
  api.encodeRequest(w, version, body);
  return w.toBuffer();
}

export function decodeResponse<T>(apiKey: number, version: number, frame: Buffer): T {
  const api = apiByKey(apiKey)!;
  const r = new Reader(frame);
  decodeResponseHeader(r, api.responseHeaderVersion(version));
  return api.decodeResponse(r, version) as T;
}

/** Sends a request on a FrameSocket and decodes its answer. */
export async function call<T>(s: FrameSocket, apiKey: number, version: number, body: unknown): Promise<T> {
  s.writeFrame(encodeRequest(apiKey, version, body));
  return decodeResponse<T>(apiKey, version, await s.next());
}
