import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

/**
 * What a link does with the bytes flowing in one direction:
 * - `pass`: forward them (after `delayMs`, if set);
 * - `drop`: swallow them silently, the connection stays open (iptables DROP: the sender only
 *   notices through its own timeouts). A connection that lost bytes is closed when the link
 *   heals, since a TCP stream cannot skip bytes and stay in sync (a real dropped stream would
 *   have stalled and then timed out);
 * - `cut`: close every connection at once and every new one as soon as it is accepted
 *   (iptables REJECT: the sender sees a reset).
 */
export type LinkMode = 'pass' | 'drop' | 'cut';

export interface DirectionState {
  mode: LinkMode;
  /** Extra one-way latency in `pass` mode. */
  delayMs: number;
}

/** The two directions of a proxied link: `forward` = client to server, `backward` = server to client. */
export type Direction = 'forward' | 'backward';

interface Pair {
  client: Socket;
  server: Socket;
  /** Bytes were swallowed in this pair: it must not be reused once the link heals. */
  tainted: boolean;
}

/**
 * A TCP proxy in front of one broker-to-broker link (one listening port, one target), so a
 * nemesis can cut, black-hole or slow each direction without root. Order of bytes is kept when
 * delayed (one timer chain per socket direction).
 */
export class LinkProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private readonly state: Record<Direction, DirectionState> = {
    forward: { mode: 'pass', delayMs: 0 },
    backward: { mode: 'pass', delayMs: 0 },
  };
  /** Bytes forwarded and swallowed, per direction (for tests and reports). */
  readonly stats = { forwarded: { forward: 0, backward: 0 }, dropped: { forward: 0, backward: 0 }, connections: 0, refused: 0 };
  port = 0;

  constructor(readonly name: string, private readonly targetHost: string, private readonly targetPort: number) {}

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const server = createServer({ noDelay: true }, (client) => this.accept(client));
    server.on('error', () => undefined);
    server.listen(port, host);
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    this.server = server;
    this.port = address.port;
    return this.port;
  }

  /** Sets the mode of one direction (or both); `cut` closes the live connections at once. */
  set(direction: Direction | 'both', mode: LinkMode, delayMs = 0): void {
    const dirs: Direction[] = direction === 'both' ? ['forward', 'backward'] : [direction];
    for (const d of dirs) this.state[d] = { mode, delayMs };
    if (mode === 'cut') for (const p of [...this.pairs]) this.destroy(p);
    if (this.healthy()) for (const p of [...this.pairs]) if (p.tainted) this.destroy(p);
  }

  /** Both directions back to `pass` without delay; connections that lost bytes are closed. */
  heal(): void { this.set('both', 'pass', 0); }

  describe(): string {
    const f = this.state.forward; const b = this.state.backward;
    const one = (s: DirectionState): string => (s.mode === 'pass' && s.delayMs > 0 ? `delay ${s.delayMs}ms` : s.mode);
    return f.mode === b.mode && f.delayMs === b.delayMs ? one(f) : `fwd ${one(f)} / back ${one(b)}`;
  }

  async close(): Promise<void> {
    for (const p of [...this.pairs]) this.destroy(p);
    const s = this.server;
    this.server = null;
    if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private healthy(): boolean {
    return this.state.forward.mode === 'pass' && this.state.backward.mode === 'pass';
  }

  private accept(client: Socket): void {
    if (this.state.forward.mode === 'cut' || this.state.backward.mode === 'cut') {
      this.stats.refused++;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    this.stats.connections++;
    const server = connect({ host: this.targetHost, port: this.targetPort, noDelay: true });
    const pair: Pair = { client, server, tainted: false };
    this.pairs.add(pair);
    client.on('error', () => this.destroy(pair));
    server.on('error', () => this.destroy(pair));
    client.on('close', () => this.destroy(pair));
    server.on('close', () => this.destroy(pair));
    this.pipe(pair, client, server, 'forward');
    this.pipe(pair, server, client, 'backward');
  }

  private pipe(pair: Pair, from: Socket, to: Socket, direction: Direction): void {
    // Delayed chunks go out in arrival order: each is due at arrival + delay, never before its predecessor.
    let lastDue = 0;
    from.on('data', (chunk: Buffer) => {
      const s = this.state[direction];
      if (s.mode !== 'pass') {
        this.stats.dropped[direction] += chunk.length;
        pair.tainted = true;
        return;
      }
      if (pair.tainted) return; // a stream that lost bytes stays silent until it is closed
      this.stats.forwarded[direction] += chunk.length;
      if (s.delayMs <= 0 && lastDue <= performance.now()) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      const due = Math.max(performance.now() + s.delayMs, lastDue);
      lastDue = due;
      setTimeout(() => { if (!to.destroyed && !pair.tainted) to.write(chunk); }, due - performance.now());
    });
  }

  private destroy(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.server.destroy();
  }
}
