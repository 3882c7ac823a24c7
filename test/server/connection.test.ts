import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../protocol/generated/index.js';
import type { MetadataResponse } from '../../protocol/generated/metadata.js';
import type { ApiVersionsResponse } from '../../protocol/generated/api-versions.js';
import type { ListOffsetsRequest, ListOffsetsResponse } from '../../protocol/generated/list-offsets.js';
import { KafkaServer } from '../../src/server/server.js';
import { defineHandler, type ApiHandler } from '../../src/kafka/handlers/handler.js';
import { apiVersionsHandler } from '../../src/kafka/handlers/api-versions.js';
import { ErrorCode } from '../../src/kafka/errors.js';
import { silentLogger } from '../../src/util/log.js';
import { RawClient } from '../helpers/raw-client.js';
import { Random } from '../../src/util/random.js';
import { createHash } from 'node:crypto';

/** Metadata answers are held until the test releases them; each names its request in clusterId. */
class HeldMetadata {
  readonly held = new Map<number, () => void>();
  private arrivals: (() => void)[] = [];

  handler(): ApiHandler {
    return defineHandler<unknown, MetadataResponse>({
      apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12,
      handle: (_req, ctx) => new Promise((resolve) => {
        this.held.set(ctx.correlationId, () => resolve(metadataResponse(`c${ctx.correlationId}`)));
        this.arrivals.shift()?.();
      }),
      errorResponse: () => metadataResponse('error'),
    });
  }

  async waitForHeld(n: number): Promise<void> {
    while (this.held.size < n) await new Promise<void>((resolve) => this.arrivals.push(resolve));
  }
}

function metadataResponse(clusterId: string): MetadataResponse {
  return { throttleTimeMs: 0, brokers: [], clusterId, controllerId: -1, topics: [], clusterAuthorizedOperations: -2147483648 };
}

const throwing = defineHandler<ListOffsetsRequest, ListOffsetsResponse>({
  apiKey: ApiKey.ListOffsets, minVersion: 0, maxVersion: 6,
  handle: () => { throw new Error('boom'); },
  errorResponse: (req, errorCode) => ({
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode, oldStyleOffsets: [], timestamp: -1n, offset: -1n, leaderEpoch: -1 })) })),
  }),
});

async function startServer(config: Partial<{ queuedMaxRequests: number; socketRequestMaxBytes: number; connectionsMaxIdleMs: number }> = {}) {
  const held = new HeldMetadata();
  const handlers = new Map<number, ApiHandler>();
  handlers.set(ApiKey.ApiVersions, apiVersionsHandler(() => handlers.values()));
  handlers.set(ApiKey.Metadata, held.handler());
  handlers.set(ApiKey.ListOffsets, throwing);
  const server = new KafkaServer({
    host: '127.0.0.1', port: 0, queuedMaxRequests: 500, socketRequestMaxBytes: 1 << 20, connectionsMaxIdleMs: 600000, ...config,
  }, handlers, silentLogger);
  const port = await server.listen();
  return { server, port, held };
}

const METADATA_V4 = { topics: [], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };

describe('connection', () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  before(async () => { s = await startServer(); });
  after(async () => { await s.server.close(); });

  it('answers pipelined requests in request order when later ones finish first', async () => {
    const client = await RawClient.connect(s.port);
    const ids = Array.from({ length: 8 }, () => client.send(ApiKey.Metadata, 4, METADATA_V4));
    await s.held.waitForHeld(8);
    for (const id of [...ids].reverse()) s.held.held.get(id)!(); // finish last-first
    for (const id of ids) {
      const res = await client.receive();
      assert.equal(res.correlationId, id);
      assert.equal((res.body as MetadataResponse).clusterId, `c${id}`);
    }
    client.close();
  });

  it('advertises exactly its handlers, and answers an unknown ApiVersions version with UNSUPPORTED_VERSION', async () => {
    const client = await RawClient.connect(s.port);
    client.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1.0' });
    const ok = (await client.receive()).body as ApiVersionsResponse;
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.deepEqual(ok.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]), [[2, 0, 6], [3, 0, 12], [18, 0, 3]]);
    // A version from the future: the request header is v2 but the answer is ApiVersions v0.
    const { frame } = client.encode(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1.0' }, 77);
    frame.writeInt16BE(9, 6); // patch the api version in the header
    client.expect(77, ApiKey.ApiVersions, 0);
    client.writeRaw(frame);
    const raw = await client.receive();
    const bad = raw.body as ApiVersionsResponse;
    assert.equal(raw.correlationId, 77);
    assert.equal(bad.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.deepEqual(bad.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]), [[18, 0, 3]]);
    client.close();
  });

  it('answers a request whose handler throws with UNKNOWN_SERVER_ERROR and keeps serving', async () => {
    const client = await RawClient.connect(s.port);
    client.send(ApiKey.ListOffsets, 1, { replicaId: -1, isolationLevel: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 4, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }], timeoutMs: 0 });
    const res = (await client.receive()).body as ListOffsetsResponse;
    assert.equal(res.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    client.send(ApiKey.ApiVersions, 0, {});
    assert.equal(((await client.receive()).body as ApiVersionsResponse).errorCode, ErrorCode.NONE);
    client.close();
  });

  it('closes the connection on an unknown api key, and on an api key it does not serve', async () => {
    for (const apiKey of [999, ApiKey.Produce]) {
      const client = await RawClient.connect(s.port);
      const frame = Buffer.alloc(4 + 14);
      frame.writeInt32BE(14, 0);
      frame.writeInt16BE(apiKey, 4);
      frame.writeInt16BE(0, 6);
      frame.writeInt32BE(5, 8);
      frame.writeInt16BE(-1, 12); // null client id
      client.writeRaw(frame);
      await client.closed;
    }
    // Others are unaffected.
    const other = await RawClient.connect(s.port);
    other.send(ApiKey.ApiVersions, 0, {});
    assert.equal(((await other.receive()).body as ApiVersionsResponse).errorCode, ErrorCode.NONE);
    other.close();
  });

  it('closes the connection on a truncated request body', async () => {
    const client = await RawClient.connect(s.port);
    const { frame } = client.encode(ApiKey.Metadata, 4, { ...METADATA_V4, topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: 'abc' }] });
    const cut = frame.subarray(0, frame.length - 2);
    cut.writeInt32BE(cut.length - 4, 0);
    client.writeRaw(cut);
    await client.closed;
  });
});

describe('connection limits', () => {
  it('closes a connection whose frame exceeds socket.request.max.bytes before reading the body', async () => {
    const s = await startServer({ socketRequestMaxBytes: 1000 });
    try {
      const client = await RawClient.connect(s.port);
      const header = Buffer.alloc(4);
      header.writeInt32BE(2_000_000_000, 0); // never sent: the size alone must close the connection
      client.writeRaw(header);
      await client.closed;
    } finally {
      await s.server.close();
    }
  });

  it('closes idle connections after connections.max.idle.ms', async () => {
    const s = await startServer({ connectionsMaxIdleMs: 200 });
    try {
      const client = await RawClient.connect(s.port);
      client.send(ApiKey.ApiVersions, 0, {});
      await client.receive();
      const start = Date.now();
      await client.closed;
      assert.ok(Date.now() - start >= 150, 'not closed before the idle timeout');
    } finally {
      await s.server.close();
    }
  });

  it('stops reading a socket while queued.max.requests are pending', async () => {
    const s = await startServer({ queuedMaxRequests: 3 });
    try {
      const client = await RawClient.connect(s.port);
      const ids = Array.from({ length: 10 }, () => client.send(ApiKey.Metadata, 4, METADATA_V4));
      await s.held.waitForHeld(3);
      // Round trips on another connection give the server every chance to read more frames.
      const other = await RawClient.connect(s.port);
      for (let i = 0; i < 3; i++) { other.send(ApiKey.ApiVersions, 0, {}); await other.receive(); }
      other.close();
      assert.equal(s.held.held.size, 3, 'only queued.max.requests requests are taken in');
      for (const id of ids) {
        await s.held.waitForHeld(ids.indexOf(id) + 1);
        s.held.held.get(id)!();
        assert.equal((await client.receive()).correlationId, id);
      }
      client.close();
    } finally {
      await s.server.close();
    }
  });
});

describe('reads straight into frame buffers', () => {
  it('takes large requests pipelined with small ones, written in odd pieces, intact and in order', async () => {
    // Metadata answers with a digest of the topic names it got, so every byte of each request counts.
    const handlers = new Map<number, ApiHandler>();
    handlers.set(ApiKey.Metadata, defineHandler<{ topics: { name: string | null }[] | null }, MetadataResponse>({
      apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12,
      handle: (req) => metadataResponse(digest((req.topics ?? []).map((t) => t.name ?? '').join(','))),
      errorResponse: () => metadataResponse('error'),
    }));
    const server = new KafkaServer({ host: '127.0.0.1', port: 0, queuedMaxRequests: 500, socketRequestMaxBytes: 8 << 20, connectionsMaxIdleMs: 600000 }, handlers, silentLogger);
    const port = await server.listen();
    try {
      const client = await RawClient.connect(port);
      const random = new Random(7);
      const sent: { id: number; names: string[] }[] = [];
      const frames: Buffer[] = [];
      for (const count of [3, 40_000, 1, 0, 90_000, 5, 20_000]) {
        const names = Array.from({ length: count }, (_, i) => `topic-${i}-${random.nextU32().toString(36)}`);
        const { frame, correlationId } = client.encode(ApiKey.Metadata, 4, { ...METADATA_V4, topics: names.map((name) => ({ name })) });
        sent.push({ id: correlationId, names });
        frames.push(frame);
      }
      const all = Buffer.concat(frames);
      assert.ok(all.length > 2 << 20);
      for (let pos = 0; pos < all.length;) {
        const n = 1 + (random.nextU32() % 300_000);
        client.writeRaw(all.subarray(pos, pos + n));
        pos += n;
      }
      for (const s of sent) {
        const res = await client.receive();
        assert.equal(res.correlationId, s.id);
        assert.equal((res.body as MetadataResponse).clusterId, digest(s.names.join(',')));
      }
      client.close();
    } finally {
      await server.close();
    }
  });
});

describe('server close', () => {
  it('resolves once every accepted connection is closed', async () => {
    const s = await startServer();
    const clients = await Promise.all([RawClient.connect(s.port), RawClient.connect(s.port)]);
    for (const c of clients) { c.send(ApiKey.ApiVersions, 0, {}); await c.receive(); }
    assert.equal(s.server.connectionCount, 2);
    await s.server.close();
    assert.equal(s.server.connectionCount, 0);
    await Promise.all(clients.map((c) => c.closed));
  });
});

function digest(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
