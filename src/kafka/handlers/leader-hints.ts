import { endpointFor, type MetadataImage } from '../../cluster/image.js';
import type { Partition } from '../../partition/partition.js';
import type { ConnectionInfo } from './handler.js';

/**
 * KIP-951: with NOT_LEADER_OR_FOLLOWER (and FENCED_LEADER_EPOCH on Fetch) the broker names the
 * leader it knows of, so clients can retry without a Metadata round trip. The local Raft group's
 * view is the freshest when it knows a leader other than this broker; otherwise the image's.
 */
export function currentLeaderOf(
  image: MetadataImage, local: Partition | undefined, topic: string, index: number, selfId: number,
): { leaderId: number; leaderEpoch: number } {
  const state = image.partition(topic, index);
  if (local !== undefined && local.leaderId >= 0 && (local.leaderId !== selfId || local.isLeader)) {
    if (state === undefined || local.leaderEpoch >= state.leaderEpoch) return { leaderId: local.leaderId, leaderEpoch: local.leaderEpoch };
  }
  if (state === undefined || state.leader < 0) return { leaderId: -1, leaderEpoch: -1 };
  return { leaderId: state.leader, leaderEpoch: state.leaderEpoch };
}

/**
 * The endpoints of the named leaders (KIP-951 NodeEndpoints) on the listener the request came in
 * on, each once, as Kafka's metadataCache.getAliveBrokerNode(id, listenerName): unknown and fenced
 * brokers, and brokers without that listener, are left out.
 */
export function nodeEndpointsFor(image: MetadataImage, leaderIds: Iterable<number>, listenerName: string): { nodeId: number; host: string; port: number; rack: string | null }[] {
  const out = new Map<number, { nodeId: number; host: string; port: number; rack: string | null }>();
  for (const id of leaderIds) {
    if (id < 0 || out.has(id)) continue;
    const b = image.brokers.get(id);
    if (b === undefined || b.fenced) continue;
    const e = endpointFor(b, listenerName);
    if (e !== undefined) out.set(id, { nodeId: b.nodeId, host: e.host, port: e.port, rack: b.rack });
  }
  return [...out.values()];
}

/** A hint's default (Kafka's encoding omits a tagged field that holds it). */
export const NO_LEADER_HINT = { leaderId: -1, leaderEpoch: -1 } as const;

/**
 * Whether the client can take KIP-951 hints: only clients that named themselves in ApiVersions v3+
 * on this connection (Produce v10+ / Fetch v16+ clients do: Java, librdkafka, kafkajs), and not
 * @platformatic/kafka 1.x. That one (the last line for Node 20; 2.x needs Node 22) reads a
 * tagged-field section as one length-prefixed blob, so a `currentLeader` hint in an answer for
 * several partitions desynchronises its decoder ("Out of bounds") and every retry fails the same
 * way (Kafka 3.7+ breaks it too); it sends ApiVersions on its bootstrap connection only, hence the
 * first rule. Without hints a client refreshes its metadata on NOT_LEADER_OR_FOLLOWER, as before KIP-951.
 */
export function takesLeaderHints(connection: ConnectionInfo): boolean {
  const name = connection.clientSoftwareName;
  if (name === null) return false;
  return !(name === 'platformatic-kafka' && (connection.clientSoftwareVersion ?? '').startsWith('1.'));
}
