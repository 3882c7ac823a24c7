/**
 * Errors of the protocol layer.
 *
 * DecodeError is the ONLY exception a decoder may throw, whatever bytes it is given: the server
 * turns it into Kafka's answer for a corrupt request (close the connection or CORRUPT_MESSAGE).
 * EncodeError is thrown by encoders for values the wire cannot carry (a null in a version where
 * the field is not nullable, a classic string longer than 32767 bytes, a malformed uuid). It is
 * a bug in the caller, never caused by a peer.
 */
export class DecodeError extends Error {
  readonly code = 'DECODE_ERROR';
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export class EncodeError extends Error {
  readonly code = 'ENCODE_ERROR';
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}
