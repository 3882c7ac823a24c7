/**
 * A small HDR-style latency histogram: exact below 128, then 64 linear sub-buckets per power of
 * two, so any recorded value is reported within 1/64 (about 1.6%) of itself. Fixed memory,
 * O(1) record, no allocation per value.
 */
const LINEAR = 128;
const SUB = 64;
const SUB_BITS = 6;

export class LatencyHistogram {
  private counts = new Float64Array(LINEAR + 58 * SUB);
  private total = 0;
  private sum = 0;
  private maxValue = 0;
  private minValue = Number.POSITIVE_INFINITY;

  /** Records a non-negative value `count` times (any unit; the tools use microseconds). */
  record(value: number, count = 1): void {
    const v = Math.max(0, Math.floor(value));
    this.counts[indexOf(v)]! += count;
    this.total += count;
    this.sum += v * count;
    if (v > this.maxValue) this.maxValue = v;
    if (v < this.minValue) this.minValue = v;
  }

  get count(): number { return this.total; }
  get max(): number { return this.maxValue; }
  get min(): number { return this.total === 0 ? 0 : this.minValue; }
  get mean(): number { return this.total === 0 ? 0 : this.sum / this.total; }

  /** The value at percentile p (0..100): the smallest bucket covering p% of the values, never above max. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(highestEquivalent(i), this.maxValue);
    }
    return this.maxValue;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.maxValue = 0;
    this.minValue = Number.POSITIVE_INFINITY;
  }
}

function indexOf(v: number): number {
  if (v < LINEAR) return v;
  const bits = Math.floor(Math.log2(v)) + 1;      // v has `bits` significant bits (>= 8)
  const shift = bits - (SUB_BITS + 1);             // keep the top 7 bits: 64..127
  const sub = Math.floor(v / 2 ** shift) - SUB;    // 0..63
  return LINEAR + (shift - 1) * SUB + sub;
}

/** The largest value that maps to bucket i. */
function highestEquivalent(i: number): number {
  if (i < LINEAR) return i;
  const shift = Math.floor((i - LINEAR) / SUB) + 1;
  const sub = (i - LINEAR) % SUB + SUB;
  return (sub + 1) * 2 ** shift - 1;
}
