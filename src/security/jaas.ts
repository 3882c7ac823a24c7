/**
 * Kafka's JAAS configuration strings (`sasl.jaas.config`):
 *   org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="x" user_alice="y";
 * Only what raftka reads from them: the login module's class, its flag and its options.
 */
export interface JaasEntry {
  readonly loginModule: string;
  readonly flag: string;
  readonly options: ReadonlyMap<string, string>;
}

/** Parses one or more `Module flag key=value ...;` entries; throws on a malformed string. */
export function parseJaasConfig(text: string): JaasEntry[] {
  const entries: JaasEntry[] = [];
  let i = 0;
  const skipSpace = (): void => { while (i < text.length && /\s/.test(text[i]!)) i++; };
  const word = (): string => {
    const start = i;
    while (i < text.length && !/[\s=;"]/.test(text[i]!)) i++;
    return text.slice(start, i);
  };
  for (;;) {
    skipSpace();
    if (i >= text.length) break;
    const loginModule = word();
    skipSpace();
    const flag = word();
    if (loginModule === '' || !/^(required|requisite|sufficient|optional)$/.test(flag)) {
      throw new Error(`cannot parse JAAS config: expected '<LoginModule> required|requisite|sufficient|optional' at ${i}`);
    }
    const options = new Map<string, string>();
    for (;;) {
      skipSpace();
      if (i >= text.length) throw new Error('cannot parse JAAS config: missing \';\' at the end of an entry');
      if (text[i] === ';') { i++; break; }
      const key = word();
      skipSpace();
      if (key === '' || text[i] !== '=') throw new Error(`cannot parse JAAS config: expected key=value at ${i}`);
      i++;
      skipSpace();
      let value: string;
      if (text[i] === '"') {
        i++;
        let v = '';
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < text.length) i++;
          v += text[i];
          i++;
        }
        if (i >= text.length) throw new Error('cannot parse JAAS config: unterminated quoted value');
        i++;
        value = v;
      } else {
        value = word();
      }
      options.set(key, value);
    }
    entries.push({ loginModule, flag, options });
  }
  return entries;
}

/** `user_<name>="<password>"` options of a PlainLoginModule entry (Kafka's PlainServerCallbackHandler). */
export function plainUsers(entry: JaasEntry): Map<string, string> {
  const users = new Map<string, string>();
  for (const [k, v] of entry.options) if (k.startsWith('user_') && k.length > 5) users.set(k.slice(5), v);
  return users;
}
