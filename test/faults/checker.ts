import type { FinalState, History, SendOp } from './history.js';

export type AnomalyKind =
  | 'lost'              // an acknowledged record is not in the final log
  | 'duplicated'        // a record of an idempotent producer appears more than once
  | 'unexpected'        // a record nobody sent (or not in the partition it was sent to)
  | 'offset-mismatch'   // the acknowledged offset holds another record
  | 'gap'               // offsets of the final log are not consecutive
  | 'offset-reused'     // a consumer saw a different record at an offset than the final log holds (a read that later vanished)
  | 'commit-lost'       // the group's committed offset went back below an acknowledged commit
  | 'commit-beyond-log' // a committed offset past the end of the final log
  | 'topic-unusable'    // a topic created during the faults lacks leaders or cannot be written and read
  | 'broker-fatal';     // a broker logged a fatal error (added by the runner from the broker logs)

export interface Anomaly {
  kind: AnomalyKind;
  /** `${topic}-${partition}` or the topic name. */
  where: string;
  detail: string;
  /** When it was observed or acknowledged (wall clock ms; for picking broker log lines). */
  time: number;
}

export interface CheckCounts {
  sends: number;
  /** Records acknowledged with acks=all. */
  acknowledged: number;
  /** Records whose send failed or never returned: they may or may not be written. */
  indeterminate: number;
  /** Indeterminate records that turned out to be written. */
  indeterminateWritten: number;
  lost: number;
  /** Extra copies of idempotent producers' records. */
  duplicated: number;
  /** Extra copies of non-idempotent producers' records (allowed: retries without idempotence duplicate). */
  duplicatedNonIdempotent: number;
  unexpected: number;
  offsetMismatches: number;
  gaps: number;
  readsChecked: number;
  readsVanished: number;
  commitsAcknowledged: number;
  commitsLost: number;
  topicsCreatedDuringFaults: number;
  topicsUnusable: number;
  finalRecords: number;
  /** Fatal broker log lines (filled in by the runner). */
  brokerFatal: number;
  /** Control records in the final logs (the LeaderChange batch each new Raft leader appends). */
  controlRecords: number;
}

export interface CheckResult {
  ok: boolean;
  counts: CheckCounts;
  anomalies: Anomaly[];
}

const key = (topic: string, partition: number): string => `${topic}-${partition}`;

/**
 * Checks the history against the final state read back after healing. Every record value is
 * unique in the whole run (`producer:sequence`), which is what makes each one traceable.
 */
export function check(history: History, final: FinalState): CheckResult {
  const anomalies: Anomaly[] = [];
  const counts: CheckCounts = {
    sends: history.sends.length, acknowledged: 0, indeterminate: 0, indeterminateWritten: 0, lost: 0,
    duplicated: 0, duplicatedNonIdempotent: 0, unexpected: 0, offsetMismatches: 0, gaps: 0,
    readsChecked: 0, readsVanished: 0, commitsAcknowledged: history.commits.length, commitsLost: 0,
    topicsCreatedDuringFaults: 0, topicsUnusable: 0, finalRecords: 0, controlRecords: 0, brokerFatal: 0,
  };

  // Where each value was sent.
  const sentBy = new Map<string, { op: SendOp; index: number }>();
  for (const op of history.sends) op.values.forEach((v, index) => sentBy.set(v, { op, index }));

  // The final logs: gapless offsets, each value where it was sent, counted.
  const positions = new Map<string, { where: string; offset: bigint }[]>();
  const valueAt = new Map<string, Map<bigint, string>>();
  for (const [where, records] of final.logs) {
    const byOffset = new Map<bigint, string>();
    valueAt.set(where, byOffset);
    let expected = records.length > 0 ? records[0]!.offset : 0n;
    if (expected !== 0n) {
      anomalies.push({ kind: 'gap', where, detail: `the log starts at offset ${expected}, not 0 (no retention or DeleteRecords ran)`, time: 0 });
      counts.gaps++;
    }
    for (const r of records) {
      counts.finalRecords++;
      if (r.offset !== expected) {
        counts.gaps++;
        anomalies.push({ kind: 'gap', where, detail: `offset ${r.offset} follows ${expected - 1n}`, time: sentBy.get(r.value)?.op.end ?? 0 });
      }
      expected = r.offset + 1n;
      if (r.control) { counts.controlRecords++; continue; }
      byOffset.set(r.offset, r.value);
      const list = positions.get(r.value) ?? [];
      list.push({ where, offset: r.offset });
      positions.set(r.value, list);
      const sent = sentBy.get(r.value);
      if (sent === undefined || key(sent.op.topic, sent.op.partition) !== where) {
        counts.unexpected++;
        anomalies.push({ kind: 'unexpected', where, detail: `offset ${r.offset} holds '${r.value}', ${sent === undefined ? 'which no producer sent' : `sent to ${key(sent.op.topic, sent.op.partition)}`}`, time: sent?.op.end ?? 0 });
      }
    }
  }

  for (const op of history.sends) {
    const where = key(op.topic, op.partition);
    op.values.forEach((value, index) => {
      const found = positions.get(value) ?? [];
      if (found.length > 1) {
        if (op.idempotent) {
          counts.duplicated += found.length - 1;
          anomalies.push({ kind: 'duplicated', where, detail: `'${value}' of idempotent ${op.producer} at offsets ${found.map((f) => f.offset).join(', ')} (send ${op.outcome})`, time: op.end });
        } else {
          counts.duplicatedNonIdempotent += found.length - 1;
        }
      }
      if (op.outcome !== 'ok') {
        counts.indeterminate++;
        if (found.length > 0) counts.indeterminateWritten++;
        return;
      }
      counts.acknowledged++;
      if (found.length === 0) {
        counts.lost++;
        anomalies.push({ kind: 'lost', where, detail: `'${value}' acknowledged by ${op.producer} at offset ${op.baseOffset >= 0n ? op.baseOffset + BigInt(index) : '?'} (acked at ${new Date(op.end).toISOString()}) is not in the final log`, time: op.end });
        return;
      }
      if (op.baseOffset >= 0n) {
        const at = op.baseOffset + BigInt(index);
        const holder = valueAt.get(where)?.get(at);
        if (holder !== value) {
          counts.offsetMismatches++;
          anomalies.push({ kind: 'offset-mismatch', where, detail: `'${value}' was acknowledged at offset ${at}, which holds ${holder === undefined ? 'nothing' : `'${holder}'`}; the value is at ${found.map((f) => `${f.where}@${f.offset}`).join(', ')}`, time: op.end });
        }
      }
    });
  }

  // Consumers saw only records that the final log still holds at the same offset.
  counts.readsChecked = history.reads.count;
  for (const { earlier, later } of history.reads.conflicts) {
    counts.readsVanished++;
    anomalies.push({ kind: 'offset-reused', where: key(later.topic, later.partition), detail: `${earlier.consumer} read '${earlier.value}' at offset ${earlier.offset} (${new Date(earlier.time).toISOString()}), ${later.consumer} read '${later.value}' there (${new Date(later.time).toISOString()})`, time: later.time });
  }
  for (const [where, byOffset] of history.reads.first) {
    for (const r of byOffset.values()) {
      const holder = valueAt.get(where)?.get(r.offset);
      if (holder === r.value) continue;
      counts.readsVanished++;
      anomalies.push({ kind: 'offset-reused', where, detail: `${r.consumer} read '${r.value}' at offset ${r.offset} (${new Date(r.time).toISOString()}); the final log holds ${holder === undefined ? 'nothing' : `'${holder}'`} there`, time: r.time });
    }
  }

  // Committed offsets never go back below an acknowledged commit, and stay within the log.
  const maxCommitted = new Map<string, { offset: bigint; time: number; member: string }>();
  for (const c of history.commits) {
    const where = key(c.topic, c.partition);
    const prev = maxCommitted.get(where);
    if (prev === undefined || c.offset > prev.offset) maxCommitted.set(where, { offset: c.offset, time: c.time, member: c.member });
  }
  for (const [where, max] of maxCommitted) {
    const now = final.committed.get(where) ?? -1n;
    if (now < max.offset) {
      counts.commitsLost++;
      anomalies.push({ kind: 'commit-lost', where, detail: `committed offset is ${now} after healing, but ${max.member} had a commit of ${max.offset} acknowledged at ${new Date(max.time).toISOString()}`, time: max.time });
    }
  }
  for (const [where, offset] of final.committed) {
    const log = final.logs.get(where);
    const end = log === undefined || log.length === 0 ? 0n : log[log.length - 1]!.offset + 1n;
    if (offset > end) anomalies.push({ kind: 'commit-beyond-log', where, detail: `committed offset ${offset} is past the log end ${end}`, time: 0 });
  }

  // Topics created during the faults.
  const attempted = new Map<string, boolean>();
  for (const t of history.topics) attempted.set(t.topic, (attempted.get(t.topic) ?? false) || t.ok);
  for (const [topic, acked] of attempted) {
    const state = final.createdTopics.get(topic);
    if (state === undefined || (!state.exists && !acked)) continue; // never created: fine when never acknowledged
    counts.topicsCreatedDuringFaults++;
    if (!state.exists || !state.leaders || !state.usable) {
      counts.topicsUnusable++;
      anomalies.push({ kind: 'topic-unusable', where: topic, detail: `created ${acked ? '(acknowledged)' : '(not acknowledged)'}: exists ${state.exists}, leaders ${state.leaders}, usable ${state.usable}${state.error !== undefined ? `: ${state.error}` : ''}`, time: history.topics.find((t) => t.topic === topic)?.end ?? 0 });
    }
  }

  return { ok: anomalies.length === 0, counts, anomalies };
}
