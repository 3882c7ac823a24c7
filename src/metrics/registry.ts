/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (version 0.0.4). Gauges may be collected at scrape time.
 */

export type Labels = Readonly<Record<string, string>>;

type MetricType = 'counter' | 'gauge' | 'histogram';

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** Sample lines, without the HELP and TYPE header. */
  samples(): string[];
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabelValue(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

function escapeHelp(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

/** `{a="1",b="2"}`, labels in the given order; empty string for no labels. */
export function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  for (const k of keys) if (!LABEL_RE.test(k)) throw new Error(`invalid label name '${k}'`);
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`).join(',')}}`;
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function labelKey(labels: Labels): string {
  return formatLabels(labels);
}

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error('a counter only goes up');
    const key = labelKey(labels);
    const entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, { labels, value: by });
    else entry.value += by;
  }

  get(labels: Labels = {}): number { return this.values.get(labelKey(labels))?.value ?? 0; }

  samples(): string[] {
    return [...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, e]) => `${this.name}${key} ${formatValue(e.value)}`);
  }
}

export class Gauge {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string, private readonly collect?: () => Iterable<readonly [Labels, number]>) {}

  set(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    const entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, { labels, value });
    else entry.value = value;
  }

  inc(labels: Labels = {}, by = 1): void { this.set(this.get(labels) + by, labels); }
  dec(labels: Labels = {}, by = 1): void { this.set(this.get(labels) - by, labels); }
  get(labels: Labels = {}): number { return this.values.get(labelKey(labels))?.value ?? 0; }

  samples(): string[] {
    if (this.collect !== undefined) {
      for (const [labels, value] of this.collect()) this.set(value, labels);
    }
    return [...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, e]) => `${this.name}${key} ${formatValue(e.value)}`);
  }
}

/** Cumulative buckets (`le`), `_sum` and `_count`, as Prometheus histograms. */
export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  readonly buckets: readonly number[];

  constructor(readonly name: string, readonly help: string, buckets: readonly number[]) {
    this.buckets = [...buckets].sort((a, b) => a - b);
    if (this.buckets.length === 0) throw new Error('a histogram needs at least one bucket');
  }

  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  count(labels: Labels = {}): number { return this.series.get(labelKey(labels))?.count ?? 0; }

  samples(): string[] {
    const out: string[] = [];
    const keys = [...this.series.keys()].sort();
    for (const key of keys) {
      const s = this.series.get(key)!;
      this.buckets.forEach((le, i) => {
        out.push(`${this.name}_bucket${formatLabels({ ...s.labels, le: formatValue(le) })} ${s.counts[i]!}`);
      });
      out.push(`${this.name}_bucket${formatLabels({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${key} ${formatValue(s.sum)}`);
      out.push(`${this.name}_count${key} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric & { samples(): string[] }>();

  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help), 'counter');
  }

  /** A gauge; with `collect`, its values are gathered at each scrape. */
  gauge(name: string, help: string, collect?: () => Iterable<readonly [Labels, number]>): Gauge {
    return this.register(new Gauge(name, help, collect), 'gauge');
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.register(new Histogram(name, help, buckets), 'histogram');
  }

  /** The text exposition format: HELP, TYPE and samples of each metric, in registration order. */
  render(): string {
    const lines: string[] = [];
    for (const m of this.metrics.values()) {
      lines.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`, ...m.samples());
    }
    return `${lines.join('\n')}\n`;
  }

  private register<T extends Counter | Gauge | Histogram>(metric: T, type: MetricType): T {
    if (!NAME_RE.test(metric.name)) throw new Error(`invalid metric name '${metric.name}'`);
    if (this.metrics.has(metric.name)) throw new Error(`metric '${metric.name}' registered twice`);
    this.metrics.set(metric.name, { name: metric.name, help: metric.help, type, samples: () => metric.samples() });
    return metric;
  }
}

/** One parsed sample line of the text format. */
export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/** Parses the sample lines of the text format (comments skipped): for tests and tools. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/.exec(line);
    if (m === null) throw new Error(`cannot parse sample line '${line}'`);
    const labels: Record<string, string> = {};
    if (m[2] !== undefined && m[2] !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;
      let lm: RegExpExecArray | null;
      let consumed = 0;
      while ((lm = re.exec(m[2])) !== null) {
        labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
        consumed = re.lastIndex;
      }
      if (consumed !== m[2].length) throw new Error(`cannot parse labels in '${line}'`);
    }
    const v = m[3]!;
    const value = v === '+Inf' ? Number.POSITIVE_INFINITY : v === '-Inf' ? Number.NEGATIVE_INFINITY : Number(v);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}
