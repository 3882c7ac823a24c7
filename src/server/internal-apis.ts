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
} as const;

export const RaftEnvelopeApi: ApiDescriptor = {
  apiKey: InternalApiKey.RaftEnvelope,
  name: 'RaftkaRaftEnvelope',
  minVersion: 0,
  maxVersion: 0,
  maxValidVersion: 0,
  latestVersionUnstable: false,
  flexibleFrom: null,
  listeners: ['broker'],
  requestHeaderVersion: () => 1,
  responseHeaderVersion: () => 0,
  decodeRequest: (r: Reader) => decodeEnvelope(r),
  encodeRequest: (w: Writer, _version: number, m: unknown) => encodeEnvelope(w, m as HostEnvelope),
  decodeResponse: () => null,
  encodeResponse: () => undefined,
};
