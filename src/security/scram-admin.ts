import { ErrorCode } from '../kafka/errors.js';
import type { MetadataImage, ScramCredential } from '../cluster/image.js';
import type { MetadataRecord } from '../cluster/records.js';
import { SCRAM_MAX_ITERATIONS, scramCredential, scramCredentialFromSaltedPassword, scramMechanismById, type ScramBootstrapEntry } from './scram.js';

/** Kafka error codes src/kafka/errors.ts does not list yet. */
export const RESOURCE_NOT_FOUND = 91;
export const DUPLICATE_RESOURCE = 92;
export const UNACCEPTABLE_CREDENTIAL = 93;

export interface ScramDeletion { readonly name: string; readonly mechanism: number }
export interface ScramUpsertion {
  readonly name: string;
  readonly mechanism: number;
  readonly iterations: number;
  readonly salt: Buffer;
  /** Computed by the client (Hi(password, salt, iterations)); the controller keeps only the keys derived from it. */
  readonly saltedPassword: Buffer;
}
export interface ScramAlterationResult { readonly user: string; readonly errorCode: number; readonly errorMessage: string | null }

/**
 * AlterUserScramCredentials as Kafka's controller validates it: per user, all of its alterations
 * are applied or none; a (user, mechanism) twice in one request is DUPLICATE_RESOURCE, an unknown
 * mechanism UNSUPPORTED_SASL_MECHANISM, iterations outside 4096..16384 or an empty name/salt/
 * password UNACCEPTABLE_CREDENTIAL, deleting a credential that does not exist RESOURCE_NOT_FOUND.
 */
export function planScramAlterations(image: MetadataImage, deletions: readonly ScramDeletion[], upsertions: readonly ScramUpsertion[]): { results: ScramAlterationResult[]; records: MetadataRecord[] } {
  const users = [...new Set([...deletions.map((d) => d.name), ...upsertions.map((u) => u.name)])];
  const results: ScramAlterationResult[] = [];
  const records: MetadataRecord[] = [];
  for (const user of users) {
    const dels = deletions.filter((d) => d.name === user);
    const ups = upsertions.filter((u) => u.name === user);
    const error = ((): [number, string] | null => {
      if (user === '') return [UNACCEPTABLE_CREDENTIAL, 'Username must not be empty'];
      const mechanisms = [...dels.map((d) => d.mechanism), ...ups.map((u) => u.mechanism)];
      if (new Set(mechanisms).size !== mechanisms.length) return [DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request'];
      for (const m of mechanisms) if (scramMechanismById(m) === undefined) return [ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism'];
      for (const d of dels) {
        if (image.scram.users.get(user)?.has(d.mechanism) !== true) return [RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'];
      }
      for (const u of ups) {
        const min = scramMechanismById(u.mechanism)!.minIterations;
        if (u.iterations < min) return [UNACCEPTABLE_CREDENTIAL, `Too few iterations (minimum ${min})`];
        if (u.iterations > SCRAM_MAX_ITERATIONS) return [UNACCEPTABLE_CREDENTIAL, `Too many iterations (maximum ${SCRAM_MAX_ITERATIONS})`];
        if (u.salt.length === 0) return [UNACCEPTABLE_CREDENTIAL, 'Salt must not be empty'];
        if (u.saltedPassword.length === 0) return [UNACCEPTABLE_CREDENTIAL, 'Password must not be empty'];
      }
      return null;
    })();
    if (error !== null) { results.push({ user, errorCode: error[0], errorMessage: error[1] }); continue; }
    for (const d of dels) records.push({ type: 'RemoveUserScramCredential', data: { name: user, mechanism: d.mechanism } });
    for (const u of ups) {
      const c = scramCredentialFromSaltedPassword(scramMechanismById(u.mechanism)!, u.saltedPassword, u.salt, u.iterations);
      records.push({ type: 'UserScramCredential', data: { name: user, mechanism: u.mechanism, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations: c.iterations } });
    }
    results.push({ user, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  return { results, records };
}

/** The bootstrap credentials (raftka.bootstrap.scram.users / --add-scram), unless some SCRAM record was ever written. */
export function planScramBootstrap(image: MetadataImage, entries: readonly ScramBootstrapEntry[]): MetadataRecord[] {
  if (image.scram.everWritten) return [];
  return entries.map((e) => {
    const c = scramCredential(e.mechanism, e.password, e.iterations);
    return { type: 'UserScramCredential' as const, data: { name: e.name, mechanism: e.mechanism.id, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations: c.iterations } };
  });
}

/**
 * The SCRAM credential a listener authenticates with: the metadata image's; while no SCRAM record
 * was ever committed, the bootstrap users of this broker's configuration
 * (`raftka.bootstrap.scram.users`, the same on every broker, as every Kafka node starts from the
 * bootstrap metadata that `kafka-storage format --add-scram` wrote). So brokers can authenticate
 * to each other with SCRAM before the metadata log has a leader to commit the credentials.
 */
export function scramCredentialLookup(image: () => MetadataImage, bootstrap: readonly ScramBootstrapEntry[]): (user: string, mechanismId: number) => ScramCredential | undefined {
  const derived = new Map<string, ScramCredential>();
  return (user, mechanismId) => {
    const current = image().scram;
    const committed = current.users.get(user)?.get(mechanismId);
    if (committed !== undefined || current.everWritten) return committed;
    const entry = bootstrap.find((e) => e.name === user && e.mechanism.id === mechanismId);
    if (entry === undefined) return undefined;
    const key = `${mechanismId}:${user}`;
    let credential = derived.get(key);
    if (credential === undefined) {
      credential = scramCredential(entry.mechanism, entry.password, entry.iterations);
      derived.set(key, credential);
    }
    return credential;
  };
}
