import type { Logger } from '../util/log.js';
import type { PeerClient } from '../server/peer-client.js';
import { LeaderTransferApi, type LeaderTransferItem, type LeaderTransferResponse } from '../server/internal-apis.js';
import { ErrorCode } from '../kafka/errors.js';

/** How long the controller waits for a leader's broker to say it started the transfers. */
export const LEADER_TRANSFER_RPC_TIMEOUT_MS = 5000;

/**
 * Sends the controller's leadership transfer requests (ElectLeaders) to the brokers that lead the
 * partitions: a direct call for this broker's own replicas, one LeaderTransfer RPC per other
 * broker otherwise. Requests made in the same turn are batched per broker, so an election of
 * every partition costs one request per broker. Fire and forget: the controller watches the
 * metadata image for the new leader's report and asks again when the leader changed or the
 * transfer did not complete (Controller.electLeaders).
 */
export class LeaderTransferRouter {
  private readonly queued = new Map<number, LeaderTransferItem[]>();
  private flushScheduled = false;

  constructor(
    private readonly nodeId: number,
    /** This broker's replica of the partition starts the transfer if it leads; returns an error code. */
    private readonly local: (item: LeaderTransferItem) => number,
    private readonly peers: ReadonlyMap<number, PeerClient>,
    private readonly log: Logger,
  ) {}

  /** Asks `leader` (the partition's leader in the controller's image) to hand `topic-partition` to `to`. */
  request(topic: string, partition: number, to: number, leader: number): void {
    if (leader < 0) return; // no leader to ask: the Raft group is electing one
    const list = this.queued.get(leader) ?? [];
    list.push({ topic, partition, to });
    this.queued.set(leader, list);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batches = [...this.queued];
    this.queued.clear();
    for (const [broker, items] of batches) {
      if (broker === this.nodeId) {
        for (const item of items) {
          const errorCode = this.local(item);
          if (errorCode !== ErrorCode.NONE) this.log.debug({ ...item, errorCode }, 'leader transfer not started here');
        }
        continue;
      }
      const peer = this.peers.get(broker);
      if (peer === undefined) {
        this.log.warn({ broker }, 'leader transfer: the partition leader is not in the bootstrap list');
        continue;
      }
      peer.request(LeaderTransferApi, 0, { partitions: items }, LEADER_TRANSFER_RPC_TIMEOUT_MS).then((res) => {
        const failed = (res as LeaderTransferResponse).results.filter((r) => r.errorCode !== ErrorCode.NONE);
        if (failed.length > 0) this.log.debug({ broker, failed: failed.length, first: failed[0] }, 'leader transfers not started on the leader\'s broker');
      }, (err: unknown) => {
        this.log.info({ broker, partitions: items.length, err: (err as Error).message }, 'leader transfer request failed (the controller asks again)');
      });
    }
  }
}
