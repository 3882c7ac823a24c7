import { ErrorCode } from '../kafka/errors.js';

/** Kafka's TRANSACTIONAL_ID_NOT_FOUND (DescribeTransactions). */
export const TRANSACTIONAL_ID_NOT_FOUND = 105;

/**
 * PRODUCER_FENCED (KIP-588) as a client of `version` understands it: versions before
 * `firstVersion` get INVALID_PRODUCER_EPOCH, as Kafka answers them.
 */
export function producerFencedFor(errorCode: number, version: number, firstVersion: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && version < firstVersion ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}
