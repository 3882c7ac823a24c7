/** Known-answer tests for primitives, flexible encodings, tagged fields, headers and descriptors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, Writer, BY_REFERENCE_THRESHOLD, ZERO_UUID } from '../../protocol/primitives.js';
import { DecodeError, EncodeError } from '../../protocol/errors.js';
import {
  API_DESCRIPTORS, ApiKey, apiByKey, decodeApiVersionsRequest, encodeApiVersionsRequest, decodeRequestHeader,
  encodeResponseHeader, decodeResponseHeader, encodeFetchRequest, decodeFetchRequest, defaultFetchRequest,
  encodeFetchResponsePartitionData, defaultFetchResponsePartitionData, decodeFetchResponsePartitionData,
  encodeConsumerGroupHeartbeatResponse, decodeConsumerGroupHeartbeatResponse, defaultConsumerGroupHeartbeatResponse,
} from '../../protocol/generated/index.js';
import { METADATA_RECORDS, MetadataRecordType, metadataRecordByType } from '../../protocol/generated/metadata/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const bytesOf = (f: (w: Writer) => void): string => {
  const w = new Writer();
  f(w);
  return w.toBuffer().toString('hex');
};

test('unsigned and zigzag varints match the protobuf / Kafka vectors', () => {
  const u: [number, string][] = [[0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [300, 'ac02'], [16384, '808001'], [0xffffffff, 'ffffffff0f']];
  for (const [v, h] of u) {
    assert.equal(bytesOf((w) => w.uvarint(v)), h);
    assert.equal(new Reader(hex(h)).uvarint(), v);
  }
  const z: [number, string][] = [[0, '00'], [-1, '01'], [1, '02'], [-64, '7f'], [64, '8001'], [2147483647, 'feffffff0f'], [-2147483648, 'ffffffff0f']];
  for (const [v, h] of z) {
    assert.equal(bytesOf((w) => w.varint(v)), h);
    assert.equal(new Reader(hex(h)).varint(), v);
  }
  const l: [bigint, string][] = [[0n, '00'], [-1n, '01'], [1n, '02'], [2n ** 63n - 1n, 'feffffffffffffffff01'], [-(2n ** 63n), 'ffffffffffffffffff01'], [1700000000000n, '80a0abfef962']];
  for (const [v, h] of l) {
    assert.equal(bytesOf((w) => w.varlong(v)), h);
    assert.equal(new Reader(hex(h)).varlong(), v);
  }
});

test('malformed input raises DecodeError only', () => {
  const bad: [string, (r: Reader) => unknown][] = [
    ['', (r) => r.int8()],
    ['0001', (r) => r.int32()],
    ['ffffffffff', (r) => r.uvarint()],                 // 5th byte has continuation
    ['ffffffff1f', (r) => r.uvarint()],                 // overflows 32 bits
    ['ffffffffffffffffff7f', (r) => r.uvarlong()],      // overflows 64 bits
    ['0005616263', (r) => r.string()],                  // length 5, 3 bytes
    ['fffe', (r) => r.nullableString()],                // length -2
    ['ffff', (r) => r.string()],                        // null in a non-nullable field
    ['00', (r) => r.compactString()],                   // compact null in a non-nullable field
    ['7fffffff', (r) => r.bytes()],                     // 2 GiB claimed
    ['fffffffe', (r) => r.nullableBytes()],
    ['7fffffff00', (r) => r.array(false, (x) => x.int8(), 0)], // count > remaining
    ['ffffffff0f', (r) => r.arrayLength(true)],         // compact count 2^32-2
    ['05', (r) => r.skipTaggedFields()],                // 5 tagged fields, no bytes
    ['010005', (r) => r.skipTaggedFields()],            // tag 0 of size 5, no bytes
    ['00', (r) => r.uuid()],
  ];
  for (const [h, read] of bad) {
    assert.throws(() => read(new Reader(hex(h))), DecodeError, `input ${h}`);
  }
  assert.throws(() => new Reader(Buffer.alloc(4), 3, 2), DecodeError);
});

test('strings are UTF-8; classic strings above 32767 bytes and bad uuids are encode errors', () => {
  assert.equal(bytesOf((w) => w.string('é€')), '0005c3a9e282ac');
  assert.equal(bytesOf((w) => w.compactString('é€')), '06c3a9e282ac');
  assert.equal(bytesOf((w) => w.compactNullableString(null)), '00');
  assert.equal(bytesOf((w) => w.nullableString(null)), 'ffff');
  assert.equal(new Reader(hex('0005c3a9e282ac')).string(), 'é€');
  assert.throws(() => new Writer().string('x'.repeat(32768)), EncodeError);
  assert.throws(() => new Writer().uuid('not-a-uuid'), EncodeError);
  const id = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  assert.equal(bytesOf((w) => w.uuid(id)), '0f1e2d3c4b5a69788796a5b4c3d2e1f0');
  assert.equal(new Reader(hex('0f1e2d3c4b5a69788796a5b4c3d2e1f0')).uuid(), id);
  assert.equal(new Reader(Buffer.alloc(16)).uuid(), ZERO_UUID);
});

test('the Writer appends large buffers by reference and small ones by copy', () => {
  const big = Buffer.alloc(BY_REFERENCE_THRESHOLD, 1);
  const small = Buffer.from([9, 9]);
  const w = new Writer();
  w.int32(1);
  w.bytes(big);
  w.bytes(small);
  const chunks = w.toChunks();
  assert.ok(chunks.includes(big), 'large buffer kept by reference');
  assert.ok(!chunks.includes(small));
  assert.equal(w.length, 4 + 4 + big.length + 4 + 2);
  assert.equal(w.toBuffer().length, w.length);
  // a long run of small writes grows the scratch chunk without losing bytes
  const w2 = new Writer(4);
  for (let i = 0; i < 100000; i++) w2.int32(i);
  const b = w2.toBuffer();
  assert.equal(b.length, 400000);
  assert.equal(b.readInt32BE(4 * 77777), 77777);
});

test('decoded bytes are zero-copy views of the input', () => {
  const input = hex('00000003 616263');
  const b = new Reader(input).bytes();
  assert.equal(b.buffer, input.buffer);
  assert.equal(b.byteOffset, input.byteOffset + 4);
});

test('ApiVersions v3 request (flexible, as librdkafka sends it) has the expected bytes', () => {
  const body = bytesOf((w) => encodeApiVersionsRequest(w, 3, { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' }));
  assert.equal(body, '0b' + Buffer.from('librdkafka').toString('hex') + '06' + Buffer.from('2.0.2').toString('hex') + '00');
  assert.deepStrictEqual(decodeApiVersionsRequest(new Reader(hex(body)), 3), { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
  // request header v2: ClientId stays a classic int16 string, then an empty tagged section
  const header = decodeRequestHeader(new Reader(hex('0012 0003 0000002a 0003 616263 00')), 2);
  assert.deepStrictEqual(header, { requestApiKey: 18, requestApiVersion: 3, correlationId: 42, clientId: 'abc' });
  assert.deepStrictEqual(decodeRequestHeader(new Reader(hex('0012 0000 0000002a ffff')), 1).clientId, null);
});

test('tagged fields: written only when non-default, in tag order; unknown tags skipped', () => {
  const m = { ...defaultFetchRequest(), clusterId: 'abc', maxWaitMs: 500 };
  const b = bytesOf((w) => encodeFetchRequest(w, 12, m));
  assert.ok(b.endsWith('01' + '00' + '04' + '04616263'), b); // last: 1 tagged field: tag 0, size 4, compact "abc"
  assert.deepStrictEqual(decodeFetchRequest(new Reader(hex(b)), 12), m);
  const d = bytesOf((w) => encodeFetchRequest(w, 12, defaultFetchRequest()));
  assert.equal(d.length + 12, b.length, 'no tagged fields at defaults');
  // v11 is not flexible: clusterId is not on the wire at all, so it decodes as the default
  assert.equal(decodeFetchRequest(new Reader(hex(bytesOf((w) => encodeFetchRequest(w, 11, m)))), 11).clusterId, null);

  // tagged struct fields: default struct -> absent; changed -> present
  const p = defaultFetchResponsePartitionData();
  const absent = bytesOf((w) => encodeFetchResponsePartitionData(w, 12, p));
  const present = bytesOf((w) => encodeFetchResponsePartitionData(w, 12, { ...p, currentLeader: { leaderId: 3, leaderEpoch: 7, } }));
  assert.ok(present.length > absent.length);
  assert.deepStrictEqual(decodeFetchResponsePartitionData(new Reader(hex(present)), 12).currentLeader, { leaderId: 3, leaderEpoch: 7 });

  // response header v1 with an unknown tag 5 carrying 3 bytes, then a known-less section
  const rh = decodeResponseHeader(new Reader(hex('00000007 01 05 03 aabbcc')), 1);
  assert.deepStrictEqual(rh, { correlationId: 7 });
  assert.equal(bytesOf((w) => encodeResponseHeader(w, 1, { correlationId: 7 })), '0000000700');
  assert.equal(bytesOf((w) => encodeResponseHeader(w, 0, { correlationId: 7 })), '00000007');
});

test('nullable structs are prefixed by int8 -1 (null) or 1', () => {
  const m = defaultConsumerGroupHeartbeatResponse();
  assert.equal(m.assignment, null);
  const nul = bytesOf((w) => encodeConsumerGroupHeartbeatResponse(w, 0, m));
  const withA = { ...m, assignment: { topicPartitions: [] } };
  const set = bytesOf((w) => encodeConsumerGroupHeartbeatResponse(w, 0, withA));
  assert.ok(nul.endsWith('ff00'), nul);      // assignment null, empty tagged section
  assert.ok(set.endsWith('01010000'), set);   // present, empty compact array, struct tags, message tags
  assert.deepStrictEqual(decodeConsumerGroupHeartbeatResponse(new Reader(hex(set)), 0), withA);
});

test('API descriptors: keys, versions and header versions', () => {
  assert.equal(API_DESCRIPTORS.length, 88);
  API_DESCRIPTORS.forEach((d, i) => { if (i > 0) assert.ok(d.apiKey > API_DESCRIPTORS[i - 1]!.apiKey); });
  assert.equal(ApiKey.Produce, 0);
  assert.equal(ApiKey.ApiVersions, 18);
  assert.equal(apiByKey(-1), undefined);
  assert.equal(apiByKey(1000), undefined);
  const produce = apiByKey(ApiKey.Produce)!;
  assert.deepStrictEqual([produce.minVersion, produce.maxVersion, produce.flexibleFrom], [0, 11, 9]);
  assert.deepStrictEqual([produce.requestHeaderVersion(8), produce.requestHeaderVersion(9)], [1, 2]);
  assert.deepStrictEqual([produce.responseHeaderVersion(8), produce.responseHeaderVersion(9)], [0, 1]);
  const av = apiByKey(ApiKey.ApiVersions)!;
  assert.deepStrictEqual([av.requestHeaderVersion(3), av.responseHeaderVersion(3), av.responseHeaderVersion(4)], [2, 0, 0]);
  const cs = apiByKey(ApiKey.ControlledShutdown)!;
  assert.deepStrictEqual([cs.requestHeaderVersion(0), cs.requestHeaderVersion(1), cs.requestHeaderVersion(3)], [0, 1, 2]);
  const endTxn = apiByKey(ApiKey.EndTxn)!;
  assert.deepStrictEqual([endTxn.maxVersion, endTxn.maxValidVersion, endTxn.latestVersionUnstable], [4, 5, true]);
  assert.equal(apiByKey(ApiKey.SaslHandshake)!.flexibleFrom, null);
  assert.ok(apiByKey(ApiKey.Fetch)!.listeners.includes('broker'));
});

test('metadata record descriptors by type', () => {
  assert.equal(MetadataRecordType.TopicRecord, 2);
  assert.equal(metadataRecordByType(3)!.name, 'PartitionRecord');
  assert.equal(METADATA_RECORDS.length, 25);
});

test('encoding null where the version does not allow it is an EncodeError; absent fields are skipped', () => {
  const api = apiByKey(ApiKey.Metadata)!;
  const m = { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };
  assert.throws(() => api.encodeRequest(new Writer(), 0, m), EncodeError); // v0: topics not nullable
  assert.equal(bytesOf((w) => api.encodeRequest(w, 1, m)), 'ffffffff');  // v1: null = all topics; v1 lacks allowAutoTopicCreation
  assert.equal(bytesOf((w) => api.encodeRequest(w, 4, m)), 'ffffffff01');
});
