/**
 * Size-prefixed frames (int32 size + body) reassembled from TCP chunks.
 *
 * Chunks are kept in a list, never concatenated as they arrive; a frame that lies inside one chunk
 * is returned as a subarray of it (no copy), a frame that spans chunks is copied exactly once.
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

  constructor(readonly maxFrameBytes: number) {}

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.failed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
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
    if (this.buffered < this.pending) return null;
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
