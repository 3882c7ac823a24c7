import type { ApiDescriptor } from '../../protocol/generated/index.js';
import type { Reader, Writer } from '../../protocol/primitives.js';
import { decodeEnvelope, encodeEnvelope } from '../raft/wire.js';
import type { HostEnvelope } from '../raft/host.js';

/**
 * raftka's broker-to-broker APIs that Kafka has no equivalent for. They use Kafka's framing and
 * request header v1 with api keys far above Kafka's own, are versioned from 0, and are never
 * advertised in ApiVersions. The controller RPCs use Kafka's own BrokerRegistration,
 * BrokerHeartbeat and AlterPartition, and CreateTopics is forwarded as it came.
 */
export const InternalApiKey = {
  /** One-way: a RaftHost envelope (every Raft message of every group for one peer). No response. */
  RaftEnvelope: 10000,
  /** Controller to a partition leader's broker: start Raft leadership transfers (ElectLeaders). */
  LeaderTransfer: 10001,
} as const;

type Codecs = Pick<ApiDescriptor, 'decodeRequest' | 'encodeRequest' | 'decodeResponse' | 'encodeResponse'>;

/** An internal API: version 0 only, request header v1, response header v0, broker listeners only. */
function internalApi(apiKey: number, name: string, codecs: Codecs): ApiDescriptor {
  return {
    apiKey, name, minVersion: 0, maxVersion: 0, maxValidVersion: 0, latestVersionUnstable: false, flexibleFrom: null,
    listeners: ['broker'], requestHeaderVersion: () => 1, responseHeaderVersion: () => 0, ...codecs,
  };
}

export const RaftEnvelopeApi: ApiDescriptor = internalApi(InternalApiKey.RaftEnvelope, 'RaftkaRaftEnvelope', {
  decodeRequest: (r: Reader) => decodeEnvelope(r),
  encodeRequest: (w: Writer, _version: number, m: unknown) => encodeEnvelope(w, m as HostEnvelope),
  decodeResponse: () => null,
  encodeResponse: () => undefined,
});

/** One partition the controller asks its leader to hand over (ElectLeaders, preferred). */
export interface LeaderTransferItem {
  readonly topic: string;
  readonly partition: number;
  /** The replica that should lead. */
  readonly to: number;
}

export interface LeaderTransferRequest {
  readonly partitions: readonly LeaderTransferItem[];
}

export interface LeaderTransferResponse {
  /** Per partition: NONE (transfer started), NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, CLUSTER_AUTHORIZATION_FAILED. */
  readonly results: readonly { readonly topic: string; readonly partition: number; readonly errorCode: number }[];
}

/**
 * Controller to a partition leader's broker: "start a Raft leadership transfer of these
 * partitions to these replicas". The answer says only whether each transfer was started; the
 * controller learns the outcome from the new leader's report (AlterPartition), as it does for
 * every leader change.
 */
export const LeaderTransferApi: ApiDescriptor = internalApi(InternalApiKey.LeaderTransfer, 'RaftkaLeaderTransfer', {
  decodeRequest: (r: Reader): LeaderTransferRequest => {
    const n = Math.max(0, r.arrayLength(false));
    const partitions: LeaderTransferItem[] = [];
    for (let i = 0; i < n; i++) partitions.push({ topic: r.string(), partition: r.int32(), to: r.int32() });
    return { partitions };
  },
  encodeRequest: (w: Writer, _version: number, m: unknown) => {
    const req = m as LeaderTransferRequest;
    w.int32(req.partitions.length);
    for (const p of req.partitions) { w.string(p.topic); w.int32(p.partition); w.int32(p.to); }
  },
  decodeResponse: (r: Reader): LeaderTransferResponse => {
    const n = Math.max(0, r.arrayLength(false));
    const results: { topic: string; partition: number; errorCode: number }[] = [];
    for (let i = 0; i < n; i++) results.push({ topic: r.string(), partition: r.int32(), errorCode: r.int16() });
    return { results };
  },
  encodeResponse: (w: Writer, _version: number, m: unknown) => {
    const res = m as LeaderTransferResponse;
    w.int32(res.results.length);
    for (const p of res.results) { w.string(p.topic); w.int32(p.partition); w.int16(p.errorCode); }
  },
});
