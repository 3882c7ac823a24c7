import { ApiKey } from '../../../protocol/generated/index.js';
import type { SaslHandshakeRequest, SaslHandshakeResponse } from '../../../protocol/generated/sasl-handshake.js';
import { saslSessionOf } from '../../security/sasl-session.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * SaslHandshake v0-1: picks the mechanism on a SASL listener (v0: raw tokens follow; v1:
 * SaslAuthenticate requests), or starts a re-authentication (KIP-368) on an authenticated
 * connection. On a listener without SASL it answers ILLEGAL_SASL_STATE, as Kafka does.
 */
export function saslHandshakeHandler(): ApiHandler {
  return defineHandler<SaslHandshakeRequest, SaslHandshakeResponse>({
    apiKey: ApiKey.SaslHandshake,
    minVersion: 0,
    maxVersion: 1,
    handle(request, ctx) {
      const session = saslSessionOf(ctx.connection);
      if (session === undefined) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
      return session.handshake(request.mechanism, ctx.apiVersion);
    },
    errorResponse: (_request, errorCode) => ({ errorCode, mechanisms: [] }),
  });
}
