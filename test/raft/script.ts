/**
 * Data-driven Raft scripts: a tiny interpreter that drives the real RaftCore (through the
 * simulator's SimCluster, so every invariant of test/sim/cluster.ts is checked on the way) with a
 * text script of steps, and compares what each step prints with the expected text in the script.
 *
 * Format (our own, in the spirit of etcd-io/raft's testdata):
 *
 *   # a comment (kept as is when rewriting)
 *   > command arg key=value ...
 *   expected output, one line per line printed
 *   (a blank line, or the next "> " line, ends the block)
 *
 * A step that prints nothing has no expected lines. RAFTKA_SCRIPT_REWRITE=1 rewrites the scripts
 * with the actual output (review the diff before committing it!).
 *
 * Commands (node lists: `1`, `1,2`, or `all`):
 *   cluster voters=N [learners=N] [spares=N] [seed=S] [prevote=on|off] [checkquorum=on|off]
 *           [election=T] [inflight=N] [appendbytes=N] [promotionlag=N]
 *                             a fresh group (disk writes wait for `persist`); voters are 1..N, then
 *                             learners, then spares (nodes outside the group until added)
 *   tick NODES [N]            tick each node N times (default 1), printing role changes
 *   campaign NODE             start an election now (pre-vote first when enabled)
 *   propose NODE [RECORDS]    append RECORDS offsets on NODE (must be leader to succeed)
 *   transfer FROM TO          leader FROM hands leadership to TO
 *   deliver [from=N] [to=N] [type=T]   deliver the matching messages in flight at this moment, in order
 *   drop [from=N] [to=N] [type=T]      drop the matching messages in flight
 *   msgs                      list messages in flight
 *   (drop and msgs print identical messages once, with a count: `(x9)`)
 *   persist [NODES]           complete every pending disk write (then what waited for it is sent)
 *   stabilize [verbose]       persist and deliver everything until nothing moves
 *   crash NODE | restart NODE a crash loses what was not durable; a restart boots from the disk
 *   isolate NODE [in|out|both]   block traffic to/from NODE;  cut A B: block A -> B;  heal
 *   status [NODES]            role, term, vote, leader, log end, high watermark, log
 *                             (`start=S` when the log starts past 0)
 *   log NODES                 the page-cache log of each node (offsets@epoch)
 * Membership (single-server changes, RaftCore.changeMembership):
 *   add-learner LEADER NODE | promote LEADER NODE | remove LEADER NODE
 *                             prints `ok at=OFFSET voters=.. learners=..` or `refused REASON: message`
 *   members [NODES]           the configuration in force on each node, `pending` while its entry is
 *                             not committed there, and the configurations stored with its hard state
 *   progress LEADER           the leader's view of each follower (match, next, state, ISR caught-up)
 *   compact NODE OFFSET       retention on NODE: its log loses every entry wholly below OFFSET
 * In logs and messages a configuration entry prints as `off@epoch{voters|learners}`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { SimCluster, type InFlight } from '../sim/cluster.js';
import type { ConfigEntry, Entry, Membership, MembershipChange, NodeId, RaftMessage } from '../../src/raft/types.js';

export interface ScriptBlock { line: number; command: string; expected: string[]; comments: string[] }
export interface ScriptMismatch { line: number; command: string; expected: string[]; actual: string[] }

export function parseScript(text: string): { blocks: ScriptBlock[]; trailing: string[] } {
  const blocks: ScriptBlock[] = [];
  let comments: string[] = [];
  let cur: ScriptBlock | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    if (raw.startsWith('> ')) {
      cur = { line: i + 1, command: raw.slice(2).trim(), expected: [], comments };
      comments = [];
      blocks.push(cur);
    } else if (raw.trim() === '' || raw.startsWith('#')) {
      cur = undefined;
      comments.push(raw);
    } else if (cur !== undefined) {
      cur.expected.push(raw);
    } else {
      comments.push(raw);
    }
  });
  return { blocks, trailing: comments };
}

function fmtRange(base: bigint, last: bigint, epoch: number): string {
  return base === last ? `${base}@${epoch}` : `${base}..${last}@${epoch}`;
}
function fmtMembership(m: Membership): string { return `{${m.voters.join(',')}|${m.learners.join(',')}}`; }
function fmtEntries(es: readonly Entry[]): string {
  return `[${es.map((e) => fmtRange(e.baseOffset, e.lastOffset, e.epoch) + (e.config !== undefined ? fmtMembership(e.config) : '')).join(' ')}]`;
}
function fmtConfigs(cs: readonly ConfigEntry[] | undefined): string {
  if (cs === undefined) return 'none';
  return `[${cs.map((c) => `${c.epoch < 0 ? `init@${c.offset + 1n}` : `${c.offset}@${c.epoch}`}${fmtMembership(c)}`).join(' ')}]`;
}

export function fmtMessage(m: RaftMessage): string {
  const head = `${m.from}->${m.to}`;
  switch (m.type) {
    case 'vote': return `${head} ${m.pre ? 'prevote' : 'vote'} t${m.term} last=${m.lastEpoch}/${m.logEndOffset}${m.transfer ? ' transfer' : ''}`;
    case 'voteResponse': return `${head} ${m.pre ? 'prevote' : 'vote'}-resp t${m.term} ${m.granted ? 'granted' : 'rejected'}`;
    case 'append': return `${head} app t${m.term} prev=${m.prevOffset}@${m.prevEpoch} ${fmtEntries(m.entries)} hw=${m.highWatermark}`;
    case 'appendResponse': {
      if (m.success) return `${head} app-resp t${m.term} ok match=${m.matchOffset}`;
      const hint = m.hint === undefined ? '' : ` hint=e${m.hint.epoch}[${m.hint.epochStartOffset},${m.hint.epochEndOffset})`;
      return `${head} app-resp t${m.term} reject prev=${m.prevOffset}${hint}`;
    }
    case 'heartbeat': return `${head} hb t${m.term} hw=${m.highWatermark}`;
    case 'heartbeatResponse': return `${head} hb-resp t${m.term}`;
    case 'timeoutNow': return `${head} timeout-now t${m.term}`;
    case 'logStart': return `${head} log-start t${m.term} start=${m.logStartOffset} prev=${m.logStartOffset - 1n}@${m.prevEpoch} voters=${m.membership.voters.join(',')}`;
  }
  // a message type this printer does not know yet: its type and term
  const other = m as { type: string; term: number };
  return `${head} ${other.type} t${other.term}`;
}

/** Repeated identical lines (a leader's heartbeats while cut off) as one line with a count. */
function collapse(lines: string[]): string[] {
  const out: string[] = [];
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  for (const l of lines) {
    const n = counts.get(l);
    if (n === undefined) continue;
    out.push(n > 1 ? `${l} (x${n})` : l);
    counts.delete(l);
  }
  return out;
}

const TYPE_ALIASES: Record<string, RaftMessage['type'][]> = {
  vote: ['vote'], prevote: ['vote'], 'vote-resp': ['voteResponse'], app: ['append'], 'app-resp': ['appendResponse'],
  hb: ['heartbeat'], 'hb-resp': ['heartbeatResponse'], 'timeout-now': ['timeoutNow'], 'log-start': ['logStart'],
};

class Interpreter {
  private c: SimCluster | undefined;
  private out: string[] = [];

  private cluster(): SimCluster {
    if (this.c === undefined) throw new Error('no cluster: start with `cluster voters=N`');
    return this.c;
  }

  private nodes(arg: string | undefined): NodeId[] {
    const c = this.cluster();
    if (arg === undefined || arg === 'all') return [...c.ids];
    return arg.split(',').map((s) => {
      const id = Number(s);
      if (!c.ids.includes(id)) throw new Error(`unknown node ${s}`);
      return id;
    });
  }

  private node(arg: string | undefined): NodeId {
    const ids = this.nodes(arg);
    if (ids.length !== 1 || arg === undefined) throw new Error(`expected one node, got ${arg ?? 'nothing'}`);
    return ids[0]!;
  }

  /** Record role/leader changes made by a step, as `n2 precandidate t1 lead=-`. */
  private watch<T>(fn: () => T): T {
    const c = this.cluster();
    const before = new Map(c.ids.map((id) => [id, this.roleLine(id)]));
    const r = fn();
    for (const id of c.ids) {
      const now = this.roleLine(id);
      if (now !== before.get(id)) this.out.push(now);
    }
    return r;
  }

  private roleLine(id: NodeId): string {
    const c = this.cluster();
    const n = c.node(id);
    if (!n.up) return `n${id} down`;
    const k = n.core;
    return `n${id} ${k.role} t${k.term} lead=${k.leaderId < 0 ? '-' : k.leaderId}`;
  }

  private filter(kv: Map<string, string>): (f: InFlight) => boolean {
    const from = kv.get('from'); const to = kv.get('to'); const type = kv.get('type');
    const types = type === undefined ? undefined : TYPE_ALIASES[type];
    if (type !== undefined && types === undefined) throw new Error(`unknown message type ${type}`);
    return (f) => (from === undefined || f.from === Number(from)) && (to === undefined || f.to === Number(to)) &&
      (types === undefined || (types.includes(f.msg.type) && (type !== 'prevote' || (f.msg.type === 'vote' && f.msg.pre)) && (type !== 'vote' || (f.msg.type === 'vote' && !f.msg.pre))));
  }

  run(command: string): string[] {
    this.out = [];
    const words = command.split(/\s+/).filter((w) => w !== '');
    const name = words[0] ?? '';
    const pos = words.slice(1).filter((w) => !w.includes('='));
    const kv = new Map(words.slice(1).filter((w) => w.includes('=')).map((w) => w.split('=', 2) as [string, string]));
    switch (name) {
      case 'cluster': this.newCluster(kv); break;
      case 'tick': {
        const ids = this.nodes(pos[0]);
        const times = Number(pos[1] ?? '1');
        this.watch(() => { for (let i = 0; i < times; i++) for (const id of ids) this.cluster().tick(id); });
        break;
      }
      case 'campaign': {
        const id = this.node(pos[0]);
        this.watch(() => { const c = this.cluster(); if (c.node(id).up) { c.core(id).campaign(false); c.process(id); } });
        break;
      }
      case 'propose': {
        const id = this.node(pos[0]);
        const c = this.cluster();
        const before = c.core(id).logEndOffset;
        const ok = this.watch(() => c.propose(id, Number(pos[1] ?? '1')));
        if (ok) {
          const k = c.core(id);
          this.out.push(`proposed ${fmtRange(before, k.logEndOffset - 1n, k.term)}`);
        } else {
          this.out.push(`rejected (${c.node(id).up ? `${c.core(id).role}${c.core(id).leadTransferee >= 0 ? ', transferring' : ''}` : 'down'})`);
        }
        break;
      }
      case 'transfer': {
        const from = this.node(pos[0]); const to = this.node(pos[1]);
        this.watch(() => { const c = this.cluster(); c.core(from).transferLeadership(to); c.process(from); });
        break;
      }
      case 'deliver': {
        const c = this.cluster();
        const pick = this.filter(kv);
        const batch = c.inflight.filter(pick);
        this.watch(() => {
          for (const f of batch) {
            const i = c.inflight.indexOf(f);
            if (i < 0) continue;
            const why = !c.node(f.to).up ? ' (to a down node: lost)' : c.blocked.has(`${f.from}>${f.to}`) ? ' (blocked: lost)' : '';
            this.out.push(`${fmtMessage(f.msg)}${why}`);
            c.deliverAt(i);
          }
        });
        break;
      }
      case 'drop': {
        const c = this.cluster();
        const pick = this.filter(kv);
        this.out.push(...collapse(c.inflight.filter(pick).map((f) => `dropped ${fmtMessage(f.msg)}`)));
        c.inflight = c.inflight.filter((f) => !pick(f));
        break;
      }
      case 'msgs': this.out.push(...collapse(this.cluster().inflight.map((f) => fmtMessage(f.msg)))); break;
      case 'persist': {
        const c = this.cluster();
        this.watch(() => { for (const id of this.nodes(pos[0])) while (c.completeDisk(id)); });
        break;
      }
      case 'stabilize': {
        const c = this.cluster();
        const verbose = pos[0] === 'verbose';
        this.watch(() => {
          for (let round = 0; round < 10_000; round++) {
            let moved = false;
            for (const id of c.ids) while (c.completeDisk(id)) moved = true;
            while (c.inflight.length > 0) {
              const f = c.inflight[0]!;
              if (verbose) this.out.push(fmtMessage(f.msg) + (!c.node(f.to).up || c.blocked.has(`${f.from}>${f.to}`) ? ' (lost)' : ''));
              c.deliverAt(0);
              moved = true;
            }
            if (!moved) return;
          }
          throw new Error('did not stabilize');
        });
        break;
      }
      case 'crash': { const id = this.node(pos[0]); this.watch(() => this.cluster().crash(id)); break; }
      case 'restart': { const id = this.node(pos[0]); this.watch(() => this.cluster().restart(id)); break; }
      case 'isolate': this.cluster().isolate(this.node(pos[0]), (pos[1] ?? 'both') as 'in' | 'out' | 'both'); break;
      case 'cut': this.cluster().blocked.add(`${this.node(pos[0])}>${this.node(pos[1])}`); break;
      case 'heal': this.cluster().heal(); break;
      case 'status': for (const id of this.nodes(pos[0])) this.out.push(this.statusLine(id)); break;
      case 'add-learner': case 'promote': case 'remove': {
        const leader = this.node(pos[0]); const target = this.node(pos[1]);
        const type = name === 'add-learner' ? 'addLearner' : name;
        const change = { type, node: target } as MembershipChange;
        const r = this.watch(() => this.cluster().change(leader, change));
        this.out.push(r.ok ? `ok at=${r.offset} voters=${r.membership.voters.join(',')} learners=${r.membership.learners.join(',')}` : `refused ${r.reason}: ${r.message}`);
        break;
      }
      case 'members': {
        const c = this.cluster();
        for (const id of this.nodes(pos[0])) {
          const n = c.node(id);
          const stored = `stored=${fmtConfigs(n.configs)}`;
          if (!n.up) { this.out.push(`n${id} down ${stored}`); continue; }
          const k = n.core;
          const m = k.membership;
          this.out.push(`n${id} voters=${m.voters.join(',')} learners=${m.learners.join(',')}${k.membershipChangePending ? ' pending' : ''} ${stored}`);
        }
        break;
      }
      case 'progress': {
        const c = this.cluster();
        const id = this.node(pos[0]);
        const k = c.core(id);
        if (!c.node(id).up || k.role !== 'leader') { this.out.push(`n${id} is not leading`); break; }
        for (const [f, pr] of [...k.followerProgress()].sort((a, b) => a[0] - b[0])) {
          const role = k.voters.includes(f) ? 'voter' : k.learners.includes(f) ? 'learner' : 'removed';
          // a member added by a change is not in sync (ISR) until it has held the whole log once
          const inSync = pr.lastCaughtUpTick >= 0 ? 'caught-up' : 'never-caught-up';
          this.out.push(`n${id}->n${f} ${role} match=${pr.match} next=${pr.next} ${pr.state} ${inSync}`);
        }
        break;
      }
      case 'compact': {
        const id = this.node(pos[0]);
        this.watch(() => this.cluster().deleteBefore(id, BigInt(pos[1] ?? '0')));
        this.out.push(`n${id} log start ${this.cluster().node(id).logStart}`);
        break;
      }
      case 'log': for (const id of this.nodes(pos[0])) this.out.push(`n${id} log=${fmtEntries(this.cluster().node(id).log)}`); break;
      default: throw new Error(`unknown command ${name}`);
    }
    this.cluster().checkLogs();
    return this.out;
  }

  private statusLine(id: NodeId): string {
    const n = this.cluster().node(id);
    const d = n.durableHard;
    const disk = `disk(t${d.term} vote=${d.votedFor < 0 ? '-' : d.votedFor} hw=${d.commitOffset} end=${n.durableEnd})`;
    const start = n.logStart > 0n ? `start=${n.logStart} ` : '';
    if (!n.up) return `n${id} down ${disk} ${start}log=${fmtEntries(n.log)}`;
    const k = n.core;
    return `n${id} ${k.role} t${k.term} vote=${k.votedForId < 0 ? '-' : k.votedForId} lead=${k.leaderId < 0 ? '-' : k.leaderId} end=${k.logEndOffset} hw=${k.highWatermark} ${disk} ${start}log=${fmtEntries(n.log)}`;
  }

  private newCluster(kv: Map<string, string>): void {
    const onOff = (k: string, dflt: boolean): boolean => { const v = kv.get(k); return v === undefined ? dflt : v === 'on'; };
    const num = (k: string, dflt: number): number => Number(kv.get(k) ?? String(dflt));
    this.c = new SimCluster({
      size: num('voters', 3),
      learners: num('learners', 0),
      spares: num('spares', 0),
      seed: num('seed', 1),
      config: {
        preVote: onOff('prevote', true),
        checkQuorum: onOff('checkquorum', true),
        electionTimeoutTicks: num('election', 10),
        maxInflight: num('inflight', 32),
        maxAppendBytes: num('appendbytes', 1 << 20),
        maxPromotionLag: BigInt(num('promotionlag', 0)),
        // a LeaderChange entry with bytes, as the real control batch has
        leaderChangeEntry: (_b, epoch, leader) => ({ data: Buffer.from(`lc${epoch}:${leader}`), recordCount: 1 }),
      },
    });
  }
}

/** Run one script's text; returns the mismatches and the text with actual output (for rewriting). */
export function runScript(text: string): { mismatches: ScriptMismatch[]; rewritten: string } {
  const { blocks, trailing } = parseScript(text);
  const it = new Interpreter();
  const mismatches: ScriptMismatch[] = [];
  const out: string[] = [];
  for (const b of blocks) {
    let actual: string[];
    try {
      actual = it.run(b.command);
    } catch (err) {
      actual = [`error: ${(err as Error).message}`];
    }
    if (actual.join('\n') !== b.expected.join('\n')) mismatches.push({ line: b.line, command: b.command, expected: b.expected, actual });
    out.push(...b.comments, `> ${b.command}`, ...actual);
  }
  out.push(...trailing);
  return { mismatches, rewritten: out.join('\n') + '\n' };
}

export function runScriptFile(path: string, rewrite = process.env.RAFTKA_SCRIPT_REWRITE === '1'): ScriptMismatch[] {
  const text = readFileSync(path, 'utf8');
  const r = runScript(text);
  if (rewrite && r.rewritten !== text) writeFileSync(path, r.rewritten);
  return rewrite ? [] : r.mismatches;
}
