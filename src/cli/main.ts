#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLogger, LOG_LEVELS } from '../util/log.js';
import { loadBrokerConfig, parseBootstrap, type BrokerConfig } from '../config.js';
import { applyHeapGrowingPercent } from '../util/gc-tuning.js';
import { isTool, runTool, TOOLS_USAGE } from './tools.js';
import { runCluster } from './cluster.js';

const USAGE = `Usage: raftka <command> [options]

Commands:
  start      Run one broker (default: 127.0.0.1:9092, data in ./data)
  broker     Run one broker of a static cluster (--node-id, --port, --data-dir, --bootstrap)
  cluster    Run a local cluster of N broker processes (raftka cluster --help)

Tools:
${TOOLS_USAGE}
Options for start:
  --host HOST         listener host (default 127.0.0.1)
  --port PORT         listener port (default 9092; 0 picks a free port)
  --data-dir DIR      data directory, Kafka's log.dirs (default ./data)
  --node-id ID        node.id (default 1)
  --config FILE       a Kafka-style server.properties file
  --bootstrap LIST    (broker) every broker of the cluster, the same list on each:
                      1@127.0.0.1:9092,2@127.0.0.1:9093,3@127.0.0.1:9094
  --metrics-port PORT Prometheus /metrics and /health on the listener host (metrics.port;
                      default off; 0 picks a free port)
  --log-level LEVEL   fatal, error, warn, info, debug, trace or silent (overrides RAFTKA_LOG_LEVEL)
  -h, --help          this help

Every server.properties key can also be given as a RAFTKA_ environment variable, upper case with
dots as underscores (RAFTKA_NUM_PARTITIONS=3). Precedence: flags, environment, config file.
RAFTKA_LOG_LEVEL sets the log level (default info). Logs are human-readable lines on a terminal,
JSON lines otherwise.
`;

async function start(argv: string[], command: 'start' | 'broker'): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' }, port: { type: 'string' }, 'data-dir': { type: 'string' },
      'node-id': { type: 'string' }, config: { type: 'string' }, bootstrap: { type: 'string' },
      'metrics-port': { type: 'string' }, 'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) { process.stdout.write(USAGE); return; }
  const int = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
    return n;
  };
  if (command === 'broker' && (values.bootstrap === undefined || values['node-id'] === undefined)) {
    throw new Error('broker needs --node-id and --bootstrap (id@host:port,...)');
  }
  const logLevel = values['log-level'] ?? process.env.RAFTKA_LOG_LEVEL;
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new Error(`log level must be one of ${LOG_LEVELS.join(', ')}, got ${logLevel}`);
  }
  const bootstrap = values.bootstrap === undefined ? undefined : parseBootstrap(values.bootstrap);
  const nodeId = int('node-id', values['node-id']);
  // In a static cluster a broker listens where the bootstrap list says, unless told otherwise.
  const self = bootstrap?.find((m) => m.nodeId === nodeId);
  const overrides: Partial<BrokerConfig> = {
    host: values.host, port: int('port', values.port) ?? self?.port, dataDir: values['data-dir'], nodeId, bootstrap,
    metricsPort: int('metrics-port', values['metrics-port']),
  };
  const config = loadBrokerConfig({ configFile: values.config, env: process.env, overrides });
  const log = createLogger({ nodeId: config.nodeId }, logLevel);
  applyHeapGrowingPercent(config.heapGrowingPercent);
  // Loaded here, not at the top: the tools share this entry point and should start fast.
  const { Broker } = await import('../broker.js');
  const broker = await Broker.start(config, log, {
    onMetricsListening: (host, port) => { process.stdout.write(`raftka broker ${config.nodeId} metrics on ${host}:${port}\n`); },
  });
  process.stdout.write(`raftka broker ${config.nodeId} opened ${broker.startupSummary}\n`);
  process.stdout.write(`raftka broker ${config.nodeId} ready on ${config.host}:${broker.port} (data in ${config.dataDir})\n`);
  let stopping = false;
  // The first SIGTERM/SIGINT shuts down in order (controlled shutdown: leaderships move away
  // first); a second one, or 30 s, forces the exit.
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => { log.warn('shutdown took over 30 s: exiting now'); process.exit(1); }, 30000).unref();
    broker.close(true).then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, 'unclean shutdown');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start': await start(rest, 'start'); break;
    case 'broker': await start(rest, 'broker'); break;
    case 'cluster': await runCluster(rest); break;
    case undefined: case '-h': case '--help': case 'help': process.stdout.write(USAGE); break;
    default:
      if (isTool(command)) {
        process.exitCode = await runTool(command, rest);
        // Linux writes to pipes synchronously; do not let a lingering handle keep a finished tool alive.
        setTimeout(() => process.exit(), 1000).unref();
        break;
      }
      process.stderr.write(`raftka: unknown command '${command}'\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`raftka: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
