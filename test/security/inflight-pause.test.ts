/**
 * raftka.connection.max.inflight.bytes: once the pending requests of a connection hold that many
 * bytes, the connection reads (and dispatches) nothing more until answers leave. A Connection on
 * a real socket, with a Metadata handler the test answers by hand.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { ApiKey } from '../../protocol/generated/index.js';
import { defaultMetadataRequest, defaultMetadataResponse, type MetadataRequest, type MetadataResponse } from '../../protocol/generated/metadata.js';
import { Connection } from '../../src/server/connection.js';
import { defineHandler, type ApiHandler } from '../../src/kafka/handlers/handler.js';
import { silentLogger } from '../../src/util/log.js';
import { encodeRequest, FrameSocket } from './helpers.js';

const CAP = 1000;

describe('raftka.connection.max.inflight.bytes', () => {
  it('stops dispatching at the cap, resumes as answers drain, answers all in order', async () => {
    const waiting: { topic: string; answer: () => void }[] = [];
    let dispatched = 0;
    let changed: () => void = () => undefined;
    const handler = defineHandler<MetadataRequest, MetadataResponse>({
      apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12,
      handle: (request) => new Promise<MetadataResponse>((resolve) => {
        dispatched++;
        waiting.push({ topic: request.topics![0]!.name!, answer: () => resolve({ ...defaultMetadataResponse(), clusterId: request.topics![0]!.name }) });
        changed();
      }),
      errorResponse: () => defaultMetadataResponse(),
    });
    const handlers = new Map<number, ApiHandler>([[ApiKey.Metadata, handler]]);
    const server: Server = createServer((socket) => {
      void new Connection(socket, 1, handlers, {
        queuedMaxRequests: 500, socketRequestMaxBytes: 1 << 20, connectionsMaxIdleMs: 60_000, maxInflightBytes: CAP,
      }, silentLogger, () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const dispatchedAtLeast = (n: number): Promise<void> => new Promise((resolve) => {
      const check = (): void => { if (dispatched >= n) resolve(); };
      changed = check;
      check();
    });
    const s = await FrameSocket.connect(port);
    try {
      // Ten requests of ~330 bytes each, written at once: ~3,300 bytes, over three times the cap.
      const frames = Array.from({ length: 10 }, (_, i) => encodeRequest(ApiKey.Metadata, 12, {
        ...defaultMetadataRequest(), topics: [{ name: `t${i}-${'x'.repeat(300)}`, topicId: '00000000-0000-0000-0000-000000000000' }],
      }, i));
      const size = frames[0]!.length; // what the connection counts: the frame after its size prefix
      assert.ok(size > 300 && size < CAP / 2);
      for (const f of frames) s.writeFrame(f);
      const atCap = Math.ceil(CAP / size); // dispatched until the pending bytes reach the cap
      await dispatchedAtLeast(atCap);
      // Everything has long arrived on loopback; nothing more is dispatched while nothing is answered.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(dispatched, atCap, 'reading paused at the cap');
      // One answer frees one request's bytes: exactly one more is read.
      waiting[0]!.answer();
      await dispatchedAtLeast(atCap + 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(dispatched, atCap + 1);
      // From now on every dispatched request is answered at once: all ten come back, in request order.
      let answered = 1;
      const answerAll = (): void => { while (answered < waiting.length) waiting[answered++]!.answer(); };
      changed = answerAll;
      answerAll();
      const order: number[] = [];
      for (let i = 0; i < 10; i++) order.push((await s.next()).readInt32BE(0));
      assert.deepEqual(order, Array.from({ length: 10 }, (_, i) => i));
      assert.equal(dispatched, 10);
    } finally {
      s.close();
      server.close();
    }
  });
});
