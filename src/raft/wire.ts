/**
 * Binary encoding of RaftHost envelopes for the wire between brokers (version 0). Envelopes travel
 * as the body of raftka's internal RaftEnvelope request (see src/server/internal-apis.ts), framed
 * and headed like any Kafka request.
 *
 * envelope := from:int32 quiesce:[string] messages:[groupId:string message]
 * message  := type:int8 term:int32 from:int32 to:int32 <fields of the type, in types.ts order>
 * An entry's configuration is not on the wire: the receiver reads it from the entry's bytes (a
 * membership control batch, see membership.ts). logStart (type 7) was added without a version
 * bump: a broker that does not know it drops the envelope, as for any unknown type. (Its
 * prevEpoch field was added before any release carried logStart.)
 */
import { Reader, Writer } from '../../protocol/primitives.js';
import { DecodeError } from '../../protocol/errors.js';
import type { HostEnvelope } from './host.js';
import { membershipOfBatch } from './membership.js';
import type { Entry, RaftMessage } from './types.js';

const TYPES = ['vote', 'voteResponse', 'append', 'appendResponse', 'heartbeat', 'heartbeatResponse', 'timeoutNow', 'logStart'] as const;
const TYPE_CODE = new Map<string, number>(TYPES.map((t, i) => [t, i]));

export function encodeEnvelope(w: Writer, e: HostEnvelope): void {
  w.int32(e.from);
  w.int32(e.quiesce.length);
  for (const g of e.quiesce) w.string(g);
  w.int32(e.messages.length);
  for (const { groupId, message } of e.messages) {
    w.string(groupId);
    encodeMessage(w, message);
  }
}

export function decodeEnvelope(r: Reader): HostEnvelope {
  const from = r.int32();
  const quiesce: string[] = [];
  for (let n = count(r); n > 0; n--) quiesce.push(r.string());
  const messages: HostEnvelope['messages'] = [];
  for (let n = count(r); n > 0; n--) {
    const groupId = r.string();
    messages.push({ groupId, message: decodeMessage(r) });
  }
  return { v: 1, from, quiesce, messages };
}

function count(r: Reader): number {
  const n = r.int32();
  // every element takes at least one byte: a count beyond what remains is malformed
  if (n < 0 || n > r.remaining()) throw new DecodeError(`invalid element count ${n}`);
  return n;
}

function encodeMessage(w: Writer, m: RaftMessage): void {
  w.int8(TYPE_CODE.get(m.type)!);
  w.int32(m.term);
  w.int32(m.from);
  w.int32(m.to);
  switch (m.type) {
    case 'vote':
      w.bool(m.pre); w.int32(m.lastEpoch); w.int64(m.logEndOffset); w.bool(m.transfer);
      return;
    case 'voteResponse':
      w.bool(m.pre); w.bool(m.granted);
      return;
    case 'append':
      w.int64(m.prevOffset); w.int32(m.prevEpoch); w.int64(m.highWatermark);
      w.int32(m.entries.length);
      for (const e of m.entries) { w.int64(e.baseOffset); w.int64(e.lastOffset); w.int32(e.epoch); w.bytes(e.data); }
      return;
    case 'appendResponse':
      w.bool(m.success); w.int64(m.matchOffset); w.int64(m.prevOffset);
      w.bool(m.hint !== undefined);
      if (m.hint !== undefined) { w.int32(m.hint.epoch); w.int64(m.hint.epochStartOffset); w.int64(m.hint.epochEndOffset); }
      return;
    case 'heartbeat':
      w.int64(m.highWatermark);
      return;
    case 'heartbeatResponse':
    case 'timeoutNow':
      return;
    case 'logStart':
      w.int64(m.logStartOffset);
      w.int32(m.logStartEpoch);
      w.int32(m.prevEpoch);
      w.int32(m.membership.voters.length);
      for (const v of m.membership.voters) w.int32(v);
      w.int32(m.membership.learners.length);
      for (const l of m.membership.learners) w.int32(l);
      return;
  }
}

function ids(r: Reader): number[] {
  const out: number[] = [];
  for (let n = count(r); n > 0; n--) out.push(r.int32());
  return out;
}

/** An entry that is one membership control batch carries its configuration. */
function withConfig(e: Entry): Entry {
  if (e.data.length < 61 || e.baseOffset !== e.lastOffset || 12 + e.data.readInt32BE(8) !== e.data.length) return e;
  const config = membershipOfBatch(e.data, 0, e.data.length);
  return config === undefined ? e : { ...e, config };
}

function decodeMessage(r: Reader): RaftMessage {
  const code = r.int8();
  const type = TYPES[code];
  if (type === undefined) throw new DecodeError(`unknown raft message type ${code}`);
  const base = { term: r.int32(), from: r.int32(), to: r.int32() };
  switch (type) {
    case 'vote':
      return { type, ...base, pre: r.bool(), lastEpoch: r.int32(), logEndOffset: r.int64(), transfer: r.bool() };
    case 'voteResponse':
      return { type, ...base, pre: r.bool(), granted: r.bool() };
    case 'append': {
      const prevOffset = r.int64();
      const prevEpoch = r.int32();
      const highWatermark = r.int64();
      const entries: Entry[] = [];
      for (let n = count(r); n > 0; n--) entries.push(withConfig({ baseOffset: r.int64(), lastOffset: r.int64(), epoch: r.int32(), data: r.bytes() }));
      return { type, ...base, prevOffset, prevEpoch, highWatermark, entries };
    }
    case 'appendResponse': {
      const success = r.bool();
      const matchOffset = r.int64();
      const prevOffset = r.int64();
      const hint = r.bool() ? { epoch: r.int32(), epochStartOffset: r.int64(), epochEndOffset: r.int64() } : undefined;
      return hint === undefined ? { type, ...base, success, matchOffset, prevOffset } : { type, ...base, success, matchOffset, prevOffset, hint };
    }
    case 'heartbeat':
      return { type, ...base, highWatermark: r.int64() };
    case 'heartbeatResponse':
    case 'timeoutNow':
      return { type, ...base };
    case 'logStart': {
      const logStartOffset = r.int64();
      const logStartEpoch = r.int32();
      const prevEpoch = r.int32();
      const voters = ids(r);
      const learners = ids(r);
      return { type, ...base, logStartOffset, logStartEpoch, prevEpoch, membership: { voters, learners } };
    }
  }
}
