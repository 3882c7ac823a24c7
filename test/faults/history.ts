/** What the workload did and saw, in wall-clock milliseconds (Date.now(), comparable with broker log times). */

/** One producer.send of one or more records to one partition. */
export interface SendOp {
  producer: string;
  idempotent: boolean;
  topic: string;
  partition: number;
  values: string[];
  start: number;
  end: number;
  /** ok: acknowledged (acks=all); fail: the client gave up (indeterminate: it may be written); pending: never answered. */
  outcome: 'ok' | 'fail' | 'pending';
  /** Base offset the broker acknowledged (ok only; -1 when the broker did not say). */
  baseOffset: bigint;
  error?: string;
}

/** One record a consumer received. */
export interface ReadObs {
  consumer: string;
  topic: string;
  partition: number;
  offset: bigint;
  value: string;
  time: number;
}

/** One OffsetCommit the group coordinator acknowledged (offset = next offset to read). */
export interface CommitOp {
  group: string;
  member: string;
  topic: string;
  partition: number;
  offset: bigint;
  time: number;
}

/** One CreateTopics attempt made during the faults. */
export interface TopicOp {
  topic: string;
  partitions: number;
  start: number;
  end: number;
  ok: boolean;
  error?: string;
}

/** One injected fault. */
export interface FaultRecord {
  kind: string;
  detail: string;
  start: number;
  /** When the fault was healed (broker restarted, network healed, process resumed). */
  healed: number;
}

/**
 * What consumers saw, compacted: per `${topic}-${partition}` and offset, the first read of it
 * (millions of reads in a long run; every later read of the same offset is compared on arrival).
 */
export interface Reads {
  count: number;
  first: Map<string, Map<bigint, ReadObs>>;
  /** Reads that saw another value at an offset than an earlier read did. */
  conflicts: { earlier: ReadObs; later: ReadObs }[];
}

export function recordRead(reads: Reads, obs: ReadObs): void {
  reads.count++;
  const where = `${obs.topic}-${obs.partition}`;
  let byOffset = reads.first.get(where);
  if (byOffset === undefined) { byOffset = new Map(); reads.first.set(where, byOffset); }
  const earlier = byOffset.get(obs.offset);
  if (earlier === undefined) byOffset.set(obs.offset, obs);
  else if (earlier.value !== obs.value && reads.conflicts.length < 1000) reads.conflicts.push({ earlier, later: obs });
}

export interface History {
  sends: SendOp[];
  reads: Reads;
  commits: CommitOp[];
  topics: TopicOp[];
  faults: FaultRecord[];
}

export function emptyHistory(): History {
  return { sends: [], reads: { count: 0, first: new Map(), conflicts: [] }, commits: [], topics: [], faults: [] };
}

/** The final state read back after healing. */
export interface FinalState {
  /** Per `${topic}-${partition}`: the records from offset 0 up to the high watermark, in offset order (control records included). */
  logs: Map<string, { offset: bigint; value: string; control: boolean }[]>;
  /** The group's committed offsets after healing, per `${topic}-${partition}` (-1: none). */
  committed: Map<string, bigint>;
  /** Topics created during the faults: does it exist, does every partition have a leader, did a write and read-back work. */
  createdTopics: Map<string, { exists: boolean; leaders: boolean; usable: boolean; error?: string }>;
}
