/**
 * The records of `__consumer_offsets`, byte for byte as Kafka writes them: the key is an int16
 * key version followed by OffsetCommitKey (versions 0 and 1) or GroupMetadataKey (version 2);
 * the value is an int16 value version followed by OffsetCommitValue or GroupMetadataValue, or
 * null for a tombstone (the group or offset is deleted; compaction then drops it).
 */
import { Reader, Writer } from '../../protocol/primitives.js';
import {
  decodeGroupMetadataKey, decodeGroupMetadataValue, decodeOffsetCommitKey, decodeOffsetCommitValue,
  encodeGroupMetadataKey, encodeGroupMetadataValue, encodeOffsetCommitKey, encodeOffsetCommitValue,
  type GroupMetadataValue, type OffsetCommitValue,
} from '../../protocol/generated/coordinator/index.js';

/** The key version Kafka writes for offsets (1; 0 is the same layout, read too). */
export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
/** Kafka (2.1+) writes OffsetCommitValue v3 when no expire timestamp is given. */
export const OFFSET_COMMIT_VALUE_VERSION = 3;
/** Kafka (2.3+, static membership) writes GroupMetadataValue v3. */
export const GROUP_METADATA_VALUE_VERSION = 3;

export interface OffsetAndMetadata {
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: bigint;
  /** Only from a value written as version 1 (older Kafka with a per-commit retention). */
  readonly expireTimestamp: bigint;
}

export type OffsetsRecord =
  | { type: 'offset'; group: string; topic: string; partition: number; value: OffsetAndMetadata | null }
  | { type: 'group'; group: string; value: GroupMetadataValue | null };

function withVersion(version: number, write: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.int16(version);
  write(w);
  return w.toBuffer();
}

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return withVersion(OFFSET_COMMIT_KEY_VERSION, (w) => encodeOffsetCommitKey(w, OFFSET_COMMIT_KEY_VERSION, { group, topic, partition }));
}

export function offsetCommitValue(o: OffsetAndMetadata): Buffer {
  const v: OffsetCommitValue = {
    offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata,
    commitTimestamp: o.commitTimestamp, expireTimestamp: -1n,
  };
  return withVersion(OFFSET_COMMIT_VALUE_VERSION, (w) => encodeOffsetCommitValue(w, OFFSET_COMMIT_VALUE_VERSION, v));
}

export function groupMetadataKey(group: string): Buffer {
  return withVersion(GROUP_METADATA_KEY_VERSION, (w) => encodeGroupMetadataKey(w, GROUP_METADATA_KEY_VERSION, { group }));
}

export function groupMetadataValue(v: GroupMetadataValue): Buffer {
  return withVersion(GROUP_METADATA_VALUE_VERSION, (w) => encodeGroupMetadataValue(w, GROUP_METADATA_VALUE_VERSION, v));
}

/**
 * Decodes one record of the offsets topic; null for a key this broker does not know (Kafka
 * skips unknown key versions too, e.g. records of a newer coordinator).
 */
export function decodeOffsetsRecord(key: Buffer, value: Buffer | null): OffsetsRecord | null {
  const r = new Reader(key);
  const keyVersion = r.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const k = decodeOffsetCommitKey(r, keyVersion);
    if (value === null) return { type: 'offset', group: k.group, topic: k.topic, partition: k.partition, value: null };
    const vr = new Reader(value);
    const valueVersion = vr.int16();
    if (valueVersion < 0 || valueVersion > 4) return null;
    const v = decodeOffsetCommitValue(vr, valueVersion);
    return {
      type: 'offset', group: k.group, topic: k.topic, partition: k.partition,
      value: { offset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata, commitTimestamp: v.commitTimestamp, expireTimestamp: v.expireTimestamp },
    };
  }
  if (keyVersion === 2) {
    const k = decodeGroupMetadataKey(r, keyVersion);
    if (value === null) return { type: 'group', group: k.group, value: null };
    const vr = new Reader(value);
    const valueVersion = vr.int16();
    if (valueVersion < 0 || valueVersion > 4) return null;
    return { type: 'group', group: k.group, value: decodeGroupMetadataValue(vr, valueVersion) };
  }
  return null;
}
