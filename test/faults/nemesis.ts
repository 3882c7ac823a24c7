import type { Random } from '../../src/util/random.js';
import type { FaultCluster } from './cluster.js';
import type { FaultRecord, SendOp } from './history.js';

export const FAULT_KINDS = [
  'kill',              // SIGKILL one broker (up to a minority: 2 of 5), restart later
  'pause',             // SIGSTOP one broker (up to a minority) longer than an election timeout, then SIGCONT
  'partition-single',  // one broker cut off from all others
  'partition-minority',// a random minority (1 of 3, 2 of 5) cut off from the majority (drop or reset)
  'partition-majority',// the other side: a random majority cut off from the rest, black-holed
  'partition-bridge',  // two halves that only one broker (the bridge) connects
  'partition-oneway',  // one broker can send to nobody, but still hears everyone
  'partition-client',  // the clients cut off from some brokers (a partition leader, or 1 to n-1 brokers); brokers see each other
  'delay',             // every link slowed
  'kill-controller',   // SIGKILL the active controller
  'kill-leader-after-ack', // SIGKILL a partition leader right after it acknowledged a write
  'restart-all',       // SIGKILL every broker at once, then start them all
] as const;
export type FaultKind = typeof FAULT_KINDS[number];

export interface NemesisOptions {
  cluster: FaultCluster;
  random: Random;
  /** The next acknowledged send (from the workload). */
  nextAck: () => Promise<SendOp>;
  topic: string;
  faults: FaultRecord[];
  /** Progress lines (the runner prints them). */
  say: (line: string) => void;
  /** Fault duration range in ms (default 2500 to 6000; pauses always exceed the 2 s election timeout). */
  minFaultMs?: number;
  maxFaultMs?: number;
  /** Quiet time between faults in ms (default 2000 to 4000). */
  minQuietMs?: number;
  maxQuietMs?: number;
  /** Only these kinds (default all). */
  kinds?: readonly FaultKind[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Injects one fault after another, chosen from a seeded random source: the kinds come in
 * shuffled rounds (every kind once per round), so even a short run covers them all. Every fault
 * is healed before the next begins.
 */
export class Nemesis {
  private round: FaultKind[] = [];

  constructor(private readonly o: NemesisOptions) {}

  /** Injects faults until `until` (wall clock ms) or until `maxFaults` were injected. */
  async run(until: number, maxFaults = Number.POSITIVE_INFINITY): Promise<void> {
    for (let n = 0; n < maxFaults && Date.now() < until; n++) {
      const kind = this.nextKind();
      await this.inject(kind);
      await sleep(this.o.random.int(this.o.minQuietMs ?? 2000, this.o.maxQuietMs ?? 4000));
    }
  }

  nextKind(): FaultKind {
    if (this.round.length === 0) {
      const kinds = [...(this.o.kinds ?? FAULT_KINDS)];
      for (let i = kinds.length - 1; i > 0; i--) {
        const j = this.o.random.int(0, i);
        [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
      }
      this.round = kinds;
    }
    return this.round.shift()!;
  }

  async inject(kind: FaultKind): Promise<FaultRecord> {
    const { cluster, random } = this.o;
    const ids = cluster.ids;
    const duration = random.int(this.o.minFaultMs ?? 2500, this.o.maxFaultMs ?? 6000);
    const record: FaultRecord = { kind, detail: '', start: Date.now(), healed: 0 };
    const shuffled = (): number[] => {
      const a = [...ids];
      for (let i = a.length - 1; i > 0; i--) { const j = random.int(0, i); [a[i], a[j]] = [a[j]!, a[i]!]; }
      return a;
    };
    const minority = Math.floor((ids.length - 1) / 2);
    switch (kind) {
      case 'kill': {
        // One broker, or up to a minority of them (2 of 5) at once.
        const victims = shuffled().slice(0, random.int(1, Math.max(1, minority))).map((id) => cluster.broker(id));
        record.detail = `broker${victims.length > 1 ? 's' : ''} ${victims.map((b) => b.nodeId).join(',')} down ${duration} ms`;
        this.begin(record);
        await Promise.all(victims.map((b) => b.kill()));
        await sleep(duration);
        record.healed = Date.now();
        await Promise.all(victims.map((b) => b.start(60_000)));
        break;
      }
      case 'pause': {
        const victims = shuffled().slice(0, random.int(1, Math.max(1, minority))).map((id) => cluster.broker(id));
        const ms = Math.max(duration, 2500);
        record.detail = `broker${victims.length > 1 ? 's' : ''} ${victims.map((b) => b.nodeId).join(',')} stopped ${ms} ms`;
        this.begin(record);
        for (const b of victims) b.pause();
        await sleep(ms);
        record.healed = Date.now();
        for (const b of victims) b.resume();
        break;
      }
      case 'partition-single':
      case 'partition-minority':
      case 'partition-majority': {
        const order = shuffled();
        const size = kind === 'partition-majority' ? ids.length - minority : kind === 'partition-single' ? 1 : Math.max(1, minority);
        const side = order.slice(0, size);
        const rest = order.slice(size);
        const mode = kind === 'partition-majority' ? 'drop' : random.bool() ? 'cut' : 'drop';
        record.detail = `[${side.join(',')}] | [${rest.join(',')}] (${mode}) ${duration} ms`;
        this.begin(record);
        cluster.partition(side, rest, mode);
        await sleep(duration);
        record.healed = Date.now();
        cluster.healNetwork();
        break;
      }
      case 'partition-bridge': {
        const order = shuffled();
        const bridge = order[0]!;
        const others = order.slice(1);
        const left = others.slice(0, Math.ceil(others.length / 2));
        const right = others.slice(Math.ceil(others.length / 2));
        record.detail = `[${left.join(',')}] <-${bridge}-> [${right.join(',')}] ${duration} ms`;
        this.begin(record);
        cluster.partition(left, right, random.bool() ? 'cut' : 'drop');
        await sleep(duration);
        record.healed = Date.now();
        cluster.healNetwork();
        break;
      }
      case 'partition-oneway': {
        const b = random.pick(ids);
        record.detail = `broker ${b} cannot send to anyone, hears everyone, ${duration} ms`;
        this.begin(record);
        for (const other of ids) if (other !== b) cluster.setOneWay(b, other, 'drop');
        await sleep(duration);
        record.healed = Date.now();
        cluster.healNetwork();
        break;
      }
      case 'partition-client': {
        // Half the time the leader of one of the workload's partitions (clients cut from a leader
        // that still has its quorum), else a random 1 to n-1 brokers.
        let side: number[];
        let what = '';
        if (random.bool()) {
          const md = await cluster.metadata([this.o.topic]);
          const leaders = (md?.topics[0]?.partitions ?? []).filter((p) => p.leaderId > 0);
          const p = leaders.length > 0 ? random.pick(leaders) : undefined;
          side = p !== undefined ? [p.leaderId] : [random.pick(ids)];
          what = p !== undefined ? ` (leader of ${this.o.topic}-${p.partitionIndex})` : ' (no leader known: a random broker)';
        } else {
          side = shuffled().slice(0, random.int(1, ids.length - 1)).sort((a, b) => a - b);
        }
        const mode = random.bool() ? 'cut' : 'drop';
        record.detail = `clients | [${side.join(',')}]${what} (${mode}) ${duration} ms`;
        this.begin(record);
        cluster.partitionClients(side, mode);
        await sleep(duration);
        record.healed = Date.now();
        cluster.healNetwork();
        break;
      }
      case 'delay': {
        const ms = random.int(20, 250);
        record.detail = `every link +${ms} ms each way for ${duration} ms`;
        this.begin(record);
        cluster.delayAll(ms);
        await sleep(duration);
        record.healed = Date.now();
        cluster.healNetwork();
        break;
      }
      case 'kill-controller': {
        const md = await cluster.metadata([]);
        const id = md !== null && md.controllerId > 0 ? md.controllerId : random.pick(ids);
        const b = cluster.broker(id);
        record.detail = `active controller ${id}${md === null || md.controllerId <= 0 ? ' (unknown: a random broker)' : ''} down ${duration} ms`;
        this.begin(record);
        await b.kill();
        await sleep(duration);
        record.healed = Date.now();
        await b.start(60_000);
        break;
      }
      case 'kill-leader-after-ack': {
        const md = await cluster.metadata([this.o.topic]);
        const leaders = new Map<number, number>();
        for (const p of md?.topics[0]?.partitions ?? []) if (p.leaderId > 0) leaders.set(p.partitionIndex, p.leaderId);
        const ack = await Promise.race([this.o.nextAck(), sleep(5000).then(() => null)]);
        const leader = ack === null ? undefined : leaders.get(ack.partition);
        const id = leader ?? random.pick(ids);
        const b = cluster.broker(id);
        await b.kill();
        record.start = Date.now();
        record.detail = ack === null ? `no ack within 5 s: broker ${id} killed anyway`
          : `leader ${id} of ${ack.topic}-${ack.partition} killed right after acking offset ${ack.baseOffset}${leader === undefined ? ' (leader unknown: a random broker)' : ''}, down ${duration} ms`;
        this.begin(record);
        await sleep(duration);
        record.healed = Date.now();
        await b.start(60_000);
        break;
      }
      case 'restart-all': {
        record.detail = `every broker killed, down ${Math.min(duration, 2000)} ms`;
        this.begin(record);
        await Promise.all(ids.map((id) => cluster.broker(id).kill()));
        await sleep(Math.min(duration, 2000));
        record.healed = Date.now();
        await Promise.all(ids.map((id) => cluster.broker(id).start(60_000)));
        break;
      }
    }
    this.o.say(`  healed after ${record.healed - record.start} ms`);
    return record;
  }

  private begin(record: FaultRecord): void {
    this.o.faults.push(record);
    this.o.say(`fault ${this.o.faults.length}: ${record.kind}: ${record.detail}${this.o.cluster.networkState() !== '' ? ` [net: ${this.o.cluster.networkState()}]` : ''}`);
  }
}
