import { ApiKey } from '../../../protocol/generated/index.js';
import type { AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse } from '../../../protocol/generated/alter-user-scram-credentials.js';
import type { ScramAlterationResult, ScramDeletion, ScramUpsertion } from '../../security/scram-admin.js';
import { ErrorCode, KafkaError } from '../errors.js';
import { AclOperation } from '../../security/acls.js';
import { NO_AUTHORIZER, type AuthHelper } from '../../security/authorizer.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * AlterUserScramCredentials v0: the active controller validates and commits (other brokers
 * forward it there, see forward.ts). The client sends salted passwords; only the stored and server
 * keys derived from them are kept.
 */
export function alterUserScramCredentialsHandler(
  alter: (deletions: readonly ScramDeletion[], upsertions: readonly ScramUpsertion[]) => Promise<ScramAlterationResult[]>,
  auth: AuthHelper = NO_AUTHORIZER,
): ApiHandler {
  const allUsers = (request: AlterUserScramCredentialsRequest): string[] =>
    [...new Set([...request.deletions.map((d) => d.name), ...request.upsertions.map((u) => u.name)])];
  return defineHandler<AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse>({
    apiKey: ApiKey.AlterUserScramCredentials,
    minVersion: 0,
    maxVersion: 0,
    async handle(request, ctx) {
      // ALTER on the cluster.
      if (!auth.authorizeCluster(ctx, AclOperation.ALTER)) {
        return { throttleTimeMs: 0, results: allUsers(request).map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })) };
      }
      try {
        const results = await alter(request.deletions, request.upsertions);
        return { throttleTimeMs: 0, results: results.map((r) => ({ user: r.user, errorCode: r.errorCode, errorMessage: r.errorMessage })) };
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        ctx.log.debug({ err: err.message }, 'AlterUserScramCredentials failed');
        return { throttleTimeMs: 0, results: allUsers(request).map((user) => ({ user, errorCode: err.code, errorMessage: err.message })) };
      }
    },
    errorResponse: (request, errorCode) => ({
      throttleTimeMs: 0, results: allUsers(request).map((user) => ({ user, errorCode, errorMessage: null })),
    }),
  });
}
