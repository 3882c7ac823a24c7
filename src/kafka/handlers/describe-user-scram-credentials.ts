import { ApiKey } from '../../../protocol/generated/index.js';
import type { DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse } from '../../../protocol/generated/describe-user-scram-credentials.js';
import type { MetadataImage } from '../../cluster/image.js';
import { DUPLICATE_RESOURCE, RESOURCE_NOT_FOUND } from '../../security/scram-admin.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';
import { AclOperation } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';

type Result = DescribeUserScramCredentialsResponse['results'][number];

/**
 * DescribeUserScramCredentials v0: mechanisms and iterations of users' SCRAM credentials (never
 * salts or keys), from this broker's metadata image. No users (null or empty): every user.
 */
export function describeUserScramCredentialsHandler(metadata: () => MetadataImage, auth: AuthHelper = NO_AUTHORIZER): ApiHandler {
  return defineHandler<DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse>({
    apiKey: ApiKey.DescribeUserScramCredentials,
    minVersion: 0,
    maxVersion: 0,
    handle(request, ctx) {
      // DESCRIBE on the cluster.
      if (!auth.authorizeCluster(ctx, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: [] };
      const users = metadata().scram.users;
      const describe = (user: string): Result => {
        const creds = users.get(user);
        if (creds === undefined) return { user, errorCode: RESOURCE_NOT_FOUND, errorMessage: 'Attempt to describe a user credential that does not exist', credentialInfos: [] };
        return {
          user, errorCode: ErrorCode.NONE, errorMessage: null,
          credentialInfos: [...creds].sort(([a], [b]) => a - b).map(([mechanism, c]) => ({ mechanism, iterations: c.iterations })),
        };
      };
      const asked = request.users ?? [];
      if (asked.length === 0) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results: [...users.keys()].sort().map(describe) };
      }
      const counts = new Map<string, number>();
      for (const u of asked) counts.set(u.name, (counts.get(u.name) ?? 0) + 1);
      const results = [...counts].map(([user, n]) => n > 1
        ? { user, errorCode: DUPLICATE_RESOURCE, errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request', credentialInfos: [] }
        : describe(user));
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
    },
    errorResponse: (_request, errorCode) => ({ throttleTimeMs: 0, errorCode, errorMessage: null, results: [] }),
  });
}
