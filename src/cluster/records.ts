import { Reader, Writer } from '../../protocol/primitives.js';
import { DecodeError } from '../../protocol/errors.js';
import { decodeTopicRecord, encodeTopicRecord, type TopicRecord } from '../../protocol/generated/metadata/topic-record.js';
import { decodePartitionRecord, encodePartitionRecord, type PartitionRecord } from '../../protocol/generated/metadata/partition-record.js';
import { decodeRegisterBrokerRecord, encodeRegisterBrokerRecord, type RegisterBrokerRecord } from '../../protocol/generated/metadata/register-broker-record.js';
import { decodeConfigRecord, encodeConfigRecord, type ConfigRecord } from '../../protocol/generated/metadata/config-record.js';
import { decodeRemoveTopicRecord, encodeRemoveTopicRecord, type RemoveTopicRecord } from '../../protocol/generated/metadata/remove-topic-record.js';
import { decodeProducerIdsRecord, encodeProducerIdsRecord, type ProducerIdsRecord } from '../../protocol/generated/metadata/producer-ids-record.js';
import { decodeBrokerRegistrationChangeRecord, encodeBrokerRegistrationChangeRecord, type BrokerRegistrationChangeRecord } from '../../protocol/generated/metadata/broker-registration-change-record.js';
import { decodeFenceBrokerRecord, encodeFenceBrokerRecord, type FenceBrokerRecord } from '../../protocol/generated/metadata/fence-broker-record.js';
import { decodeUnfenceBrokerRecord, encodeUnfenceBrokerRecord, type UnfenceBrokerRecord } from '../../protocol/generated/metadata/unfence-broker-record.js';
import { decodeUserScramCredentialRecord, encodeUserScramCredentialRecord, type UserScramCredentialRecord } from '../../protocol/generated/metadata/user-scram-credential-record.js';
import { decodeRemoveUserScramCredentialRecord, encodeRemoveUserScramCredentialRecord, type RemoveUserScramCredentialRecord } from '../../protocol/generated/metadata/remove-user-scram-credential-record.js';
import { decodeAccessControlEntryRecord, encodeAccessControlEntryRecord, type AccessControlEntryRecord } from '../../protocol/generated/metadata/access-control-entry-record.js';
import { decodeRemoveAccessControlEntryRecord, encodeRemoveAccessControlEntryRecord, type RemoveAccessControlEntryRecord } from '../../protocol/generated/metadata/remove-access-control-entry-record.js';

/**
 * The controller's metadata log uses KRaft's record vocabulary. Each record value is framed as
 * KRaft frames it: unsigned varint frame version (1), unsigned varint record type (the schema's
 * apiKey), unsigned varint record version, then the record in flexible encoding.
 */
export type MetadataRecord =
  | { readonly type: 'RegisterBroker'; readonly data: RegisterBrokerRecord }
  | { readonly type: 'Topic'; readonly data: TopicRecord }
  | { readonly type: 'Partition'; readonly data: PartitionRecord }
  | { readonly type: 'Config'; readonly data: ConfigRecord }
  | { readonly type: 'RemoveTopic'; readonly data: RemoveTopicRecord }
  | { readonly type: 'FenceBroker'; readonly data: FenceBrokerRecord }
  | { readonly type: 'UnfenceBroker'; readonly data: UnfenceBrokerRecord }
  | { readonly type: 'ProducerIds'; readonly data: ProducerIdsRecord }
  | { readonly type: 'BrokerRegistrationChange'; readonly data: BrokerRegistrationChangeRecord }
  | { readonly type: 'UserScramCredential'; readonly data: UserScramCredentialRecord }
  | { readonly type: 'RemoveUserScramCredential'; readonly data: RemoveUserScramCredentialRecord }
  | { readonly type: 'AccessControlEntry'; readonly data: AccessControlEntryRecord }
  | { readonly type: 'RemoveAccessControlEntry'; readonly data: RemoveAccessControlEntryRecord };

const FRAME_VERSION = 1;
const RecordType = { RegisterBroker: 0, Topic: 2, Partition: 3, Config: 4, FenceBroker: 7, UnfenceBroker: 8, RemoveTopic: 9, ProducerIds: 15, BrokerRegistrationChange: 17, UserScramCredential: 11, RemoveUserScramCredential: 22, AccessControlEntry: 18, RemoveAccessControlEntry: 19 } as const;
/** Versions raftka writes. */
const Version = { RegisterBroker: 1, Topic: 0, Partition: 0, Config: 0, FenceBroker: 0, UnfenceBroker: 0, RemoveTopic: 0, ProducerIds: 0, BrokerRegistrationChange: 1, UserScramCredential: 0, RemoveUserScramCredential: 0, AccessControlEntry: 0, RemoveAccessControlEntry: 0 } as const;

export function encodeMetadataRecord(record: MetadataRecord): Buffer {
  const w = new Writer();
  w.uvarint(FRAME_VERSION);
  w.uvarint(RecordType[record.type]);
  w.uvarint(Version[record.type]);
  switch (record.type) {
    case 'RegisterBroker': encodeRegisterBrokerRecord(w, Version.RegisterBroker, record.data); break;
    case 'Topic': encodeTopicRecord(w, Version.Topic, record.data); break;
    case 'Partition': encodePartitionRecord(w, Version.Partition, record.data); break;
    case 'Config': encodeConfigRecord(w, Version.Config, record.data); break;
    case 'RemoveTopic': encodeRemoveTopicRecord(w, Version.RemoveTopic, record.data); break;
    case 'FenceBroker': encodeFenceBrokerRecord(w, Version.FenceBroker, record.data); break;
    case 'UnfenceBroker': encodeUnfenceBrokerRecord(w, Version.UnfenceBroker, record.data); break;
    case 'ProducerIds': encodeProducerIdsRecord(w, Version.ProducerIds, record.data); break;
    case 'BrokerRegistrationChange': encodeBrokerRegistrationChangeRecord(w, Version.BrokerRegistrationChange, record.data); break;
    case 'UserScramCredential': encodeUserScramCredentialRecord(w, Version.UserScramCredential, record.data); break;
    case 'RemoveUserScramCredential': encodeRemoveUserScramCredentialRecord(w, Version.RemoveUserScramCredential, record.data); break;
    case 'AccessControlEntry': encodeAccessControlEntryRecord(w, Version.AccessControlEntry, record.data); break;
    case 'RemoveAccessControlEntry': encodeRemoveAccessControlEntryRecord(w, Version.RemoveAccessControlEntry, record.data); break;
  }
  return w.toBuffer();
}

/** Decodes one record value; records of types raftka does not use come back as null (skipped). */
export function decodeMetadataRecord(value: Buffer): MetadataRecord | null {
  const r = new Reader(value);
  const frame = r.uvarint();
  if (frame !== FRAME_VERSION) throw new DecodeError(`unknown metadata record frame version ${frame}`);
  const type = r.uvarint();
  const version = r.uvarint();
  switch (type) {
    case RecordType.RegisterBroker: return { type: 'RegisterBroker', data: decodeRegisterBrokerRecord(r, version) };
    case RecordType.Topic: return { type: 'Topic', data: decodeTopicRecord(r, version) };
    case RecordType.Partition: return { type: 'Partition', data: decodePartitionRecord(r, version) };
    case RecordType.Config: return { type: 'Config', data: decodeConfigRecord(r, version) };
    case RecordType.RemoveTopic: return { type: 'RemoveTopic', data: decodeRemoveTopicRecord(r, version) };
    case RecordType.FenceBroker: return { type: 'FenceBroker', data: decodeFenceBrokerRecord(r, version) };
    case RecordType.UnfenceBroker: return { type: 'UnfenceBroker', data: decodeUnfenceBrokerRecord(r, version) };
    case RecordType.ProducerIds: return { type: 'ProducerIds', data: decodeProducerIdsRecord(r, version) };
    case RecordType.BrokerRegistrationChange: return { type: 'BrokerRegistrationChange', data: decodeBrokerRegistrationChangeRecord(r, version) };
    case RecordType.UserScramCredential: return { type: 'UserScramCredential', data: decodeUserScramCredentialRecord(r, version) };
    case RecordType.RemoveUserScramCredential: return { type: 'RemoveUserScramCredential', data: decodeRemoveUserScramCredentialRecord(r, version) };
    case RecordType.AccessControlEntry: return { type: 'AccessControlEntry', data: decodeAccessControlEntryRecord(r, version) };
    case RecordType.RemoveAccessControlEntry: return { type: 'RemoveAccessControlEntry', data: decodeRemoveAccessControlEntryRecord(r, version) };
    default: return null;
  }
}
