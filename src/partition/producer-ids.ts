import { open, rename, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Kafka's producer id block size (ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/** A range of producer ids handed to one broker: [firstProducerId, firstProducerId + size). */
export interface ProducerIdBlock {
  readonly firstProducerId: bigint;
  readonly size: number;
}

/**
 * Where blocks come from: the controller, which commits each block (a ProducerIdsRecord in the
 * metadata log) before handing it out, so ids never repeat across restarts or brokers.
 */
export interface ProducerIdBlockSource {
  allocate(brokerId: number): Promise<ProducerIdBlock>;
}

/**
 * The broker side of InitProducerId for idempotent producers (Kafka's RPCProducerIdManager):
 * ids come from the current block; the next block is requested when 90% of this one is used,
 * so a producer rarely waits for the controller.
 */
export class ProducerIdManager {
  private block: ProducerIdBlock | undefined;
  private next = 0n;
  private prefetch: Promise<ProducerIdBlock> | undefined;
  private pending: ProducerIdBlock | undefined;

  constructor(private readonly brokerId: number, private readonly source: ProducerIdBlockSource) {}

  async generateProducerId(): Promise<bigint> {
    for (;;) {
      const b = this.block;
      if (b !== undefined && this.next < b.firstProducerId + BigInt(b.size)) {
        const id = this.next++;
        if (this.pending === undefined && this.prefetch === undefined && this.next - b.firstProducerId >= BigInt(Math.floor(b.size * 0.9))) this.requestBlock();
        return id;
      }
      if (this.pending !== undefined) {
        this.block = this.pending;
        this.next = this.pending.firstProducerId;
        this.pending = undefined;
        continue;
      }
      this.requestBlock();
      await this.prefetch;
    }
  }

  private requestBlock(): void {
    if (this.prefetch !== undefined) return;
    this.prefetch = this.source.allocate(this.brokerId).then((b) => {
      if (b.size <= 0 || b.firstProducerId < 0n) throw new Error(`invalid producer id block ${b.firstProducerId}+${b.size}`);
      this.pending = b;
      return b;
    }).finally(() => { this.prefetch = undefined; });
  }
}

/** Ids per node in the interim file-backed scheme (2^40): node n owns [n * 2^40, (n + 1) * 2^40). */
export const NODE_PRODUCER_ID_SPACE = 1n << 40n;

/**
 * An interim durable block source until the controller commits ProducerIdsRecords: each node
 * allocates from its own id range (so brokers never collide) and writes (and fsyncs) the next
 * unallocated id before a block is handed out (so restarts never repeat an id).
 */
export class FileProducerIdBlockSource implements ProducerIdBlockSource {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string, private readonly nodeId = 0, private readonly blockSize = PRODUCER_ID_BLOCK_SIZE) {}

  allocate(): Promise<ProducerIdBlock> {
    const next = this.queue.then(async () => {
      const base = BigInt(this.nodeId) * NODE_PRODUCER_ID_SPACE;
      const stored = await this.readNext();
      const first = stored < base ? base : stored;
      if (first + BigInt(this.blockSize) > base + NODE_PRODUCER_ID_SPACE) throw new Error(`node ${this.nodeId} has used up its producer id range`);
      await this.writeNext(first + BigInt(this.blockSize));
      return { firstProducerId: first, size: this.blockSize };
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readNext(): Promise<bigint> {
    try {
      const m = /^nextProducerId=(\d+)$/m.exec(await readFile(this.path, 'utf8'));
      if (m === null) throw new Error(`${this.path} is damaged`);
      return BigInt(m[1]!);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0n;
      throw err;
    }
  }

  private async writeNext(next: bigint): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(`nextProducerId=${next}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    const dir = await open(dirname(this.path) || '.', 'r');
    try { await dir.sync(); } finally { await dir.close(); }
  }
}

export function producerIdFile(dataDir: string): string { return join(dataDir, 'producer-id-block'); }
