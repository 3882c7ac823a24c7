import { ApiKey } from '../../../protocol/generated/index.js';
import type { SaslAuthenticateRequest, SaslAuthenticateResponse } from '../../../protocol/generated/sasl-authenticate.js';
import { saslSessionOf } from '../../security/sasl-session.js';
import { ErrorCode } from '../errors.js';
import { defineHandler, type ApiHandler } from './handler.js';

/**
 * SaslAuthenticate v0-2: one SASL token of the exchange the handshake started. v1+ carries the
 * session lifetime (KIP-368) once authentication completes.
 */
export function saslAuthenticateHandler(): ApiHandler {
  return defineHandler<SaslAuthenticateRequest, SaslAuthenticateResponse>({
    apiKey: ApiKey.SaslAuthenticate,
    minVersion: 0,
    maxVersion: 2,
    handle(request, ctx) {
      const session = saslSessionOf(ctx.connection);
      if (session === undefined) {
        return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate on a listener without SASL', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
      }
      const r = session.authenticate(request.authBytes, ctx.apiVersion);
      return { errorCode: r.errorCode, errorMessage: r.errorMessage, authBytes: r.authBytes, sessionLifetimeMs: r.sessionLifetimeMs };
    },
    errorResponse: (_request, errorCode) => ({ errorCode, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n }),
  });
}
