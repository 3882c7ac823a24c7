/**
 * Typed errors for record-batch decoding. Decoders in this folder throw nothing but
 * `RecordsError` on untrusted input; `errorName` is the Kafka error a broker answers with.
 */

/** Kafka error names (and their wire codes) that record decoding can produce. */
export const RECORDS_ERROR_CODES = {
  CORRUPT_MESSAGE: 2,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_VERSION: 35,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

export type RecordsErrorName = keyof typeof RECORDS_ERROR_CODES;

export class RecordsError extends Error {
  override readonly name = 'RecordsError';
  /** Kafka's numeric error code for `errorName`. */
  readonly errorCode: number;

  constructor(readonly errorName: RecordsErrorName, message: string) {
    super(`${errorName}: ${message}`);
    this.errorCode = RECORDS_ERROR_CODES[errorName];
  }
}

export function isRecordsError(e: unknown): e is RecordsError {
  return e instanceof RecordsError;
}
