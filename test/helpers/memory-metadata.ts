import { TimeoutError, type MetadataWriter } from '../../src/cluster/controller.js';
import { applyMetadataRecord } from '../../src/cluster/apply.js';
import { MetadataImage } from '../../src/cluster/image.js';
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecord } from '../../src/cluster/records.js';

/**
 * The metadata log in memory, for controller tests: each record is committed at once, after a
 * round trip through its encoding (so every record type is checked to encode and decode).
 */
export class MemoryMetadataLog implements MetadataWriter {
  private current = MetadataImage.EMPTY;
  private offset = -1n;
  private readonly waiters = new Set<() => void>();
  /** Every record appended, as decoded back. */
  readonly records: MetadataRecord[] = [];
  /** Called a microtask after each append (a stand-in for the brokers reacting to the image). */
  afterAppend: (image: MetadataImage) => void = () => undefined;

  image(): MetadataImage { return this.current; }

  async append(records: readonly MetadataRecord[]): Promise<bigint> {
    for (const r of records) {
      const decoded = decodeMetadataRecord(encodeMetadataRecord(r))!;
      this.current = applyMetadataRecord(this.current, decoded, ++this.offset);
      this.records.push(decoded);
    }
    for (const w of [...this.waiters]) w();
    queueMicrotask(() => this.afterAppend(this.current));
    return this.offset;
  }

  waitForImage(predicate: (image: MetadataImage) => boolean, deadline: number): Promise<void> {
    if (predicate(this.current)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => { if (predicate(this.current)) { this.waiters.delete(check); clearTimeout(timer); resolve(); } };
      const timer = setTimeout(() => { this.waiters.delete(check); reject(new TimeoutError('timeout')); }, deadline - performance.now());
      this.waiters.add(check);
    });
  }
}
