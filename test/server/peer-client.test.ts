import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { FrameReader } from '../../protocol/frame.js';
import { Reader } from '../../protocol/primitives.js';
import { decodeRequestHeader } from '../../protocol/generated/request-header.js';
import { PeerClient } from '../../src/server/peer-client.js';
import { RaftEnvelopeApi } from '../../src/server/internal-apis.js';
import type { HostEnvelope } from '../../src/raft/host.js';
import { encodeSingleRecordBatch } from '../../src/raft/leader-change.js';
import { silentLogger } from '../../src/util/log.js';

test('PeerClient writes the frames of one event-loop turn together, each whole and in order, entry bytes unchanged', async () => {
  const frames: Buffer[] = [];
  let sockets: Socket[] = [];
  const want = 40;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => { resolveAll = r; });
  const server = createServer((s) => {
    sockets.push(s);
    const reader = new FrameReader(1 << 24);
    s.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let f = reader.next(); f !== null; f = reader.next()) { frames.push(f as Buffer); if (frames.length === want) resolveAll(); }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const client = new PeerClient(2, '127.0.0.1', port, 'test', { requestTimeoutMs: 5000, maxBufferedBytes: 64 << 20, reconnectBackoffMs: 100 }, silentLogger);
  try {
    const envelope = (i: number): HostEnvelope => {
      const data = encodeSingleRecordBatch({ baseOffset: BigInt(i), epoch: 1, timestamp: 1n, key: null, value: Buffer.alloc(3000 + i, i), control: false });
      return {
        v: 1, from: 1, quiesce: [],
        messages: [{ groupId: `t-${i % 3}`, message: { type: 'append', term: 1, from: 1, to: 2, prevOffset: BigInt(i) - 1n, prevEpoch: 1, entries: [{ baseOffset: BigInt(i), lastOffset: BigInt(i), epoch: 1, data }], highWatermark: 0n } }],
      };
    };
    // the first send connects; the rest of the turn waits for the connection, then goes at once
    for (let i = 0; i < want / 2; i++) assert.equal(client.send(RaftEnvelopeApi, 0, envelope(i)), true);
    await new Promise((r) => setTimeout(r, 50)); // (connected or not: both paths must keep the frames whole and in order)
    for (let i = want / 2; i < want; i++) assert.equal(client.send(RaftEnvelopeApi, 0, envelope(i)), true);
    await all;
    assert.equal(frames.length, want);
    frames.forEach((f, i) => {
      const r = new Reader(f);
      const h = decodeRequestHeader(r, RaftEnvelopeApi.requestHeaderVersion(0));
      assert.equal(h.requestApiKey, RaftEnvelopeApi.apiKey);
      const e = RaftEnvelopeApi.decodeRequest(r, 0) as HostEnvelope;
      const m = e.messages[0]!.message;
      assert.equal(m.type, 'append');
      if (m.type === 'append') {
        assert.equal(m.entries[0]!.baseOffset, BigInt(i), 'in order');
        assert.deepEqual(m.entries[0]!.data, encodeSingleRecordBatch({ baseOffset: BigInt(i), epoch: 1, timestamp: 1n, key: null, value: Buffer.alloc(3000 + i, i), control: false }));
      }
    });
  } finally {
    client.close();
    for (const s of sockets) s.destroy();
    sockets = [];
    server.close();
  }
});
