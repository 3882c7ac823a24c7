import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../protocol/generated/index.js';
import type { ApiVersionsResponse } from '../../protocol/generated/api-versions.js';
import { ConnectionQuotas, parseIpOverrides } from '../../src/security/connection-quotas.js';
import { call, FrameSocket, startSecureBroker } from './helpers.js';

/** Whether the broker serves this connection (ApiVersions answered) or closed it on accept. */
async function served(s: FrameSocket): Promise<boolean> {
  try {
    const r = await call<ApiVersionsResponse>(s, ApiKey.ApiVersions, 0, {});
    return r.errorCode === 0;
  } catch {
    return false;
  }
}

describe('connection limits', () => {
  it('max.connections.per.ip: connections over the limit are closed at accept; a freed slot is reused', async () => {
    const b = await startSecureBroker({ 'max.connections.per.ip': '2' });
    try {
      const port = b.port('PLAINTEXT');
      const a = await FrameSocket.connect(port);
      const c = await FrameSocket.connect(port);
      assert.ok(await served(a));
      assert.ok(await served(c));
      const third = await FrameSocket.connect(port);
      assert.equal(await served(third), false);
      a.close();
      await a.closed;
      await new Promise((resolve) => setTimeout(resolve, 50)); // the broker sees the close
      const fourth = await FrameSocket.connect(port);
      assert.ok(await served(fourth));
      c.close(); fourth.close();
    } finally {
      await b.close();
    }
  });

  it('max.connections (broker-wide) and max.connections.per.ip.overrides', async () => {
    const b = await startSecureBroker({ 'max.connections': '3', 'max.connections.per.ip': '1', 'max.connections.per.ip.overrides': '127.0.0.1:10' });
    try {
      const port = b.port('PLAINTEXT');
      const open = [];
      for (let i = 0; i < 3; i++) { const s = await FrameSocket.connect(port); open.push(s); assert.ok(await served(s)); }
      const over = await FrameSocket.connect(port);
      assert.equal(await served(over), false);
      for (const s of open) s.close();
    } finally {
      await b.close();
    }
  });

  it('ConnectionQuotas counts per address (IPv4 through IPv6 sockets alike) and exempts the inter-broker listener from max.connections', () => {
    const q = new ConnectionQuotas(2, 5, parseIpOverrides('[::1]:1,10.0.0.1:0'));
    assert.equal(q.tryAcquire('::ffff:127.0.0.1'), null);
    assert.equal(q.tryAcquire('127.0.0.1'), null);
    assert.match(q.tryAcquire('127.0.0.2') ?? '', /max.connections 2/);
    assert.equal(q.tryAcquire('127.0.0.2', true), null);
    assert.match(q.tryAcquire('10.0.0.1', true) ?? '', /per.ip 0/);
    q.release('127.0.0.1');
    q.release('127.0.0.2');
    assert.equal(q.tryAcquire('::1'), null);
    assert.match(q.tryAcquire('::1', true) ?? '', /per.ip 1/);
  });

  it('raftka.connection.max.inflight.bytes: a client pipelining past the cap is not read until answers drain', async () => {
    const b = await startSecureBroker({ 'raftka.connection.max.inflight.bytes': '64' });
    try {
      const s = await FrameSocket.connect(b.port('PLAINTEXT'));
      // Many pipelined requests, far over 64 bytes in all: all answered, in order (reading pauses and resumes).
      const { encodeRequest, decodeResponse } = await import('./helpers.js');
      for (let i = 0; i < 50; i++) s.writeFrame(encodeRequest(ApiKey.ApiVersions, 0, {}, i));
      for (let i = 0; i < 50; i++) {
        const f = await s.next();
        assert.equal(f.readInt32BE(0), i);
        assert.equal(decodeResponse<ApiVersionsResponse>(ApiKey.ApiVersions, 0, f).errorCode, 0);
      }
      s.close();
    } finally {
      await b.close();
    }
  });
});
