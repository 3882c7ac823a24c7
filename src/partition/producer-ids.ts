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
