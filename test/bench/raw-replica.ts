// One replica process of the raw RF-3 replication baseline (raw-replication.ts forks three of
// these; not a benchmark itself). It leads one stream and follows the other two's:
//  - its producer connection sends frames [u32 bodyLength][u32 seq][payload]; the leader writes
//    each frame unchanged to both followers and appends it to its own file;
//  - a follower appends each frame it receives to its own file and answers the cumulative seq it
//    holds (u32) once the append is durable (fdatasync'd; only written without fsync);
//  - every file is a GroupLog: one writev + one fdatasync covers whatever queued meanwhile;
//  - the leader answers its producer with the cumulative seq (u32) it may acknowledge: at acks=all
//    once its own fsync and one follower's ack cover the frame (a majority of 3), at acks=1 once
//    the frame is written to its own file (page cache).
// argv: <id> <dir> <all|1> <fsync 1|0>. IPC: sends {port}, receives {ports}, sends {ready};
// receives {sizes: true} and answers the bytes of every file once nothing is queued.
import { fdatasync, openSync, writev } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';

/** The u32 seq of a hello frame names the connection: the producer, or replication of stream g (REPLICATION + g). */
export const PRODUCER = 0xffff_fff0;
export const REPLICATION = 0x1000;

/**
 * An append-only file with group commit: appends queued while a writev + fdatasync is under way
 * share the next one. Like raftka's Raft persist worker, a flush starts on setImmediate, so what
 * the current event-loop turn still queues joins it.
 */
class GroupLog {
  private pending: Buffer[] = [];
  private pendingLast = -1;
  private busy = false;
  private waiters: (() => void)[] = [];
  bytes = 0;
  private readonly fd: number;

  constructor(path: string, private readonly fsync: boolean,
    private readonly onWritten: (seq: number) => void, private readonly onDurable: (seq: number) => void) {
    this.fd = openSync(path, 'w');
  }

  append(frame: Buffer, seq: number): void {
    this.pending.push(frame);
    this.pendingLast = seq;
    if (!this.busy) { this.busy = true; setImmediate(() => this.flush()); }
  }

  /** Resolves once nothing is queued or being written. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private flush(): void {
    const bufs = this.pending;
    const last = this.pendingLast;
    this.pending = [];
    this.writeAll(bufs, () => {
      this.onWritten(last);
      const done = (): void => {
        this.onDurable(last);
        if (this.pending.length > 0) { setImmediate(() => this.flush()); return; }
        this.busy = false;
        for (const w of this.waiters.splice(0)) w();
      };
      if (this.fsync) fdatasync(this.fd, (err) => { if (err) throw err; done(); });
      else done();
    });
  }

  /** writev at the file's position, continuing after a partial write. */
  private writeAll(bufs: Buffer[], cb: () => void): void {
    writev(this.fd, bufs, (err, written) => {
      if (err) throw err;
      this.bytes += written;
      let left = written;
      let i = 0;
      while (i < bufs.length && left >= bufs[i]!.length) left -= bufs[i++]!.length;
      if (i === bufs.length) { cb(); return; }
      const rest = bufs.slice(i);
      rest[0] = rest[0]!.subarray(left);
      this.writeAll(rest, cb);
    });
  }
}

/**
 * Splits a socket's byte stream into frames [u32 bodyLength][body] and hands each whole frame
 * (length prefix included) to `onFrame`; frames inside one chunk are subarrays, not copies.
 */
export function frames(sock: Socket, onFrame: (frame: Buffer) => void, onChunkEnd: () => void = () => {}): void {
  let chunks: Buffer[] = [];
  let have = 0;
  sock.on('data', (d: Buffer) => {
    chunks.push(d);
    have += d.length;
    for (;;) {
      if (have < 4) break;
      if (chunks[0]!.length < 4) chunks = [Buffer.concat(chunks, have)];
      const need = chunks[0]!.readUInt32BE(0) + 4;
      if (have < need) break;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
      onFrame(buf.subarray(0, need));
      have -= need;
      chunks = have > 0 ? [buf.subarray(need)] : [];
    }
    onChunkEnd();
  });
}

/** Calls `onSeq` with the last whole u32 of a stream of cumulative u32 acknowledgements. */
export function cumulativeAcks(sock: Socket, onSeq: (seq: number) => void): void {
  let rest: Buffer | null = null;
  sock.on('data', (d: Buffer) => {
    const buf = rest === null ? d : Buffer.concat([rest, d]);
    const whole = buf.length - (buf.length % 4);
    rest = whole < buf.length ? Buffer.from(buf.subarray(whole)) : null;
    if (whole > 0) onSeq(buf.readUInt32BE(whole - 4));
  });
}

export function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** A hello frame naming the connection. */
export const hello = (kind: number): Buffer => Buffer.concat([u32(4), u32(kind)]);

function replica(id: number, dir: string, acksAll: boolean, fsync: boolean): void {
  const send = (m: unknown): void => { process.send?.(m); };
  const followLogs = new Map<number, GroupLog>();
  let producer: Socket | null = null;
  let leaderWritten = -1;
  let leaderDurable = -1;
  const followerAcks: number[] = [];
  let acked = -1;
  const answer = (): void => {
    const can = acksAll ? Math.min(leaderDurable, Math.max(-1, ...followerAcks)) : leaderWritten;
    if (can > acked && producer !== null) { acked = can; producer.write(u32(can)); }
  };
  const own = new GroupLog(join(dir, `lead-${id}`), fsync, (s) => { leaderWritten = s; answer(); }, (s) => { leaderDurable = s; answer(); });
  const followers: Socket[] = [];

  const server = createServer((sock) => {
    sock.setNoDelay(true);
    let kind = -1;
    let log: GroupLog | null = null;
    let corked = false;
    frames(sock, (f) => {
      const seq = f.readUInt32BE(4);
      if (kind < 0) {
        kind = seq;
        if (kind === PRODUCER) producer = sock; else {
          log = new GroupLog(join(dir, `follow-${kind - REPLICATION}-${id}`), fsync, () => {}, (s) => { sock.write(u32(s)); });
          followLogs.set(kind - REPLICATION, log);
        }
        return;
      }
      if (kind === PRODUCER) {
        if (!corked) { corked = true; for (const fs of followers) fs.cork(); }
        for (const fs of followers) fs.write(f);
        own.append(f, seq);
      } else {
        log!.append(f, seq);
      }
    }, () => {
      // Everything this chunk carried leaves for the followers in one write each. (They must not
      // stay corked between chunks: a write still under way when uncork runs would leave the rest
      // buffered until the next uncork.)
      if (corked) { corked = false; for (const fs of followers) fs.uncork(); }
    });
  });

  process.on('message', (m: { ports?: number[]; sizes?: boolean }) => {
    if (m.ports !== undefined) {
      const ports = m.ports;
      void (async (): Promise<void> => {
        for (let j = 0; j < ports.length; j++) {
          if (j === id) continue;
          const s = connect({ host: '127.0.0.1', port: ports[j]! });
          s.setNoDelay(true);
          await new Promise<void>((resolve) => s.once('connect', resolve));
          s.write(hello(REPLICATION + id));
          const slot = followerAcks.length;
          followerAcks.push(-1);
          cumulativeAcks(s, (seq) => { followerAcks[slot] = seq; answer(); });
          followers.push(s);
        }
        send({ ready: true });
      })();
    } else if (m.sizes === true) {
      void Promise.all([own, ...followLogs.values()].map((l) => l.idle())).then(() => {
        send({ sizes: { lead: own.bytes, follow: Object.fromEntries([...followLogs].map(([g, l]) => [g, l.bytes])) } });
      });
    }
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    send({ port: typeof a === 'object' && a !== null ? a.port : -1 });
  });
}

if (process.argv[2] === 'replica' && process.send !== undefined) {
  replica(Number(process.argv[3]), process.argv[4]!, process.argv[5] === 'all', process.argv[6] !== '0');
}
