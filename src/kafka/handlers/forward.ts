import { ErrorCode } from '../errors.js';
import type { ApiHandler } from './handler.js';

export interface Forwarder {
  /** True while this broker is the active controller. */
  isActiveController(): boolean;
  /** Sends the request, as decoded, to the active controller at the same version; resolves with its response. */
  toController(apiKey: number, apiVersion: number, request: unknown): Promise<unknown>;
  /**
   * Called with the controller's answer before it is relayed: a broker that follows the metadata
   * log a moment behind the controller waits here until it shows the change, so a Metadata
   * request sent to it next sees what the answer said.
   */
  beforeRelay?(apiKey: number, request: unknown, response: unknown): Promise<void>;
}

/**
 * A metadata-changing API served on any broker, as Kafka (2.8+) does: the active controller
 * handles it; any other broker forwards it there unchanged and relays the answer, so clients that
 * send admin requests to any broker (the Java AdminClient, librdkafka) work.
 */
export function forwardedToController(h: ApiHandler, forwarder: Forwarder): ApiHandler {
  return {
    ...h,
    async handle(request, ctx) {
      if (forwarder.isActiveController()) return h.handle(request, ctx);
      try {
        const response = await forwarder.toController(h.apiKey, ctx.apiVersion, request);
        await forwarder.beforeRelay?.(h.apiKey, request, response);
        return response;
      } catch (err) {
        // No controller, or it moved: NOT_CONTROLLER makes the client refresh and retry.
        ctx.log.debug({ err: (err as Error).message, apiKey: h.apiKey }, 'forwarding to the controller failed');
        return h.errorResponse(request, ErrorCode.NOT_CONTROLLER, ctx);
      }
    },
  };
}
