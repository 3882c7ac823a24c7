import { parseArgs } from 'node:util';
import { randomInt } from 'node:crypto';
import { FAULT_KINDS, type FaultKind } from './nemesis.js';
import { formatReport } from './runner.js';
import { runFaultsIsolated } from './isolated.js';

/**
 * `npm run faults -- --time 600 --seed S [--runs N] [--kinds kill,pause] [--keep]`: long
 * fault-injection runs. Without --seed every run draws a random seed (printed first, so a failure
 * replays with --seed). Exits 1 when any run finds an anomaly or fails.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      time: { type: 'string', default: '600' }, seed: { type: 'string' }, runs: { type: 'string', default: '1' },
      size: { type: 'string', default: '3' }, kinds: { type: 'string' }, keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const kinds = values.kinds?.split(',').map((k) => k.trim()) as FaultKind[] | undefined;
  for (const k of kinds ?? []) if (!FAULT_KINDS.includes(k)) throw new Error(`unknown fault kind ${k} (one of ${FAULT_KINDS.join(', ')})`);
  const say = (line: string): void => { process.stdout.write(`[${new Date().toISOString()}] ${line}\n`); };
  let failed = 0;
  for (let run = 0; run < Number(values.runs); run++) {
    const seed = values.seed !== undefined ? Number(values.seed) + run : randomInt(1, 2 ** 31 - 1);
    try {
      // In a child process under a watchdog (isolated.ts): a run whose event loop gets stuck is
      // killed after 2 minutes without a heartbeat and reported with its seed and stack.
      const report = await runFaultsIsolated({ seed, timeSec: Number(values.time), size: Number(values.size), kinds, keep: values.keep, say, stallMs: 120_000 });
      process.stdout.write(`${formatReport(report)}\n`);
      if (!report.ok) failed++;
    } catch (err) {
      failed++;
      process.stdout.write(`seed ${seed}: ERROR ${(err as Error).message}\n`);
    }
  }
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });
