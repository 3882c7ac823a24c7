import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * Where a stuck Node process is: the JavaScript call stack taken through its inspector
 * (Chrome DevTools protocol over a WebSocket), which works even while the process spins in a
 * synchronous or microtask loop (signals and diagnostic reports need its event loop; the
 * inspector interrupts V8). Start the process with `--inspect-port=127.0.0.1:0` and send it
 * SIGUSR1: it prints `Debugger listening on ws://...` on stderr; pass that URL here.
 * Node 20 has no WebSocket client, hence the minimal one below (text frames, client masking).
 */

export interface StackSample {
  /** `functionName (url:line:column)` from the innermost frame out. */
  frames: string[];
}

/** A function's share of the samples of a short CPU profile (self time). */
export interface ProfileEntry {
  /** `functionName (url:line)`. */
  where: string;
  percent: number;
}

/** What a stuck process is doing: paused call stacks, and the top functions of a short CPU profile. */
export interface StuckProcessView {
  stacks: StackSample[];
  profile: ProfileEntry[];
}

/**
 * Pauses the process `samples` times (resuming in between), then records a CPU profile for
 * `profileMs`, and detaches. A microtask loop is often paused between two microtasks (the stack
 * is then only `processTicksAndRejections`); the profile names the functions it runs.
 */
export async function inspectStuck(wsUrl: string, samples = 3, profileMs = 1000, timeoutMs = 5000): Promise<StuckProcessView> {
  const stacks = await pauseStacks(wsUrl, samples, timeoutMs);
  const ws = await CdpSocket.open(wsUrl, timeoutMs);
  try {
    await ws.call('Profiler.enable', {}, timeoutMs);
    await ws.call('Profiler.start', {}, timeoutMs);
    await new Promise((r) => setTimeout(r, profileMs));
    const { profile } = await ws.call('Profiler.stop', {}, timeoutMs) as { profile: { nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[] } };
    const hits = new Map<string, number>();
    let total = 0;
    for (const n of profile.nodes) {
      const h = n.hitCount ?? 0;
      if (h === 0) continue;
      const f = n.callFrame;
      const where = f.url !== '' ? `${f.functionName || '(anonymous)'} (${f.url}:${f.lineNumber + 1})` : f.functionName || '(anonymous)';
      hits.set(where, (hits.get(where) ?? 0) + h);
      total += h;
    }
    const top = [...hits].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([where, h]) => ({ where, percent: total > 0 ? Math.round((h / total) * 1000) / 10 : 0 }));
    return { stacks, profile: top };
  } finally {
    ws.close();
  }
}

/** The ws:// URL in a process's stderr after SIGUSR1 (null if not there yet). */
export function inspectorUrl(stderr: string): string | null {
  return /Debugger listening on (ws:\/\/[^\s]+)/.exec(stderr)?.[1] ?? null;
}

/** Pauses the process `samples` times (resuming in between) and returns each paused call stack, then detaches. */
export async function pauseStacks(wsUrl: string, samples = 3, timeoutMs = 5000): Promise<StackSample[]> {
  const ws = await CdpSocket.open(wsUrl, timeoutMs);
  try {
    await ws.call('Debugger.enable', {}, timeoutMs);
    const out: StackSample[] = [];
    for (let i = 0; i < samples; i++) {
      const paused = ws.next('Debugger.paused', timeoutMs);
      await ws.call('Debugger.pause', {}, timeoutMs);
      const params = await paused as { callFrames?: { functionName: string; url: string; location: { scriptId: string; lineNumber: number; columnNumber: number } }[] };
      out.push({ frames: (params.callFrames ?? []).map((f) => {
        const url = f.url !== '' ? f.url : ws.scripts.get(f.location.scriptId) ?? `script ${f.location.scriptId}`;
        return `${f.functionName || '(anonymous)'} (${url}:${f.location.lineNumber + 1}:${f.location.columnNumber + 1})`;
      }) });
      await ws.call('Debugger.resume', {}, timeoutMs);
      await new Promise((r) => setTimeout(r, 200));
    }
    return out;
  } finally {
    ws.close();
  }
}

/** A Chrome DevTools protocol session over a minimal WebSocket client. */
class CdpSocket {
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private nextId = 1;
  private readonly calls = new Map<number, (result: unknown, error?: string) => void>();
  private readonly waiters: { method: string; resolve: (params: unknown) => void }[] = [];
  /** Script id to URL, from Debugger.scriptParsed (paused call frames name scripts by id). */
  readonly scripts = new Map<string, string>();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
  }

  static open(wsUrl: string, timeoutMs: number): Promise<CdpSocket> {
    const url = new URL(wsUrl);
    return new Promise<CdpSocket>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port) });
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`inspector handshake timed out after ${timeoutMs} ms`)); }, timeoutMs);
      socket.once('error', (e) => { clearTimeout(timer); reject(e); });
      socket.once('connect', () => {
        socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
          + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      });
      let head = Buffer.alloc(0);
      const onHead = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onHead);
        clearTimeout(timer);
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!/^HTTP\/1\.1 101/.test(status)) { socket.destroy(); reject(new Error(`inspector refused the upgrade: ${status}`)); return; }
        const cdp = new CdpSocket(socket);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) cdp.onData(rest);
        resolve(cdp);
      };
      socket.on('data', onHead);
    });
  }

  call(method: string, params: object, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.calls.delete(id); reject(new Error(`${method} timed out after ${timeoutMs} ms`)); }, timeoutMs);
      this.calls.set(id, (result, error) => { clearTimeout(timer); if (error !== undefined) reject(new Error(`${method}: ${error}`)); else resolve(result); });
      this.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The params of the next event named `method`. */
  next(method: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter = { method, resolve: (p: unknown): void => { clearTimeout(timer); resolve(p); } };
      const timer = setTimeout(() => { this.waiters.splice(this.waiters.indexOf(waiter), 1); reject(new Error(`no ${method} within ${timeoutMs} ms`)); }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close(): void { this.socket.destroy(); }

  private send(text: string): void {
    const payload = Buffer.from(text);
    const mask = randomBytes(4);
    const len = payload.length;
    const header = len < 126 ? Buffer.from([0x81, 0x80 | len])
      : len < 65536 ? Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
    for (let i = 0; i < len; i++) payload[i]! ^= mask[i & 3]!;
    this.socket.write(Buffer.concat([header, mask, payload]));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0]!; const b1 = this.buffer[1]!;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) { if (this.buffer.length < 4) return; len = this.buffer.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.buffer.length < 10) return; len = Number(this.buffer.readBigUInt64BE(2)); off = 10; }
      if ((b1 & 0x80) !== 0) off += 4; // servers do not mask; skip a mask if one is there
      if (this.buffer.length < off + len) return;
      const payload = this.buffer.subarray(off, off + len);
      this.buffer = this.buffer.subarray(off + len);
      const opcode = b0 & 0x0f;
      if (opcode === 0x8) { this.socket.destroy(); return; }
      if (opcode !== 0x1 && opcode !== 0x0) continue; // pings and binary frames: not used by the inspector here
      this.fragments.push(Buffer.from(payload));
      if ((b0 & 0x80) === 0) continue;
      const text = Buffer.concat(this.fragments).toString();
      this.fragments = [];
      this.onMessage(text);
    }
  }

  private onMessage(text: string): void {
    let m: { id?: number; result?: unknown; error?: { message?: string }; method?: string; params?: unknown };
    try { m = JSON.parse(text) as typeof m; } catch { return; }
    if (m.id !== undefined) {
      const cb = this.calls.get(m.id);
      this.calls.delete(m.id);
      cb?.(m.result, m.error !== undefined ? m.error.message ?? 'error' : undefined);
      return;
    }
    if (m.method === 'Debugger.scriptParsed') {
      const p = m.params as { scriptId: string; url: string };
      this.scripts.set(p.scriptId, p.url);
      return;
    }
    const i = this.waiters.findIndex((w) => w.method === m.method);
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m.params);
  }
}
