import { runFaults, type RunOptions } from './runner.js';

/**
 * The process `runFaultsIsolated` (isolated.ts) starts for one fault run: it receives the run's
 * options over IPC, runs it, and sends back a heartbeat every second, the progress lines and the
 * report. The heartbeat is how the parent sees a stuck event loop (a client library spinning in
 * microtasks, a synchronous loop): it stops. Not meant to be started by hand.
 */
export type ChildMessage =
  | { type: 'beat' }
  | { type: 'say'; line: string }
  | { type: 'done'; report: Awaited<ReturnType<typeof runFaults>> }
  | { type: 'failed'; message: string };

export type ParentMessage = { type: 'run'; options: Omit<RunOptions, 'say'>; simulateSpin?: boolean };

function send(m: ChildMessage, then?: () => void): void {
  if (process.send === undefined || !process.connected) { then?.(); return; }
  process.send(m, undefined, {}, () => then?.());
}

if (process.send === undefined) {
  process.stderr.write('run-child.js is started by runFaultsIsolated (test/faults/isolated.ts)\n');
  process.exit(2);
}
// The parent went away (killed, or its test runner force-exited): end the run, which kills the
// brokers through the cluster's exit hook.
process.on('disconnect', () => process.exit(1));
setInterval(() => send({ type: 'beat' }), 1000).unref();
process.once('message', (m: ParentMessage) => {
  if (m.type !== 'run') return;
  if (m.simulateSpin === true) { void spinForever(); return; }
  runFaults({ ...m.options, say: (line) => send({ type: 'say', line }) }).then(
    (report) => send({ type: 'done', report }, () => process.exit(0)),
    (err: unknown) => send({ type: 'failed', message: (err as Error).message }, () => process.exit(1)),
  );
});

/** Test hook for the watchdog: the shape of the kafkajs spin, an async loop that never waits for I/O or a timer. */
async function spinForever(): Promise<number> {
  let n = 0;
  for (;;) {
    n += await Promise.resolve(1);
    if (n < 0) return n;
  }
}
