import { MetadataImage } from './image.js';
import type { MetadataRecord } from './records.js';

/** The only way the image changes: applying one committed metadata record at `offset`. */
export function applyMetadataRecord(image: MetadataImage, record: MetadataRecord, offset: bigint): MetadataImage {
  switch (record.type) {
    case 'RegisterBroker': {
      const d = record.data;
      const endpoint = d.endPoints[0];
      return image.withBroker({
        nodeId: d.brokerId, host: endpoint?.host ?? '', port: endpoint?.port ?? 0,
        endpoints: d.endPoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol })),
        rack: d.rack, fenced: d.fenced, inControlledShutdown: d.inControlledShutdown, epoch: d.brokerEpoch, incarnationId: d.incarnationId,
      }, offset);
    }
    case 'Topic':
      return image.withTopic({ name: record.data.name, topicId: record.data.topicId, partitions: [], configs: new Map() }, offset);
    case 'Partition': {
      const d = record.data;
      const topic = image.topicById(d.topicId);
      if (topic === undefined) throw new Error(`PartitionRecord for unknown topic id ${d.topicId} at offset ${offset}`);
      return image.withPartition({
        topic: topic.name, partition: d.partitionId, replicas: d.replicas, isr: d.isr,
        leader: d.leader, leaderEpoch: d.leaderEpoch, partitionEpoch: d.partitionEpoch,
        ...(d.addingReplicas.length > 0 || d.removingReplicas.length > 0 ? { addingReplicas: d.addingReplicas, removingReplicas: d.removingReplicas } : {}),
      }, offset);
    }
    case 'Config': {
      const d = record.data;
      const TOPIC_RESOURCE = 2;
      const BROKER_RESOURCE = 4;
      if (d.resourceType === BROKER_RESOURCE) {
        const configs = new Map(image.brokerConfigs.get(d.resourceName));
        if (d.value === null) configs.delete(d.name); else configs.set(d.name, d.value);
        return image.withBrokerConfigs(d.resourceName, configs, offset);
      }
      const topic = d.resourceType === TOPIC_RESOURCE ? image.topics.get(d.resourceName) : undefined;
      if (topic === undefined) return image;
      const configs = new Map(topic.configs);
      if (d.value === null) configs.delete(d.name); else configs.set(d.name, d.value);
      return image.withTopic({ ...topic, configs }, offset);
    }
    case 'FenceBroker':
    case 'UnfenceBroker': {
      const b = image.brokers.get(record.data.id);
      if (b === undefined) return image;
      // Fencing also takes the broker out of every ISR (as KRaft's FenceBrokerRecord does).
      const fenced = record.type === 'FenceBroker';
      let next = image.withBroker({ ...b, fenced }, offset);
      if (fenced) {
        for (const t of image.topics.values()) for (const p of t.partitions) {
          if (!p.isr.includes(b.nodeId) && p.leader !== b.nodeId) continue;
          next = next.withPartition({
            ...p, isr: p.isr.filter((r) => r !== b.nodeId), leader: p.leader === b.nodeId ? -1 : p.leader,
          }, offset);
        }
      }
      return next;
    }
    case 'BrokerRegistrationChange': {
      // KRaft's BrokerRegistrationChangeRecord: int8 fields, 1 = set, -1 = clear, 0 = unchanged.
      const d = record.data;
      const b = image.brokers.get(d.brokerId);
      if (b === undefined) return image;
      const flag = (v: number, current: boolean): boolean => (v === 1 ? true : v === -1 ? false : current);
      return image.withBroker({ ...b, inControlledShutdown: flag(d.inControlledShutdown, b.inControlledShutdown) }, offset);
    }
    case 'ProducerIds':
      return image.withNextProducerId(record.data.nextProducerId, offset);
    case 'UserScramCredential': {
      const d = record.data;
      const users = new Map(image.scram.users);
      const mechanisms = new Map(users.get(d.name) ?? []);
      mechanisms.set(d.mechanism, { salt: d.salt, storedKey: d.storedKey, serverKey: d.serverKey, iterations: d.iterations });
      users.set(d.name, mechanisms);
      return image.withScram({ users, everWritten: true }, offset);
    }
    case 'RemoveUserScramCredential': {
      const d = record.data;
      const users = new Map(image.scram.users);
      const mechanisms = new Map(users.get(d.name) ?? []);
      mechanisms.delete(d.mechanism);
      if (mechanisms.size === 0) users.delete(d.name); else users.set(d.name, mechanisms);
      return image.withScram({ users, everWritten: true }, offset);
    }
    case 'AccessControlEntry':
      return image.withAcls(image.acls.withAcl(record.data), offset);
    case 'RemoveAccessControlEntry':
      return image.withAcls(image.acls.withoutAcl(record.data.id), offset);
    case 'RemoveTopic': {
      const topic = image.topicById(record.data.topicId);
      return topic === undefined ? image : image.withoutTopic(topic.name, offset);
    }
  }
}
