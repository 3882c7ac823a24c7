import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { LinkProxy } from './proxy.js';

/** An echo server: every byte comes back. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => { s.on('error', () => undefined); s.pipe(s); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('no port');
  return { server, port: a.port };
}

async function open(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', () => undefined);
  await once(s, 'connect');
  return s;
}

/** Reads exactly `n` bytes (or rejects when the socket closes first). */
function readBytes(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      got = Buffer.concat([got, c]);
      if (got.length >= n) { s.off('data', onData); s.off('close', onClose); resolve(got.subarray(0, n)); }
    };
    const onClose = (): void => reject(new Error('closed'));
    s.on('data', onData);
    s.once('close', onClose);
  });
}

describe('LinkProxy', () => {
  let echo: { server: Server; port: number };
  let proxy: LinkProxy;
  before(async () => {
    echo = await echoServer();
    proxy = new LinkProxy('1->2', '127.0.0.1', echo.port);
    await proxy.listen();
  });
  after(async () => {
    await proxy.close();
    await new Promise<void>((r) => echo.server.close(() => r()));
  });

  it('passes bytes both ways, and keeps their order under delay', async () => {
    proxy.heal();
    const s = await open(proxy.port);
    s.write('hello');
    assert.equal((await readBytes(s, 5)).toString(), 'hello');
    proxy.set('both', 'pass', 30);
    const started = performance.now();
    for (let i = 0; i < 10; i++) s.write(String(i));
    assert.equal((await readBytes(s, 10)).toString(), '0123456789');
    assert.ok(performance.now() - started >= 55, 'two delayed hops');
    s.destroy();
  });

  it('cut: resets live connections and refuses new ones until healed', async () => {
    proxy.heal();
    const s = await open(proxy.port);
    const closed = once(s, 'close');
    proxy.set('forward', 'cut');
    await closed;
    const refused = connect({ host: '127.0.0.1', port: proxy.port });
    await new Promise<void>((resolve) => { refused.on('error', () => undefined); refused.once('close', () => resolve()); });
    proxy.heal();
    const again = await open(proxy.port);
    again.write('x');
    assert.equal((await readBytes(again, 1)).toString(), 'x');
    again.destroy();
  });

  it('drop in one direction: requests vanish while the connection stays open, and the connection is closed on heal', async () => {
    proxy.heal();
    const s = await open(proxy.port);
    proxy.set('forward', 'drop');
    const dropped = proxy.stats.dropped.forward;
    s.write('lost');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(proxy.stats.dropped.forward, dropped + 4);
    assert.equal(s.destroyed, false);
    const closed = once(s, 'close');
    proxy.heal();
    await closed;
  });

  it('drop backward: the server gets the bytes but its answers vanish', async () => {
    proxy.heal();
    const s = await open(proxy.port);
    proxy.set('backward', 'drop');
    const forwarded = proxy.stats.forwarded.forward;
    s.write('ping');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(proxy.stats.forwarded.forward, forwarded + 4);
    assert.ok(proxy.stats.dropped.backward >= 4);
    proxy.heal();
    s.destroy();
  });
});
