/**
 * The V8 flags every broker process runs with: the one list that `raftka cluster`, the test
 * harnesses and the `raftka` bin's shebang line (src/cli/main.ts, checked by a test) use.
 *
 * `--max-semi-space-size=2` caps V8's young generation at 2 MiB per semi-space (the default
 * grows it to 16 MiB). With the default, a broker's young generation is as large as its whole
 * old-generation headroom (about 12 MiB live, 16 MiB headroom), so V8 starts a full mark-compact
 * every few hundred milliseconds under load just in case the next scavenge promotes everything;
 * each one paused the broker 3-14 ms, and at 10 MiB/s those pauses were behind most acks=all
 * acknowledgements slower than 10 ms (README, Produce and fetch).
 *
 * V8 reads these flags only when the process starts (`v8.setFlagsFromString` is too late), so
 * a broker started by hand needs them on its command line or in NODE_OPTIONS:
 * `node --max-semi-space-size=2 dist/src/cli/main.js start`.
 */
export const BROKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * Which of BROKER_NODE_FLAGS this process did not start with (given its `process.execArgv`
 * and NODE_OPTIONS). A flag given with another value counts as set: the user chose it.
 */
export function missingBrokerNodeFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((a) => a.length > 0).map(flagName);
  return BROKER_NODE_FLAGS.filter((f) => !given.includes(flagName(f)));
}

/** `--max-semi-space-size=2` -> `max-semi-space-size` (V8 treats `_` and `-` alike). */
function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return (eq < 0 ? arg : arg.slice(0, eq)).replace(/^--?/, '').replaceAll('_', '-');
}
