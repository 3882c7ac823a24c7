// `npm run bench:protocol`: a benchmark, not a test (the test runner skips bench/).
//
// 1. Produce path: decode a Produce v9 request (header v2 + body) carrying one 1 MiB record
//    batch and check it as the broker does (split, header, CRC32C; no record is decoded).
// 2. Fetch path: encode a Fetch v16 response (header v1 + body) carrying 1 MiB of stored
//    batches; the records are appended by reference (Writer.toChunks, for socket.writev), and
//    also flattened once (toBuffer) for comparison.
// Each is reported in MB/s and as a ratio to a plain Buffer.copy of the same 1 MiB in the same
// run, median of 5 runs. Then a codec table: compress/decompress MB/s per codec through
// protocol/records/compression.ts (Kafka framings included), CRC32C GB/s per implementation.
import { performance } from 'node:perf_hooks';
import { Reader, Writer } from '../../protocol/primitives.js';
import { decodeRequestHeader, encodeRequestHeader } from '../../protocol/generated/request-header.js';
import { encodeResponseHeader } from '../../protocol/generated/response-header.js';
import { decodeProduceRequest, encodeProduceRequest } from '../../protocol/generated/produce.js';
import {
  defaultFetchResponse, defaultFetchResponseFetchableTopicResponse, defaultFetchResponsePartitionData, encodeFetchResponse,
} from '../../protocol/generated/fetch.js';
import {
  COMPRESSION_NAMES, CompressionType, buildRecordBatch, checkProduceRecords, compress, crc32c, crc32cJs, decompress,
  iterateRecords, readBatchHeader, type RecordInput,
} from '../../protocol/records/index.js';
import { Random } from '../../src/util/random.js';

const MiB = 1024 * 1024;
const RUNS = 5;
const RUN_MS = Number(process.env['BENCH_RUN_MS'] ?? 200);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Bytes per second of `fn` processing `bytes` per call: median of RUNS timed runs. */
function rate(bytes: number, fn: () => void): number {
  for (let i = 0; i < 5; i++) fn();
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const t0 = performance.now();
    let elapsed: number;
    do {
      fn();
      n++;
      elapsed = performance.now() - t0;
    } while (elapsed < RUN_MS);
    rates.push((bytes * n) / (elapsed / 1000));
  }
  return median(rates);
}

const mbs = (r: number): string => `${(r / 1e6).toFixed(0)} MB/s`;

function recordsOfAbout(total: number, rnd: Random): RecordInput[] {
  const out: RecordInput[] = [];
  let size = 0;
  for (let i = 0; size < total - 2048; i++) {
    const parts: string[] = [];
    for (let len = 0; len < 900;) {
      const s = `{"id":${i},"user":"u${rnd.int(0, 999)}","amount":${rnd.int(0, 1e6)},"tag":"${rnd.pick(['eu', 'us', 'ap'])}"}`;
      parts.push(s);
      len += s.length;
    }
    const value = Buffer.from(parts.join(','));
    out.push({ key: Buffer.from(`key-${i}`), value, timestamp: 1_700_000_000_000n + BigInt(i) });
    size += value.length + 20;
  }
  return out;
}

function produceRequestFrame(batch: Buffer): Buffer {
  const w = new Writer(4096);
  encodeRequestHeader(w, 2, { requestApiKey: 0, requestApiVersion: 9, correlationId: 7, clientId: 'bench' });
  encodeProduceRequest(w, 9, {
    transactionalId: null, acks: -1, timeoutMs: 30000,
    topicData: [{ name: 'bench', partitionData: [{ index: 0, records: batch }] }],
  } as Parameters<typeof encodeProduceRequest>[2]);
  return Buffer.from(w.toBuffer()); // one contiguous buffer, like a frame read from a socket
}

function main(): void {
  const rnd = new Random(20_240_601);
  const records = recordsOfAbout(MiB, rnd);
  const batch = buildRecordBatch({ records, producerId: 1000n, producerEpoch: 0, baseSequence: 0 });
  const frame = produceRequestFrame(batch);
  const copyTarget = Buffer.allocUnsafe(batch.length);

  const copy = rate(batch.length, () => { batch.copy(copyTarget); });

  let sink = 0;
  const produce = rate(batch.length, () => {
    const r = new Reader(frame);
    decodeRequestHeader(r, 2);
    const req = decodeProduceRequest(r, 9);
    const recs = req.topicData[0]!.partitionData[0]!.records!;
    const span = checkProduceRecords(recs, 9);
    sink += readBatchHeader(recs, span.offset).recordsCount;
  });

  // Consumer side, for reference: decode every record of the 1 MiB batch (lazy views).
  const iterate = rate(batch.length, () => {
    for (const r of iterateRecords(batch)) sink += r.offsetDelta;
  });
  const lz4Batch = buildRecordBatch({ records, compression: CompressionType.LZ4 });
  const iterateLz4 = rate(batch.length, () => {
    for (const r of iterateRecords(lz4Batch, 0, { maxDecompressedBytes: 4 * MiB })) sink += r.offsetDelta;
  });

  // 1 MiB of stored batches: 16 batches of about 64 KiB, as read from a segment in one piece.
  const stored = Buffer.concat(Array.from({ length: 16 }, (_, i) =>
    buildRecordBatch({ records: recordsOfAbout(64 * 1024, rnd), baseOffset: BigInt(i * 1000) })));
  const fetchEncode = (flatten: boolean) => (): void => {
    const w = new Writer(1024);
    encodeResponseHeader(w, 1, { correlationId: 9 });
    const partition = { ...defaultFetchResponsePartitionData(), partitionIndex: 0, highWatermark: 16_000n, records: stored };
    const topic = { ...defaultFetchResponseFetchableTopicResponse(), topicId: '7b0c1e1a-0000-4000-8000-000000000001', partitions: [partition] };
    encodeFetchResponse(w, 16, { ...defaultFetchResponse(), responses: [topic] });
    if (flatten) sink += w.toBuffer().length;
    else sink += w.toChunks().length;
  };
  const fetchRef = rate(stored.length, fetchEncode(false));
  const fetchFlat = rate(stored.length, fetchEncode(true));
  const allocCopy = rate(stored.length, () => { sink += Buffer.from(stored).length; });

  console.log(`## Produce/Fetch path (1 MiB, median of ${RUNS} runs of ${RUN_MS} ms; node ${process.version})`);
  console.log('| path | throughput | ratio to Buffer.copy |');
  console.log('| --- | ---: | ---: |');
  console.log(`| Buffer.copy of 1 MiB (baseline) | ${mbs(copy)} | 1.00 |`);
  console.log(`| Produce v9 decode + batch header + CRC32C | ${mbs(produce)} | ${(produce / copy).toFixed(2)} |`);
  console.log(`| Fetch v16 encode, records by reference (writev chunks) | ${mbs(fetchRef)} | ${(fetchRef / copy).toFixed(2)} |`);
  console.log(`| Fetch v16 encode, flattened to one Buffer (one copy) | ${mbs(fetchFlat)} | ${(fetchFlat / copy).toFixed(2)} |`);
  console.log(`| iterate all ${records.length} records of the batch (consumer side, not the broker path) | ${mbs(iterate)} | ${(iterate / copy).toFixed(2)} |`);
  console.log(`| same, lz4-compressed batch (decompress + iterate; MB/s of uncompressed bytes) | ${mbs(iterateLz4)} | ${(iterateLz4 / copy).toFixed(2)} |`);
  console.log(`| (reference: Buffer.from of 1 MiB, i.e. allocate + copy) | ${mbs(allocCopy)} | ${(allocCopy / copy).toFixed(2)} |`);

  // ---- codec table ----
  const plain = Buffer.concat(records.map((r) => r.value!)).subarray(0, MiB);
  console.log('');
  console.log('## Codecs (1 MiB of JSON-like record values; Kafka framings; default levels)');
  console.log('| codec | ratio | compress | decompress |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const codec of [CompressionType.GZIP, CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD]) {
    const c = compress(codec, plain);
    const comp = rate(plain.length, () => { sink += compress(codec, plain).length; });
    const dec = rate(plain.length, () => { sink += decompress(codec, c, plain.length).length; });
    console.log(`| ${COMPRESSION_NAMES[codec]} | ${(c.length / plain.length).toFixed(3)} | ${mbs(comp)} | ${mbs(dec)} |`);
  }
  const gz1 = compress(CompressionType.GZIP, plain, 1);
  console.log(`| gzip level 1 | ${(gz1.length / plain.length).toFixed(3)} | ${mbs(rate(plain.length, () => { sink += compress(CompressionType.GZIP, plain, 1).length; }))} | ${mbs(rate(plain.length, () => { sink += decompress(CompressionType.GZIP, gz1, plain.length).length; }))} |`);

  console.log('');
  console.log('## CRC32C (1 MiB)');
  console.log('| implementation | throughput |');
  console.log('| --- | ---: |');
  console.log(`| @node-rs/crc32 (used) | ${(rate(batch.length, () => { sink += crc32c(batch); }) / 1e9).toFixed(1)} GB/s |`);
  console.log(`| pure-JS slicing-by-8 (fallback) | ${(rate(batch.length, () => { sink += crc32cJs(batch); }) / 1e9).toFixed(1)} GB/s |`);
  if (sink === 42) console.log('');
}

main();
