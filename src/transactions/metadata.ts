/**
 * One transactional id's state at its coordinator, with Kafka's state machine
 * (TransactionMetadata): every change is first prepared as a `TxnTransit` (the pending state
 * blocks any other change meanwhile), written to `__transaction_state`, and applied with
 * `completeTransition` only once the write is committed.
 */

/** Kafka's TransactionState ids (as stored in TransactionLogValue.transactionStatus) and names. */
export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnState = typeof TxnState[keyof typeof TxnState];

const NAMES: readonly string[] = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence'];

export function txnStateName(s: TxnState): string { return NAMES[s]!; }
export function txnStateFromName(name: string): TxnState | undefined {
  const i = NAMES.indexOf(name);
  return i < 0 ? undefined : i as TxnState;
}
export function txnStateFromId(id: number): TxnState {
  if (!Number.isInteger(id) || id < 0 || id >= NAMES.length) throw new Error(`unknown transaction state id ${id}`);
  return id as TxnState;
}

/** The states a transition to each state may start from (Kafka's validPreviousStates). */
const VALID_PREVIOUS: Readonly<Record<TxnState, readonly TxnState[]>> = {
  [TxnState.Empty]: [TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.Ongoing]: [TxnState.Ongoing, TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.PrepareCommit]: [TxnState.Ongoing],
  [TxnState.PrepareAbort]: [TxnState.Ongoing, TxnState.PrepareEpochFence],
  [TxnState.CompleteCommit]: [TxnState.PrepareCommit],
  [TxnState.CompleteAbort]: [TxnState.PrepareAbort],
  [TxnState.Dead]: [TxnState.Empty, TxnState.CompleteAbort, TxnState.CompleteCommit],
  [TxnState.PrepareEpochFence]: [TxnState.Ongoing],
};

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
const SHORT_MAX = 32767;

/** An epoch this high cannot be handed out: one more bump must stay possible to fence it (Kafka). */
export function isEpochExhausted(epoch: number): boolean { return epoch >= SHORT_MAX - 1; }

/** A partition of a transaction, `${topic}\u0000${partition}` keyed in sets. */
export interface TopicPartition { readonly topic: string; readonly partition: number }

export function tpKey(tp: TopicPartition): string { return `${tp.topic}\u0000${tp.partition}`; }

/** The target of a prepared transition (Kafka's TxnTransitMetadata). */
export interface TxnTransit {
  readonly producerId: bigint;
  readonly lastProducerId: bigint;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly state: TxnState;
  readonly partitions: readonly TopicPartition[];
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
}

export class IllegalTxnTransition extends Error {
  constructor(message: string) { super(message); this.name = 'IllegalTxnTransition'; }
}

export class TransactionMetadata {
  /** The state a prepared transition goes to; set until it is completed or abandoned. */
  pendingState: TxnState | undefined = undefined;
  /** An epoch fence's write failed: the bumped epoch may not be durable, so the next fence does not bump again. */
  hasFailedEpochFence = false;
  readonly partitions = new Map<string, TopicPartition>();

  constructor(
    readonly transactionalId: string,
    public producerId: bigint,
    public lastProducerId: bigint,
    public producerEpoch: number,
    public lastProducerEpoch: number,
    public txnTimeoutMs: number,
    public state: TxnState,
    public txnStartTimestamp: number,
    public txnLastUpdateTimestamp: number,
    partitions: readonly TopicPartition[] = [],
  ) {
    for (const tp of partitions) this.partitions.set(tpKey(tp), tp);
  }

  get pendingTransitionInProgress(): boolean { return this.pendingState !== undefined; }
  get isProducerEpochExhausted(): boolean { return isEpochExhausted(this.producerEpoch); }
  /** A transaction of this id is in flight (Ongoing or being completed). */
  get hasPendingTransaction(): boolean {
    return this.state === TxnState.Ongoing || this.state === TxnState.PrepareAbort || this.state === TxnState.PrepareCommit;
  }

  partitionList(): TopicPartition[] { return [...this.partitions.values()]; }

  /** Ongoing → PrepareEpochFence with the epoch bumped (once: not again after a failed fence). */
  prepareFenceProducerEpoch(): TxnTransit {
    if (this.producerEpoch === SHORT_MAX) throw new IllegalTxnTransition('cannot fence a producer at epoch Short.MAX_VALUE');
    const bumped = this.hasFailedEpochFence ? this.producerEpoch : this.producerEpoch + 1;
    return this.prepareTransitionTo(TxnState.PrepareEpochFence, this.producerId, bumped, NO_PRODUCER_EPOCH, this.txnTimeoutMs,
      this.partitionList(), this.txnStartTimestamp, this.txnLastUpdateTimestamp);
  }

  /**
   * InitProducerId on an idle id: the epoch bumped (KIP-360: a producer that names its current
   * epoch bumps it and keeps the last one; one that names the last epoch is retrying and gets the
   * current one again; any other epoch is fenced). 'fenced' means PRODUCER_FENCED.
   */
  prepareIncrementProducerEpoch(newTxnTimeoutMs: number, expectedEpoch: number | undefined, now: number): TxnTransit | 'fenced' {
    if (this.isProducerEpochExhausted) throw new IllegalTxnTransition(`no producer epochs left for producer id ${this.producerId}`);
    const bumped = this.producerEpoch + 1;
    let next: [number, number];
    if (expectedEpoch === undefined) next = [bumped, NO_PRODUCER_EPOCH];
    else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedEpoch === this.producerEpoch) next = [bumped, this.producerEpoch];
    else if (expectedEpoch === this.lastProducerEpoch) next = [this.producerEpoch, this.lastProducerEpoch];
    else return 'fenced';
    return this.prepareTransitionTo(TxnState.Empty, this.producerId, next[0], next[1], newTxnTimeoutMs, [], -1, now);
  }

  /** InitProducerId when the epoch is exhausted: a new producer id at epoch 0. */
  prepareProducerIdRotation(newProducerId: bigint, newTxnTimeoutMs: number, now: number, recordLastEpoch: boolean): TxnTransit {
    if (this.hasPendingTransaction) throw new IllegalTxnTransition('cannot rotate the producer id while a transaction is in flight');
    return this.prepareTransitionTo(TxnState.Empty, newProducerId, 0, recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      newTxnTimeoutMs, [], -1, now);
  }

  prepareAddPartitions(added: readonly TopicPartition[], now: number): TxnTransit {
    const starts = this.state === TxnState.Empty || this.state === TxnState.CompleteAbort || this.state === TxnState.CompleteCommit;
    const all = new Map(this.partitions);
    for (const tp of added) all.set(tpKey(tp), tp);
    return this.prepareTransitionTo(TxnState.Ongoing, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs,
      [...all.values()], starts ? now : this.txnStartTimestamp, now);
  }

  prepareAbortOrCommit(state: typeof TxnState.PrepareCommit | typeof TxnState.PrepareAbort, now: number): TxnTransit {
    return this.prepareTransitionTo(state, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs,
      this.partitionList(), this.txnStartTimestamp, now);
  }

  prepareComplete(now: number): TxnTransit {
    const state = this.state === TxnState.PrepareCommit ? TxnState.CompleteCommit : TxnState.CompleteAbort;
    this.hasFailedEpochFence = false;
    return this.prepareTransitionTo(state, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs,
      [], this.txnStartTimestamp, now);
  }

  prepareDead(): TxnTransit {
    return this.prepareTransitionTo(TxnState.Dead, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs,
      [], this.txnStartTimestamp, this.txnLastUpdateTimestamp);
  }

  private prepareTransitionTo(state: TxnState, producerId: bigint, epoch: number, lastEpoch: number, txnTimeoutMs: number,
    partitions: readonly TopicPartition[], txnStartTimestamp: number, now: number): TxnTransit {
    if (this.pendingState !== undefined) {
      throw new IllegalTxnTransition(`${this.transactionalId}: transition to ${txnStateName(state)} while ${txnStateName(this.pendingState)} is pending`);
    }
    if (producerId < 0n) throw new IllegalTxnTransition(`illegal producer id ${producerId}`);
    if (state !== TxnState.Dead && epoch < 0) throw new IllegalTxnTransition(`illegal producer epoch ${epoch}`);
    if (!VALID_PREVIOUS[state].includes(this.state)) {
      throw new IllegalTxnTransition(`${this.transactionalId}: ${txnStateName(this.state)} cannot go to ${txnStateName(state)}`);
    }
    this.pendingState = state;
    return {
      producerId, lastProducerId: this.producerId, producerEpoch: epoch, lastProducerEpoch: lastEpoch, txnTimeoutMs, state,
      partitions, txnStartTimestamp, txnLastUpdateTimestamp: now,
    };
  }

  /** Applies a prepared transition once its record is committed (checks it as Kafka's completeTransitionTo). */
  completeTransition(t: TxnTransit): void {
    const to = this.pendingState;
    if (to === undefined || to !== t.state) throw new IllegalTxnTransition(`${this.transactionalId}: completing ${txnStateName(t.state)} without it pending`);
    const sameProducer = t.producerEpoch === this.producerEpoch && t.producerId === this.producerId;
    const bump = t.producerEpoch === this.producerEpoch + 1 || (t.producerEpoch === 0 && t.producerId !== this.producerId);
    switch (to) {
      case TxnState.Empty:
        if ((this.producerEpoch !== t.producerEpoch && !bump) || t.partitions.length > 0 || t.txnStartTimestamp !== -1) this.fail(t);
        this.txnTimeoutMs = t.txnTimeoutMs;
        this.producerEpoch = t.producerEpoch;
        this.lastProducerEpoch = t.lastProducerEpoch;
        this.producerId = t.producerId;
        this.lastProducerId = t.lastProducerId;
        break;
      case TxnState.Ongoing:
        if (!sameProducer || this.txnTimeoutMs !== t.txnTimeoutMs) this.fail(t);
        this.txnStartTimestamp = t.txnStartTimestamp;
        for (const tp of t.partitions) this.partitions.set(tpKey(tp), tp);
        break;
      case TxnState.PrepareAbort:
      case TxnState.PrepareCommit:
        if (!sameProducer || this.txnTimeoutMs !== t.txnTimeoutMs || this.txnStartTimestamp !== t.txnStartTimestamp || t.partitions.length !== this.partitions.size) this.fail(t);
        break;
      case TxnState.CompleteAbort:
      case TxnState.CompleteCommit:
        if (!sameProducer || this.txnTimeoutMs !== t.txnTimeoutMs) this.fail(t);
        this.txnStartTimestamp = t.txnStartTimestamp;
        this.partitions.clear();
        break;
      case TxnState.PrepareEpochFence:
      case TxnState.Dead:
        this.fail(t);
    }
    this.txnLastUpdateTimestamp = t.txnLastUpdateTimestamp;
    this.pendingState = undefined;
    this.state = to;
  }

  private fail(t: TxnTransit): never {
    throw new IllegalTxnTransition(`${this.transactionalId}: illegal transition from ${txnStateName(this.state)} (producer ${this.producerId}/${this.producerEpoch}) to ${txnStateName(t.state)} (producer ${t.producerId}/${t.producerEpoch})`);
  }
}
