import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from './harness.js';
import { partitionLeader, step } from './checks.js';
import { makeRecords } from './records.js';
import { kafkajsDriver } from './clients/kafkajs.js';
import type { AcksAllLoop } from './clients/produce-loop.js';

/** Records scenario 7 needs acknowledged; the leader is SIGKILLed after the first SCENARIO_7_KILL_AFTER. */
export const SCENARIO_7_ACKS = 40;
export const SCENARIO_7_KILL_AFTER = 10;
/** At most this many attempts (acknowledged or failed) per run. */
export const SCENARIO_7_MAX_ATTEMPTS = 10_000;

/**
 * Scenario 7: a produce loop with acks=all, one record at a time, into partition 0 of a topic
 * (1 partition x RF 3); after SCENARIO_7_KILL_AFTER acknowledgements the partition's leader is
 * SIGKILLed (and restarted, without the loop waiting), and the loop goes on until
 * SCENARIO_7_ACKS records are acknowledged. Read back with kafkajs: every acknowledged record is
 * there, at the offset the client was told where it reports one; nothing unknown was written.
 * Duplicates (a retry of a write whose acknowledgement was lost) are allowed and reported.
 */
export function scenario7(client: string, loop: AcksAllLoop, slug: string, getCluster: () => Cluster): void {
  it(`scenario 7 (${client}): acks=all produce loop across a SIGKILL of the partition leader: every acknowledged record is read back`, async (t) => {
    const label = `${client} scenario 7`;
    const cluster = getCluster();
    const topic = `s7-${slug}`;
    await step(`${label} create topic (kafkajs)`, cluster, () => kafkajsDriver.createTopic!(cluster.bootstrapList, topic, 1, cluster.replicationFactor));
    const leader = await step(`${label} leader`, cluster, () => partitionLeader(cluster, topic, 0));
    const victim = cluster.broker(leader);
    const supply = makeRecords(`${slug}-s7`, SCENARIO_7_MAX_ATTEMPTS, 1);
    let restart: Promise<void> | null = null;
    let killedAt = -1;
    const t0 = Date.now();
    const attempts = await step(`${label} produce while broker ${leader} (the leader) is killed and restarted`, cluster,
      () => loop(cluster.bootstrapList, topic, supply, SCENARIO_7_ACKS, (acked) => {
        if (restart === null && acked >= SCENARIO_7_KILL_AFTER) { killedAt = acked; restart = victim.kill().then(() => victim.restart()); }
      }));
    const loopMs = Date.now() - t0;
    assert.ok(restart !== null, `${label}: the leader was never killed (${attempts.length} attempts)`);
    await step(`${label} broker ${leader} back`, cluster, async () => { await restart; await cluster.waitReady(); });
    const acked = attempts.filter((a): a is Extract<typeof a, { offset: number }> => 'offset' in a);
    const failed = attempts.filter((a): a is Extract<typeof a, { error: string }> => 'error' in a);
    assert.equal(acked.length, SCENARIO_7_ACKS, `${label}: ${acked.length} acknowledged in ${attempts.length} attempts (errors: ${failed.slice(0, 3).map((f) => f.error).join(' / ')})`);

    const got = await step(`${label} read back (kafkajs fetch)`, cluster, () => kafkajsDriver.consume(cluster.bootstrapList, topic, 1, Number.MAX_SAFE_INTEGER));
    const byKey = new Map<string, number[]>();
    for (const r of got) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.offset]);
    const byOffset = new Map(got.map((r) => [r.offset, r]));
    const sent = new Map(attempts.map((a) => [a.record.key, a.record]));
    for (const r of got) {
      const s = sent.get(r.key);
      assert.ok(s !== undefined, `${label}: offset ${r.offset} holds ${r.key}, which was never sent`);
      assert.deepEqual({ value: r.value, headers: r.headers }, { value: s.value, headers: s.headers }, `${label}: offset ${r.offset} (${r.key}) altered`);
    }
    const lost = acked.filter((a) => !byKey.has(a.record.key));
    assert.equal(lost.length, 0, `${label}: ${lost.length} acknowledged records lost, e.g. ${lost.slice(0, 3).map((a) => `${a.record.key} (acknowledged at offset ${a.offset})`).join(', ')}`);
    for (const a of acked) {
      assert.equal(byOffset.get(a.offset)?.key, a.record.key, `${label}: ${a.record.key} was acknowledged at offset ${a.offset}, which holds ${byOffset.get(a.offset)?.key ?? 'nothing'}`);
    }
    const duplicates = [...byKey.values()].filter((o) => o.length > 1).length;
    const failedPresent = failed.filter((f) => byKey.has(f.record.key)).length;
    const kinds = new Map<string, number>();
    for (const f of failed) { const k = f.error.replace(/\d+/g, 'N').slice(0, 80); kinds.set(k, (kinds.get(k) ?? 0) + 1); }
    t.diagnostic(`${client}: ${acked.length} acknowledged (leader ${leader} killed after ${killedAt}), ${failed.length} failed attempts `
      + `(${failedPresent} of them written anyway), ${duplicates} duplicated records, ${got.length} records read, loop ${loopMs} ms`
      + (kinds.size > 0 ? `; errors: ${[...kinds].map(([k, n]) => `${n} x ${k}`).join('; ')}` : ''));
  });
}
