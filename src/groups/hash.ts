/** Java's String.hashCode over UTF-16 code units (s[0]*31^(n-1) + ... + s[n-1], int32 overflow). */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The `__consumer_offsets` partition of a group, as Kafka's GroupMetadataManager.partitionFor:
 * Utils.abs(groupId.hashCode) % partitions, where Utils.abs(Integer.MIN_VALUE) is 0.
 */
export function offsetsPartitionFor(groupId: string, numPartitions: number): number {
  const h = javaStringHashCode(groupId);
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % numPartitions;
}
