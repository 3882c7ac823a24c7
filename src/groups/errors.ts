/** Group error codes that src/kafka/errors.ts does not list (org.apache.kafka.common.protocol.Errors). */
export const GroupErrorCode = {
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
} as const;
