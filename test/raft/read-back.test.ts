import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftCore } from '../../src/raft/core.js';
import type { AppendRequest, AppendResponse, Entry, EpochStart, Ready } from '../../src/raft/types.js';
import { Random } from '../../src/util/random.js';

/**
 * A follower handed an entry read back by the broker: a run of batches of one epoch merged into
 * ONE entry (RaftGroup.splitByEpoch), which may start below the follower's HW and end past its log
 * end. The follower must never truncate what it holds of it (its committed or acknowledged
 * prefix): before the fix, the core threw 'invariant: truncation to 0 below the high watermark'
 * on every retry (the short fault schedule's failure and hangs).
 */
function follower(opts: { logStart?: bigint; logEnd: bigint; hw: bigint; epochs: EpochStart[] }): RaftCore {
  return new RaftCore({ id: 2, voters: [1, 2, 3], random: new Random(7) }, {
    hardState: { term: 5, votedFor: 1, commitOffset: opts.hw },
    logStartOffset: opts.logStart ?? 0n, logEndOffset: opts.logEnd, epochs: opts.epochs,
  });
}

function entry(baseOffset: bigint, lastOffset: bigint, epoch: number): Entry {
  return { baseOffset, lastOffset, epoch, data: Buffer.from(`${baseOffset}-${lastOffset}@${epoch}`) };
}

function append(prevOffset: bigint, prevEpoch: number, entries: Entry[], highWatermark: bigint): AppendRequest {
  return { type: 'append', term: 5, from: 1, to: 2, prevOffset, prevEpoch, entries, highWatermark };
}

/** Step one message, take the Ready, and return it with the follower's answer. */
function stepAndAnswer(c: RaftCore, m: AppendRequest): { ready: Ready; answer: AppendResponse } {
  c.step(m);
  const ready = c.ready();
  const answer = [...ready.sendNow, ...ready.sendAfterPersist].find((x): x is AppendResponse => x.type === 'appendResponse');
  assert.ok(answer !== undefined, 'the follower answers');
  return { ready, answer };
}

test('a follower holding a prefix of a merged entry that starts below its HW keeps it and acknowledges its log end', () => {
  // log 0..9 in epoch 1, HW 6; the leader sends 0..14 (epoch 1) as one entry
  const c = follower({ logEnd: 10n, hw: 6n, epochs: [{ epoch: 1, startOffset: 0n }] });
  const { ready, answer } = stepAndAnswer(c, append(-1n, -1, [entry(0n, 14n, 1)], 12n));
  assert.equal(ready.truncateTo, undefined, 'nothing is truncated');
  assert.deepEqual(ready.entries, [], 'an entry is never appended in part');
  assert.equal(answer.success, true);
  assert.equal(answer.matchOffset, 10n, 'it acknowledges what it holds: its log end, a batch boundary of both logs');
  assert.equal(c.logEndOffset, 10n);
  assert.equal(c.highWatermark, 10n, 'the HW moves up to what it holds (leader HW 12)');
});

test('a follower whose log diverges inside a merged entry truncates only the diverging tail (never below its HW) and acknowledges the agreeing prefix', () => {
  // 0..5 in epoch 1, then 6..9 in epoch 2 (a deposed leader's tail), HW 4; the leader sends 0..11 in epoch 1
  const c = follower({ logEnd: 10n, hw: 4n, epochs: [{ epoch: 1, startOffset: 0n }, { epoch: 2, startOffset: 6n }] });
  const { ready, answer } = stepAndAnswer(c, append(-1n, -1, [entry(0n, 11n, 1)], 12n));
  assert.equal(ready.truncateTo, 6n);
  assert.deepEqual(ready.entries, []);
  assert.equal(answer.matchOffset, 6n);
  assert.equal(c.logEndOffset, 6n);
  assert.equal(c.lastEpoch, 1);
});

test('a follower checks an entry that starts below its log start from its log start on (a diverging tail is not acknowledged)', () => {
  // log start 4 (retention), 4..5 in epoch 1, 6..9 in epoch 2, HW 5; the leader sends 0..9 in epoch 1
  const c = follower({ logStart: 4n, logEnd: 10n, hw: 5n, epochs: [{ epoch: 1, startOffset: 4n }, { epoch: 2, startOffset: 6n }] });
  const { ready, answer } = stepAndAnswer(c, append(-1n, -1, [entry(0n, 9n, 1)], 10n));
  assert.equal(ready.truncateTo, 6n, 'the epoch-2 tail diverges from the leader\'s epoch-1 entry');
  assert.equal(answer.matchOffset, 6n, 'before the fix it acknowledged 10, holding epoch 2 where the leader has epoch 1');
});

test('a follower holding all of a merged entry skips it and appends what follows', () => {
  const c = follower({ logEnd: 10n, hw: 6n, epochs: [{ epoch: 1, startOffset: 0n }] });
  const { ready, answer } = stepAndAnswer(c, append(-1n, -1, [entry(0n, 9n, 1), entry(10n, 12n, 5)], 6n));
  assert.equal(ready.truncateTo, undefined);
  assert.deepEqual(ready.entries.map((e) => [e.baseOffset, e.lastOffset]), [[10n, 12n]]);
  assert.equal(answer.matchOffset, 13n);
});
