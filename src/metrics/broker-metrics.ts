import { createServer, type Server } from 'node:http';
import type { Logger } from '../util/log.js';
import { ErrorCode } from '../kafka/errors.js';
import type { ServerObserver } from '../server/connection.js';
import { Registry, type Counter, type Gauge, type Histogram, type Labels } from './registry.js';

/** Request latency buckets in milliseconds (Kafka's RequestMetrics TotalTimeMs, as a histogram). */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** Kafka's error name for a code (`UNKNOWN_<code>` for one the broker does not define). */
export function errorName(code: number): string {
  return ERROR_NAMES.get(code) ?? `UNKNOWN_${code}`;
}

/**
 * Adds every non-zero `errorCode` field of a response (top level and nested, as Kafka's
 * AbstractResponse.errorCounts) to `counts`. Buffers are not walked.
 */
export function collectErrorCodes(response: unknown, counts: Map<number, number>, depth = 0): void {
  if (response === null || typeof response !== 'object' || depth > 8) return;
  if (Buffer.isBuffer(response) || ArrayBuffer.isView(response)) return;
  if (Array.isArray(response)) {
    for (const item of response) collectErrorCodes(item, counts, depth + 1);
    return;
  }
  for (const [key, value] of Object.entries(response)) {
    if (key === 'errorCode' && typeof value === 'number') {
      if (value !== 0) counts.set(value, (counts.get(value) ?? 0) + 1);
    } else if (typeof value === 'object' && value !== null) {
      collectErrorCodes(value, counts, depth + 1);
    }
  }
}

/** What the broker shows at scrape time (read from its image and replicas). */
export interface BrokerMetricsSource {
  /** Replicas hosted here (metadata partition included). */
  partitions(): number;
  /** Replicas led here. */
  leaders(): number;
  /** Partitions led here whose ISR is smaller than their replica set. */
  underReplicated(): number;
  /** Partitions of the metadata image without a leader (-1). */
  offline(): number;
  /** This broker is the active controller. */
  activeController(): boolean;
  /** Registered and unfenced (and not shutting down). */
  ready(): boolean;
  /** A one-word state for /health: starting, ready, fenced, shutting-down. */
  state(): string;
}

/** Request metrics fed by the listener through the ServerObserver hooks. */
export class RequestMetrics implements ServerObserver {
  readonly requests: Counter;
  readonly errors: Counter;
  readonly latency: Histogram;
  readonly bytesInTotal: Counter;
  readonly bytesOutTotal: Counter;
  readonly connections: Gauge;
  readonly connectionsCreated: Counter;

  constructor(registry: Registry) {
    this.requests = registry.counter('raftka_requests_total', 'Requests answered, per API (Kafka RequestsPerSec).');
    this.latency = registry.histogram('raftka_request_duration_ms', 'Time from request arrival to its encoded response, per API, in milliseconds (Kafka TotalTimeMs).', LATENCY_BUCKETS_MS);
    this.errors = registry.counter('raftka_request_errors_total', 'Non-zero error codes in responses, per API and error (Kafka ErrorsPerSec).');
    this.bytesInTotal = registry.counter('raftka_network_bytes_in_total', 'Bytes read from client and peer sockets.');
    this.bytesOutTotal = registry.counter('raftka_network_bytes_out_total', 'Bytes written to client and peer sockets.');
    this.connections = registry.gauge('raftka_connections', 'Open connections on the listener.');
    this.connectionsCreated = registry.counter('raftka_connections_created_total', 'Connections accepted since start.');
    this.connections.set(0);
    this.bytesInTotal.inc({}, 0);
    this.bytesOutTotal.inc({}, 0);
  }

  connectionOpened(): void { this.connections.inc(); this.connectionsCreated.inc(); }
  connectionClosed(): void { this.connections.dec(); }
  bytesIn(bytes: number): void { this.bytesInTotal.inc({}, bytes); }
  bytesOut(bytes: number): void { this.bytesOutTotal.inc({}, bytes); }

  requestCompleted(_apiKey: number, apiName: string, durationMs: number, response: unknown): void {
    const labels: Labels = { api: apiName };
    this.requests.inc(labels);
    this.latency.observe(durationMs, labels);
    const counts = new Map<number, number>();
    collectErrorCodes(response, counts);
    for (const [code, n] of counts) this.errors.inc({ api: apiName, error: errorName(code) }, n);
  }
}

/** The broker's registry: request metrics plus gauges gathered from the broker at scrape time. */
export class BrokerMetrics {
  readonly registry = new Registry();
  readonly requests: RequestMetrics;
  /** Times a Raft group of this broker became leader. */
  readonly elections: Counter;
  private source: BrokerMetricsSource | undefined;

  constructor() {
    this.requests = new RequestMetrics(this.registry);
    this.elections = this.registry.counter('raftka_raft_leader_elections_total', 'Raft role changes to leader on this broker (all groups, metadata included).');
    this.elections.inc({}, 0);
    const gauge = (name: string, help: string, read: (s: BrokerMetricsSource) => number): void => {
      this.registry.gauge(name, help, () => (this.source === undefined ? [] : [[{}, read(this.source)] as const]));
    };
    gauge('raftka_partitions', 'Partition replicas hosted on this broker (Kafka PartitionCount).', (s) => s.partitions());
    gauge('raftka_leaders', 'Partition replicas led by this broker (Kafka LeaderCount).', (s) => s.leaders());
    gauge('raftka_under_replicated_partitions', 'Partitions led here whose ISR is smaller than their replicas (Kafka UnderReplicatedPartitions).', (s) => s.underReplicated());
    gauge('raftka_offline_partitions', 'Partitions without a leader in the metadata image (Kafka OfflinePartitionsCount).', (s) => s.offline());
    gauge('raftka_active_controller', '1 on the active controller (Kafka ActiveControllerCount).', (s) => (s.activeController() ? 1 : 0));
    gauge('raftka_ready', '1 once the broker is registered and unfenced.', (s) => (s.ready() ? 1 : 0));
  }

  /** Sets where the scrape-time gauges read from (once the broker has built its parts). */
  attach(source: BrokerMetricsSource): void { this.source = source; }

  health(): { status: number; body: string } {
    const ready = this.source?.ready() ?? false;
    const state = this.source?.state() ?? 'starting';
    return { status: ready ? 200 : 503, body: `${JSON.stringify({ status: ready ? 'ready' : 'not-ready', state })}\n` };
  }
}

/** The HTTP endpoint: GET /metrics (Prometheus text format) and GET /health (readiness). */
export class MetricsServer {
  private readonly server: Server;

  constructor(private readonly metrics: BrokerMetrics, private readonly log: Logger) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      try {
        if (path === '/metrics') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(req.method === 'HEAD' ? undefined : this.metrics.registry.render());
        } else if (path === '/health' || path === '/ready') {
          const h = this.metrics.health();
          res.writeHead(h.status, { 'content-type': 'application/json' });
          res.end(req.method === 'HEAD' ? undefined : h.body);
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /health\n');
        }
      } catch (err) {
        this.log.error({ err }, 'metrics request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      }
    });
    this.server.keepAliveTimeout = 5000;
  }

  /** Listens on host:port (0: any free port); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
