import { UsageError } from './args.js';
import { ClientError } from './client/client.js';
import { topicsCommand, TopicCommandError } from './topics.js';
import { configsCommand, ConfigCommandError } from './configs.js';
import { produceCommand } from './console-producer.js';
import { consumeCommand } from './console-consumer.js';
import { perfCommand } from './perf.js';
import { leaderElectionCommand, ElectionFailed } from './leader-election.js';
import { consumerGroupsCommand, GroupCommandError } from './consumer-groups.js';
import { aclsCommand } from './acls.js';
import { reassignPartitionsCommand, ReassignmentFailed } from './reassign-partitions.js';
import { eprintln } from './output.js';

/** The Kafka-style tools by command name. */
const TOOLS: Readonly<Record<string, (argv: string[]) => Promise<void>>> = {
  topics: topicsCommand,
  configs: configsCommand,
  produce: produceCommand,
  consume: consumeCommand,
  perf: perfCommand,
  'leader-election': leaderElectionCommand,
  'consumer-groups': consumerGroupsCommand,
  acls: aclsCommand,
  'reassign-partitions': reassignPartitionsCommand,
};

export const TOOLS_USAGE = `  topics           Create, list, describe, delete and alter topics (kafka-topics.sh)
  configs          Describe and alter topic and broker configs (kafka-configs.sh)
  produce          Console producer: stdin lines to a topic (kafka-console-producer.sh)
  consume          Console consumer: a topic to stdout (kafka-console-consumer.sh)
  perf             perf produce | perf consume (kafka-producer-perf-test.sh, kafka-consumer-perf-test.sh)
  leader-election  Preferred leader election (kafka-leader-election.sh)
  consumer-groups  List, describe (offsets and lag), delete groups, reset offsets (kafka-consumer-groups.sh)
  acls             Add, remove and list ACLs (kafka-acls.sh)
  reassign-partitions  Move partition replicas: --generate, --execute, --verify, --cancel (kafka-reassign-partitions.sh)
  (every tool takes --bootstrap-server HOST:PORT and --help)
`;

export function isTool(command: string): boolean { return Object.hasOwn(TOOLS, command); }

/**
 * Runs a tool and returns its exit code. Every failure is one line on stderr (as Kafka's tools
 * print them), never a stack trace: 1 for command errors, 2 for bad flags.
 */
export async function runTool(command: string, argv: string[]): Promise<number> {
  const tool = TOOLS[command];
  if (tool === undefined) throw new Error(`unknown tool ${command}`);
  // Output piped into `head` and closed early: stop quietly, as a Unix tool does.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); });
  try {
    await tool(argv);
    return 0;
  } catch (err) {
    if (err instanceof TopicCommandError) eprintln(`Error while executing topic command : ${err.message}`);
    else if (err instanceof ConfigCommandError) eprintln(`Error while executing config command : ${err.message}`);
    else if (err instanceof GroupCommandError) eprintln(`Error: ${err.message}`);
    else if (err instanceof ElectionFailed) eprintln(`Error while making request: ${err.message}`);
    else if (err instanceof ReassignmentFailed) eprintln(`Error: ${err.message}`);
    else if (err instanceof UsageError) { eprintln(`raftka ${command}: ${err.message} (see raftka ${command} --help)`); return 2; }
    else if (err instanceof ClientError) eprintln(`raftka ${command}: ${err.message}`);
    else eprintln(`raftka ${command}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
