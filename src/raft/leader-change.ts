/**
 * The LeaderChange control batch a new leader appends first (as KRaft does): it makes entries
 * of earlier epochs commit together with an entry of the leader's own epoch, and it tells log
 * readers who led which epoch. Consumers skip control batches.
 *
 * Record key: ControlRecordType {version int16 = 0, type int16 = 2 (LEADER_CHANGE)}.
 * Record value: LeaderChangeMessage v0 (flexible): version int16, leaderId int32,
 * voters and grantingVoters as compact arrays of {voterId int32, tagged fields}, tagged fields.
 */
import { crc32c } from '../../protocol/records/crc32c.js';

const CONTROL_TYPE_LEADER_CHANGE = 2;
const ATTR_CONTROL = 0x20;

function varint(n: number): Buffer {
  // zigzag then unsigned varint (Kafka record fields)
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  const out: number[] = [];
  while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v >>>= 7; }
  out.push(v);
  return Buffer.from(out);
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v >>>= 7; }
  out.push(v);
  return Buffer.from(out);
}

function voterArray(ids: readonly number[]): Buffer {
  const parts: Buffer[] = [uvarint(ids.length + 1)];
  for (const id of ids) { const b = Buffer.alloc(5); b.writeInt32BE(id, 0); b.writeUInt8(0, 4); parts.push(b); }
  return Buffer.concat(parts);
}

export function leaderChangeValue(leaderId: number, voters: readonly number[], grantingVoters: readonly number[]): Buffer {
  const head = Buffer.alloc(6);
  head.writeInt16BE(0, 0);
  head.writeInt32BE(leaderId, 2);
  return Buffer.concat([head, voterArray(voters), voterArray(grantingVoters), uvarint(0)]);
}

/** One RecordBatch v2 holding one record; offsets and epoch as given (patched later if needed). */
export function encodeSingleRecordBatch(opts: {
  baseOffset: bigint; epoch: number; timestamp: bigint; key: Buffer | null; value: Buffer | null; control: boolean;
}): Buffer {
  const keyPart = opts.key === null ? [varint(-1)] : [varint(opts.key.length), opts.key];
  const valuePart = opts.value === null ? [varint(-1)] : [varint(opts.value.length), opts.value];
  const body = Buffer.concat([Buffer.from([0]), varint(0), varint(0), ...keyPart, ...valuePart, varint(0)]);
  const record = Buffer.concat([varint(body.length), body]);
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(opts.baseOffset, 0);
  header.writeInt32BE(61 - 12 + record.length, 8);
  header.writeInt32BE(opts.epoch, 12);
  header.writeInt8(2, 16);
  header.writeInt16BE(opts.control ? ATTR_CONTROL : 0, 21);
  header.writeInt32BE(0, 23); // lastOffsetDelta
  header.writeBigInt64BE(opts.timestamp, 27);
  header.writeBigInt64BE(opts.timestamp, 35);
  header.writeBigInt64BE(-1n, 43); // producerId
  header.writeInt16BE(-1, 51); // producerEpoch
  header.writeInt32BE(-1, 53); // baseSequence
  header.writeInt32BE(1, 57); // records count
  const batch = Buffer.concat([header, record]);
  batch.writeUInt32BE(crc32c(batch, 21, batch.length) >>> 0, 17);
  return batch;
}

export function leaderChangeBatch(baseOffset: bigint, epoch: number, leaderId: number, voters: readonly number[], timestamp: bigint): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(CONTROL_TYPE_LEADER_CHANGE, 2);
  return encodeSingleRecordBatch({ baseOffset, epoch, timestamp, key, value: leaderChangeValue(leaderId, voters, [leaderId]), control: true });
}
