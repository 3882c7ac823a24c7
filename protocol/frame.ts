/**
 * Size-prefixed frames (int32 size + body) reassembled from TCP chunks.
 *
 * Chunks are kept in a list, never concatenated as they arrive; a frame that lies inside one chunk
 * is returned as a subarray of it (no copy), a frame that spans chunks is copied exactly once: as
 * soon as its size is known and it is incomplete, its buffer is allocated (frames of at most
 * EAGER_FRAME_BYTES; larger ones are copied once they are complete), the bytes so far are
 * copied in and later bytes go straight there (so the chunks it arrived in are released at once).
 * With `readTarget`/`wrote` (a socket's `onread` option) the socket reads into that buffer itself:
 * the bytes of a large frame are not copied at all after its first read.
 * The declared size is checked against the maximum (socket.request.max.bytes) before anything is
 * allocated, and negative sizes are rejected. After an oversize or negative size the stream cannot
 * be resynchronised: next() keeps returning the same FrameTooLarge and the connection should close.
 */
import { DecodeError } from './errors.js';

/** A frame whose declared size is above the maximum, or negative (`size < 0`). */
export class FrameTooLarge {
  constructor(readonly size: number, readonly maxFrameBytes: number) {}

  get negative(): boolean {
    return this.size < 0;
  }
}

/**
 * Largest frame whose buffer is allocated as soon as its size prefix arrives (before its bytes):
 * producers' requests are at most max.request.size (1 MiB by default) plus overhead, so they are
 * all read in place, while a declared size alone (up to socket.request.max.bytes) never allocates
 * more than this. Larger frames are assembled from their chunks once complete, as before.
 */
export const EAGER_FRAME_BYTES = 8 * 1024 * 1024;
/** Size of the scratch buffer socket reads land in while no frame is filled in place. */
const SCRATCH_BYTES = 64 * 1024;
/**
 * One scratch buffer for every FrameReader of the default size: its bytes are copied out in
 * `wrote`, synchronously after the read that filled them and before any other read on this thread
 * (libuv reads one socket at a time and Node runs the onread callback at once), so readers can share it.
 */
let sharedScratch: Buffer | null = null;

export class FrameReader {
  private chunks: Buffer[] = [];
  /** Index of the first live chunk (dropped chunks are compacted away in batches, not shifted one by one). */
  private first = 0;
  /** Read position inside chunks[first]. */
  private head = 0;
  /** Bytes buffered and not yet returned. */
  private buffered = 0;
  /** Body size of the frame being assembled, -1 while its size prefix is incomplete. */
  private pending = -1;
  private failed: FrameTooLarge | null = null;
  /** The incomplete frame being filled in place (its size is `pending`), or null. */
  private partial: Buffer | null = null;
  /** Bytes of `partial` filled so far. */
  private filled = 0;
  /** Reusable read buffer for `readTarget` while no frame is being filled in place (shared at the default size). */
  private scratch: Buffer | null = null;
  /** Whether the last readTarget() was `partial` (else the scratch buffer). */
  private targetIsPartial = false;

  constructor(readonly maxFrameBytes: number, private readonly scratchBytes = SCRATCH_BYTES) {}

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered + (this.partial === null ? 0 : this.filled);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.failed) return;
    if (this.partial !== null) {
      const n = Math.min(chunk.length, this.partial.length - this.filled);
      chunk.copy(this.partial, this.filled, 0, n);
      this.partialFilled(n);
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * Where the socket's next read should land (net.Socket `onread.buffer`): the unfilled rest of
   * the frame being assembled (so a read never passes its end), else a reused scratch buffer.
   * Call `wrote` with the bytes read before asking again.
   */
  readTarget(): Buffer {
    if (this.partial !== null && !this.failed) {
      this.targetIsPartial = true;
      return this.partial.subarray(this.filled);
    }
    this.targetIsPartial = false;
    this.scratch ??= this.scratchBytes === SCRATCH_BYTES ? (sharedScratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES)) : Buffer.allocUnsafeSlow(this.scratchBytes);
    return this.scratch;
  }

  /** `n` bytes were read into the buffer the last readTarget() returned. */
  wrote(n: number): void {
    if (n <= 0 || this.failed) return;
    if (this.targetIsPartial && this.partial !== null) {
      this.partialFilled(n);
      return;
    }
    // The scratch buffer is reused: what it holds is copied out (frames may be kept).
    const chunk = Buffer.allocUnsafe(n);
    this.scratch!.copy(chunk, 0, 0, n);
    this.push(chunk);
  }

  /** `n` more bytes of the frame being filled in place are there; a complete one becomes the only chunk, returned without a copy. */
  private partialFilled(n: number): void {
    this.filled += n;
    if (this.filled < this.partial!.length) return;
    const frame = this.partial!;
    this.partial = null;
    this.filled = 0;
    this.chunks.push(frame);
    this.buffered += frame.length;
  }

  /** The frame of `pending` bytes is incomplete: allocate it now and move the bytes so far into it. */
  private startPartial(): void {
    const frame = Buffer.allocUnsafe(this.pending);
    let filled = 0;
    for (let i = this.first; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const from = i === this.first ? this.head : 0;
      filled += c.copy(frame, filled, from);
    }
    this.chunks = [];
    this.first = 0;
    this.head = 0;
    this.buffered = 0;
    this.partial = frame;
    this.filled = filled;
  }

  /** The next complete frame body, a FrameTooLarge, or null when more bytes are needed. */
  next(): Buffer | FrameTooLarge | null {
    if (this.failed) return this.failed;
    if (this.pending < 0) {
      if (this.buffered < 4) return null;
      const size = this.readSize();
      if (size < 0 || size > this.maxFrameBytes) {
        this.failed = new FrameTooLarge(size, this.maxFrameBytes);
        this.chunks = [];
        this.first = 0;
        this.buffered = 0;
        return this.failed;
      }
      this.pending = size;
    }
    if (this.partial !== null) return null;
    if (this.buffered < this.pending) {
      if (this.pending > 0 && this.pending <= EAGER_FRAME_BYTES) this.startPartial();
      return null;
    }
    const frame = this.take(this.pending);
    this.pending = -1;
    return frame;
  }

  private readSize(): number {
    const first = this.chunks[this.first]!;
    let size: number;
    if (first.length - this.head >= 4) {
      size = first.readInt32BE(this.head);
    } else {
      const b = Buffer.from(this.peekBytes(4));
      size = b.readInt32BE(0);
    }
    this.consume(4);
    return size;
  }

  private peekBytes(n: number): number[] {
    const out: number[] = [];
    let i = this.first;
    let pos = this.head;
    while (out.length < n) {
      const c = this.chunks[i]!;
      if (pos < c.length) out.push(c[pos++]!);
      else {
        i++;
        pos = 0;
      }
    }
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[this.first]!;
      const avail = c.length - this.head;
      if (n < avail) {
        this.head += n;
        return;
      }
      n -= avail;
      this.first++;
      this.head = 0;
    }
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 64 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[this.first];
    if (n === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length - this.head >= n) {
      const frame = first.subarray(this.head, this.head + n);
      this.consume(n);
      return frame;
    }
    const frame = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.first]!;
      const len = Math.min(n - filled, c.length - this.head);
      c.copy(frame, filled, this.head, this.head + len);
      filled += len;
      this.consume(len);
    }
    return frame;
  }
}

/** The chunks of a size-prefixed frame for socket.writev (the body chunks are not copied). */
export function frameChunks(body: readonly Buffer[]): Buffer[] {
  let size = 0;
  for (const b of body) size += b.length;
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(size, 0);
  return [prefix, ...body];
}

export interface RequestKey {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** The first 8 bytes of every request: int16 api key, int16 api version, int32 correlation id. */
export function peekRequestKey(frame: Buffer): RequestKey {
  if (frame.length < 8) throw new DecodeError(`request frame of ${frame.length} bytes is shorter than a request header`);
  return { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) };
}
