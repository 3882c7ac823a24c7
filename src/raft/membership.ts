/**
 * How a Raft membership change lives in a partition's log, and how the configurations are stored
 * with the hard state.
 *
 * In the log: one control batch with one record (consumers skip control batches).
 * Record key: ControlRecordType {version int16 = 0, type int16 = 100 (raftka membership; Kafka's
 * own types stop at 6)}. Record value: version int16 = 0, voters: int32 count + int32 ids,
 * learners: int32 count + int32 ids.
 *
 * With the hard state (HardStateStore's free-form `config` field):
 * `{ configs: [{ offset: "<decimal>", epoch, voters, learners }] }`.
 */
import { encodeSingleRecordBatch } from './leader-change.js';
import type { ConfigEntry, Membership } from './types.js';

export const CONTROL_TYPE_MEMBERSHIP = 100;
const ATTR_CONTROL = 0x20;

export function membershipBatch(baseOffset: bigint, epoch: number, m: Membership, timestamp: bigint): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(CONTROL_TYPE_MEMBERSHIP, 2);
  const value = Buffer.alloc(2 + 4 + 4 * m.voters.length + 4 + 4 * m.learners.length);
  let pos = value.writeInt16BE(0, 0);
  pos = value.writeInt32BE(m.voters.length, pos);
  for (const v of m.voters) pos = value.writeInt32BE(v, pos);
  pos = value.writeInt32BE(m.learners.length, pos);
  for (const l of m.learners) pos = value.writeInt32BE(l, pos);
  return encodeSingleRecordBatch({ baseOffset, epoch, timestamp, key, value, control: true });
}

/** The membership a batch (at `pos` in `buf`, `size` bytes) carries, or undefined if it is not a membership batch. */
export function membershipOfBatch(buf: Buffer, pos: number, size: number): Membership | undefined {
  const attributes = buf.readInt16BE(pos + 21);
  if ((attributes & ATTR_CONTROL) === 0 || (attributes & 0x07) !== 0) return undefined; // control, uncompressed
  let p = pos + 61; // first record
  const end = pos + size;
  const readVarint = (): number => {
    let shift = 0;
    let v = 0;
    for (;;) {
      if (p >= end) throw new RangeError('truncated varint');
      const b = buf[p++]!;
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    return (v >>> 1) ^ -(v & 1);
  };
  try {
    readVarint(); // record length
    p += 1; // attributes
    readVarint(); // timestamp delta
    readVarint(); // offset delta
    const keyLen = readVarint();
    if (keyLen !== 4 || buf.readInt16BE(p + 2) !== CONTROL_TYPE_MEMBERSHIP) return undefined;
    p += keyLen;
    const valueLen = readVarint();
    if (valueLen < 10 || p + valueLen > end) return undefined;
    let q = p + 2;
    const voters: number[] = [];
    for (let n = buf.readInt32BE(q), i = (q += 4, 0); i < n; i++, q += 4) voters.push(buf.readInt32BE(q));
    const learners: number[] = [];
    for (let n = buf.readInt32BE(q), i = (q += 4, 0); i < n; i++, q += 4) learners.push(buf.readInt32BE(q));
    return { voters, learners };
  } catch {
    return undefined;
  }
}

/** Configurations as stored with the hard state. */
export function configsToJson(configs: readonly ConfigEntry[]): { configs: { offset: string; epoch: number; voters: number[]; learners: number[] }[] } {
  return { configs: configs.map((c) => ({ offset: c.offset.toString(), epoch: c.epoch, voters: [...c.voters], learners: [...c.learners] })) };
}

export function configsFromJson(stored: unknown): ConfigEntry[] | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const list = (stored as { configs?: unknown }).configs;
  if (!Array.isArray(list)) return undefined;
  const out: ConfigEntry[] = [];
  for (const c of list as unknown[]) {
    const x = c as { offset?: unknown; epoch?: unknown; voters?: unknown; learners?: unknown };
    if (typeof x.offset !== 'string' || typeof x.epoch !== 'number' || !Array.isArray(x.voters) || !Array.isArray(x.learners)) return undefined;
    out.push({ offset: BigInt(x.offset), epoch: x.epoch, voters: x.voters.map(Number), learners: x.learners.map(Number) });
  }
  return out.length > 0 ? out : undefined;
}

/** Stored configurations plus new ones, by (offset, epoch), ascending: what is written before the log. */
export function unionConfigs(a: readonly ConfigEntry[], b: readonly ConfigEntry[]): ConfigEntry[] {
  const byKey = new Map<string, ConfigEntry>();
  for (const c of [...a, ...b]) byKey.set(`${c.offset}:${c.epoch}`, c);
  return [...byKey.values()].sort((x, y) => (x.offset < y.offset ? -1 : x.offset > y.offset ? 1 : 0));
}
