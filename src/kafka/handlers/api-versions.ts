import { ApiKey } from '../../../protocol/generated/index.js';
import type { ApiVersionsRequest, ApiVersionsResponse } from '../../../protocol/generated/api-versions.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * ApiVersions advertises exactly the handlers the broker has, with the versions they implement.
 * From v3 (KIP-511) it records the client's software name and version on the connection.
 */
export function apiVersionsHandler(handlers: () => Iterable<ApiHandler>): ApiHandler {
  const answer = (errorCode: number): ApiVersionsResponse => ({
    errorCode,
    // Like Kafka: the full list on success; only ApiVersions' own range with UNSUPPORTED_VERSION
    // (so the client can retry with a version we know); nothing with any other error.
    apiKeys: [...handlers()]
      .filter((h) => h.internal !== true)
      .filter((h) => errorCode === ErrorCode.NONE || (errorCode === ErrorCode.UNSUPPORTED_VERSION && h.apiKey === ApiKey.ApiVersions))
      .sort((a, b) => a.apiKey - b.apiKey)
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion })),
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  });
  return defineHandler<ApiVersionsRequest, ApiVersionsResponse>({
    apiKey: ApiKey.ApiVersions,
    minVersion: 0,
    maxVersion: 3,
    handle(request, ctx) {
      if (ctx.apiVersion >= 3) {
        ctx.connection.clientSoftwareName = request.clientSoftwareName;
        ctx.connection.clientSoftwareVersion = request.clientSoftwareVersion;
        if (!validSoftwareField(request.clientSoftwareName) || !validSoftwareField(request.clientSoftwareVersion)) {
          return answer(ErrorCode.INVALID_REQUEST);
        }
      }
      return answer(ErrorCode.NONE);
    },
    errorResponse: (_request, errorCode) => answer(errorCode),
  });
}

/** KIP-511: software name and version must be non-empty and match [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? */
function validSoftwareField(value: string): boolean {
  return /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/.test(value);
}
