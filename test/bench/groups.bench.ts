/**
 * bench:groups (issue 8): time for a group of 10 members on 100 partitions to stabilise after an
 * 11th member joins (p50 over 5 runs, group.initial.rebalance.delay.ms=0), and the OffsetCommit
 * rate of one member committing 100 partitions per request. Members are raw clients that rejoin
 * as soon as the new member's join is sent, so the number is the coordinator's rebalance latency
 * (join round + leader assignment persisted with acks=all + sync round), not a client's heartbeat
 * interval. Run: node dist/test/bench/groups.bench.js
 */
import { makeDataDir, removeDataDir, startBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { ApiKey } from '../../protocol/generated/index.js';
import type { JoinGroupResponse } from '../../protocol/generated/join-group.js';
import type { SyncGroupResponse } from '../../protocol/generated/sync-group.js';
import type { HeartbeatResponse } from '../../protocol/generated/heartbeat.js';
import type { OffsetCommitResponse } from '../../protocol/generated/offset-commit.js';

interface Member { client: RawClient; memberId: string }
const PARTITIONS = 100;
const MEMBERS = 10;
const RUNS = 5;
const COMMITS = Number(process.env.BENCH_COMMITS ?? 2000);
function subscription(topic: string): Buffer {
    const b = Buffer.alloc(2 + 4 + 2 + topic.length + 4);
    b.writeInt32BE(1, 2);
    b.writeInt16BE(topic.length, 6);
    b.write(topic, 8);
    b.writeInt32BE(-1, 8 + topic.length);
    return b;
}
async function call<T>(c: RawClient, apiKey: number, version: number, body: unknown): Promise<T> {
    c.send(apiKey, version, body);
    return (await c.receive()).body as T;
}
async function joinAll(members: Member[], groupId: string): Promise<JoinGroupResponse[]> {
    return Promise.all(members.map(async (m) => {
        const body = { groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId: m.memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: subscription('bench') }], reason: null };
        let r = await call<JoinGroupResponse>(m.client, ApiKey.JoinGroup, 7, body);
        if (r.errorCode === 79) {
            m.memberId = r.memberId;
            r = await call<JoinGroupResponse>(m.client, ApiKey.JoinGroup, 7, { ...body, memberId: m.memberId });
        }
        return r;
    }));
}
/** True when every member synced in the same generation. */
async function syncAll(members: Member[], groupId: string, joins: JoinGroupResponse[]): Promise<boolean> {
    if (joins.some((j) => j.errorCode !== 0 || j.generationId !== joins[0]!.generationId))
        return false;
    const codes = await Promise.all(members.map(async (m, i) => {
        const j = joins[i]!;
        const assignments = j.members.map((x, k) => {
            const parts = Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % j.members.length === k);
            const a = Buffer.alloc(2 + 4 + 2 + 5 + 4 + parts.length * 4 + 4);
            let o = a.writeInt16BE(0, 0);
            o = a.writeInt32BE(1, o);
            o = a.writeInt16BE(5, o);
            o += a.write('bench', o);
            o = a.writeInt32BE(parts.length, o);
            for (const p of parts)
                o = a.writeInt32BE(p, o);
            a.writeInt32BE(-1, o);
            return { memberId: x.memberId, assignment: a };
        });
        const r = await call<SyncGroupResponse>(m.client, ApiKey.SyncGroup, 5, { groupId, generationId: j.generationId, memberId: m.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: j.protocolName, assignments });
        return r.errorCode;
    }));
    return codes.every((c) => c === 0);
}
/** Joins and syncs until the whole group is stable in one generation (what a client's retry loop does). */
async function stabilise(members: Member[], groupId: string): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
        const joins = await joinAll(members, groupId);
        if (process.env.BENCH_DEBUG)
            process.stderr.write(`${joins.map((j) => `${j.errorCode}/${j.generationId}`).join(" ")}\n`);
        if (await syncAll(members, groupId, joins))
            return joins[0]!.generationId;
    }
    throw new Error('group did not stabilise');
}
const dataDir = await makeDataDir();
const broker = await startBroker({ dataDir, env: { RAFTKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0', RAFTKA_OFFSETS_TOPIC_NUM_PARTITIONS: '50' } });
try {
    const admin = await RawClient.connect(broker.port);
    await call(admin, ApiKey.CreateTopics, 7, { topics: [{ name: 'bench', numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 60_000, validateOnly: false });
    await call(admin, ApiKey.FindCoordinator, 4, { key: '', keyType: 0, coordinatorKeys: ['warmup'] });
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
        const groupId = `bench-${run}`;
        const members: Member[] = await Promise.all(Array.from({ length: MEMBERS }, async () => ({ client: await RawClient.connect(broker.port), memberId: '' })));
        const generation = await stabilise(members, groupId);
        const newcomer: Member = { client: await RawClient.connect(broker.port), memberId: '' };
        const all = [...members, newcomer];
        const started = performance.now();
        // The newcomer joins (two steps, KIP-394); the others rejoin as their next heartbeat tells them to.
        const first = await call<JoinGroupResponse>(newcomer.client, ApiKey.JoinGroup, 7, { groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: subscription('bench') }], reason: null });
        newcomer.memberId = first.memberId;
        const newcomerJoin = joinAll([newcomer], groupId);
        // The others learn of the rebalance from their next heartbeat (here: at once), then rejoin.
        while ((await call<HeartbeatResponse>(members[0]!.client, ApiKey.Heartbeat, 4, { groupId, generationId: generation, memberId: members[0]!.memberId, groupInstanceId: null })).errorCode !== 27)
            ;
        const joins = await Promise.all([joinAll(members, groupId), newcomerJoin]);
        if (!await syncAll(all, groupId, [...joins[0], ...joins[1]]))
            throw new Error('rebalance did not complete in one round');
        times.push(performance.now() - started);
        for (const m of all)
            m.client.close();
    }
    times.sort((a, b) => a - b);
    process.stdout.write(`rebalance of ${MEMBERS}+1 members on ${PARTITIONS} partitions: p50 ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms (runs: ${times.map((t) => t.toFixed(1)).join(', ')})\n`);
    // OffsetCommit rate: one member (generation -1, outside any group) committing 100 partitions per request.
    const committer = await RawClient.connect(broker.port);
    const body = (n: number): unknown => ({ groupId: 'committer', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
        topics: [{ name: 'bench', partitions: Array.from({ length: PARTITIONS }, (_, p) => ({ partitionIndex: p, committedOffset: BigInt(n), committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' })) }] });
    for (;;) {
        const r = await call<OffsetCommitResponse>(committer, ApiKey.OffsetCommit, 8, body(0));
        if (r.topics[0]!.partitions[0]!.errorCode === 0)
            break;
    }
    for (const depth of [1, 16]) {
        const t0 = performance.now();
        let sent = 0;
        let done = 0;
        while (sent < Math.min(depth, COMMITS)) {
            committer.send(ApiKey.OffsetCommit, 8, body(sent));
            sent++;
        }
        while (done < COMMITS) {
            const r = (await committer.receive()).body as OffsetCommitResponse;
            if (r.topics[0]!.partitions[0]!.errorCode !== 0)
                throw new Error(`commit failed ${r.topics[0]!.partitions[0]!.errorCode}`);
            done++;
            if (sent < COMMITS) {
                committer.send(ApiKey.OffsetCommit, 8, body(sent));
                sent++;
            }
        }
        const secs = (performance.now() - t0) / 1000;
        process.stdout.write(`OffsetCommit, 100 partitions per request, ${depth} in flight: ${(COMMITS / secs).toFixed(0)} requests/s (${(COMMITS * PARTITIONS / secs).toFixed(0)} offsets/s)\n`);
    }
    committer.close();
    admin.close();
}
finally {
    await broker.kill();
    await removeDataDir(dataDir);
}
//# sourceMappingURL=groups.bench.js.map
