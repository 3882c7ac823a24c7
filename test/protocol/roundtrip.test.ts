/**
 * Every generated codec (88 APIs x request/response, headers, data, coordinator and metadata
 * records) at every valid version: values generated from the schema by fast-check are encoded,
 * decoded and compared, and re-encoding gives the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader, Writer } from '../../protocol/primitives.js';
import { loadCodecs, messageArb, sampleStruct, versionsOf, MODEL, type Codec } from './schema-support.js';

const codecs = await loadCodecs();
const RUNS = Number(process.env['ROUNDTRIP_RUNS'] ?? 25);

function roundTrip(c: Codec, version: number, value: Record<string, unknown>): void {
  const w = new Writer();
  c.encode(w, version, value);
  const bytes = w.toBuffer();
  const r = new Reader(bytes);
  const decoded = c.decode(r, version);
  assert.equal(r.remaining(), 0, `${c.msg.name} v${version}: decoder left ${r.remaining()} bytes`);
  assert.deepStrictEqual(decoded, value, `${c.msg.name} v${version}`);
  const w2 = new Writer();
  c.encode(w2, version, decoded);
  assert.ok(w2.toBuffer().equals(bytes), `${c.msg.name} v${version}: re-encoding differs`);
}

test('the model covers every schema', () => {
  assert.equal(MODEL.messages.filter((m) => m.kind === 'request').length, 88);
  assert.equal(MODEL.messages.filter((m) => m.kind === 'response').length, 88);
  assert.ok(MODEL.messages.some((m) => m.name === 'RequestHeader'));
  assert.ok(MODEL.messages.some((m) => m.kind === 'metadata'));
  assert.ok(MODEL.messages.some((m) => m.name === 'OffsetCommitValue'));
});

test('every field set to a non-default value survives a round trip, every message and version', () => {
  let cases = 0;
  for (const c of codecs) {
    for (const v of versionsOf(c.msg)) {
      roundTrip(c, v, sampleStruct(c.msg, c.msg.root, v));
      cases++;
    }
  }
  assert.ok(cases > 700, `only ${cases} message versions`);
});

test('generated values round trip for every message and version (fast-check)', () => {
  let seed = 1;
  for (const c of codecs) {
    for (const v of versionsOf(c.msg)) {
      fc.assert(fc.property(messageArb(c.msg, v), (m) => roundTrip(c, v, m)), { seed: seed++, numRuns: RUNS });
    }
  }
});
