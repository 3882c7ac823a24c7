/**
 * CreateAcls and DeleteAcls on the controller (Kafka's AclControlManager): validation and the
 * metadata records that make the change. Pure functions of the image's ACLs.
 */
import { ErrorCode } from '../kafka/errors.js';
import { ApiKey } from '../../protocol/generated/index.js';
import type { CreateAclsRequest, CreateAclsResponse } from '../../protocol/generated/create-acls.js';
import type { DeleteAclsResponse } from '../../protocol/generated/delete-acls.js';
import type { MetadataRecord } from '../cluster/records.js';
import { aclKey, validateFilter, validateNewAcl, type Acl, type AclFilter, type AclImage, type AclWithId } from './acls.js';

export interface AclCreateResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface AclDeleteResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** The ACLs the filter matched (and that the change removes). */
  readonly deleted: readonly AclWithId[];
}

/**
 * One AccessControlEntryRecord per new valid ACL; an ACL that exists already (or twice in the
 * request) succeeds without a record, as in Kafka.
 */
export function planCreateAcls(acls: AclImage, creations: readonly Acl[], newId: () => string): { results: AclCreateResult[]; records: MetadataRecord[] } {
  const results: AclCreateResult[] = [];
  const records: MetadataRecord[] = [];
  const added = new Set<string>();
  for (const c of creations) {
    const invalid = validateNewAcl(c);
    if (invalid !== null) { results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: invalid }); continue; }
    const key = aclKey(c);
    if (acls.idOf(c) === undefined && !added.has(key)) {
      added.add(key);
      let id = newId();
      while (acls.get(id) !== undefined) id = newId();
      records.push({
        type: 'AccessControlEntry',
        data: {
          id, resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.patternType,
          principal: c.principal, host: c.host, operation: c.operation, permissionType: c.permissionType,
        },
      });
    }
    results.push({ errorCode: ErrorCode.NONE, errorMessage: null });
  }
  return { results, records };
}

/** One RemoveAccessControlEntryRecord per ACL any filter matches (each once); a filter with UNKNOWN parts is INVALID_REQUEST. */
export function planDeleteAcls(acls: AclImage, filters: readonly AclFilter[]): { results: AclDeleteResult[]; records: MetadataRecord[] } {
  const results: AclDeleteResult[] = [];
  const ids = new Set<string>();
  for (const f of filters) {
    const invalid = validateFilter(f);
    if (invalid !== null) { results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: invalid, deleted: [] }); continue; }
    const deleted = acls.matching(f);
    for (const a of deleted) ids.add(a.id);
    results.push({ errorCode: ErrorCode.NONE, errorMessage: null, deleted });
  }
  return { results, records: [...ids].map((id) => ({ type: 'RemoveAccessControlEntry' as const, data: { id } })) };
}

/**
 * What a broker relaying a forwarded CreateAcls or DeleteAcls answer waits for in its own image
 * (it follows the metadata log a moment behind the controller): every created ACL present, every
 * deleted one gone. Undefined for other APIs.
 */
export function aclChangeVisible(apiKey: number, request: unknown, response: unknown): ((acls: AclImage) => boolean) | undefined {
  if (apiKey === ApiKey.CreateAcls) {
    const creations = (request as CreateAclsRequest).creations;
    const results = (response as CreateAclsResponse).results;
    const wanted = creations.filter((_, i) => results[i]?.errorCode === ErrorCode.NONE).map((c) => ({
      resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType,
      principal: c.principal, host: c.host, operation: c.operation, permissionType: c.permissionType,
    }));
    return (acls) => wanted.every((a) => acls.idOf(a) !== undefined);
  }
  if (apiKey === ApiKey.DeleteAcls) {
    const gone = (response as DeleteAclsResponse).filterResults.flatMap((r) => r.matchingAcls);
    return (acls) => gone.every((a) => acls.idOf(a) === undefined);
  }
  return undefined;
}
