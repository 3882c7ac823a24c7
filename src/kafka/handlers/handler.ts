import type { Logger } from '../../util/log.js';
import type { ApiDescriptor } from '../../../protocol/generated/index.js';

/** What a handler knows about the connection a request came in on. */
export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly localPort: number;
  /** From ApiVersions v3+ (KIP-511). */
  clientSoftwareName: string | null;
  clientSoftwareVersion: string | null;
  /** Kafka principal of the authenticated client ("User:ANONYMOUS" until/unless authenticated). */
  principal: string;
  /** Name of the listener the connection came in on (e.g. "PLAINTEXT"). */
  readonly listenerName: string;
}

export interface RequestContext {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly connection: ConnectionInfo;
  readonly log: Logger;
}

/**
 * One Kafka API. `handle` returns the response, or `null` when Kafka sends none (Produce acks=0).
 * `errorResponse` builds the answer that carries `errorCode` everywhere the request asked for
 * something (as Kafka's AbstractRequest.getErrorResponse does); it is used when `handle` throws.
 */
export interface ApiHandler<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Broker-to-broker only (controller RPCs, Raft traffic): served but never advertised in ApiVersions. */
  readonly internal?: boolean;
  /** Codecs for an api key Kafka's schemas do not have (raftka's internal APIs). */
  readonly descriptor?: ApiDescriptor;
  handle(request: Req, ctx: RequestContext): Promise<Res | null> | Res | null;
  errorResponse(request: Req, errorCode: number, ctx: RequestContext): Res;
}

/** Builds a handler with its request and response types checked against each other. */
export function defineHandler<Req, Res>(h: ApiHandler<Req, Res>): ApiHandler {
  return h as unknown as ApiHandler;
}
