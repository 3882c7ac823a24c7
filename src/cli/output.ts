/** Where the tools print: stdout for results, stderr for diagnostics (tests read both). */
export function println(line = ''): void { process.stdout.write(`${line}\n`); }
export function eprintln(line = ''): void { process.stderr.write(`${line}\n`); }

/** Resolves once stdout has drained (so a tool's last lines are out before it exits). */
export function flushStdout(): Promise<void> {
  return new Promise((resolve) => { if (process.stdout.write('')) resolve(); else process.stdout.once('drain', () => resolve()); });
}
