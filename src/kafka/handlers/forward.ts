import { isIPv4, isIPv6 } from 'node:net';
import { apiByKey, ApiKey, type ApiDescriptor } from '../../../protocol/generated/index.js';
import { Reader, Writer } from '../../../protocol/primitives.js';
import { decodeRequestHeader, encodeRequestHeader } from '../../../protocol/generated/request-header.js';
import { decodeResponseHeader, encodeResponseHeader } from '../../../protocol/generated/response-header.js';
import { EnvelopeApi, type EnvelopeRequest, type EnvelopeResponse } from '../../../protocol/generated/envelope.js';
import { decodeDefaultPrincipalData, encodeDefaultPrincipalData } from '../../../protocol/generated/default-principal-data.js';
import { AclOperation } from '../../security/acls.js';
import { NO_AUTHORIZER, normaliseHost, type AuthHelper } from '../../security/authorizer.js';
import { ErrorCode, KafkaError } from '../errors.js';
import { defineHandler, type ApiHandler, type RequestContext } from './handler.js';

export interface Forwarder {
  /** True while this broker is the active controller. */
  isActiveController(): boolean;
  /**
   * Sends the request, as decoded, to the active controller at the same version, on behalf of the
   * client of `ctx` (an Envelope carrying its principal and address, see `forwardInEnvelope`);
   * resolves with its response. A KafkaError rejection is answered with its code.
   */
  toController(apiKey: number, apiVersion: number, request: unknown, ctx: RequestContext): Promise<unknown>;
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
 * send admin requests to any broker (the Java AdminClient, librdkafka) work. The controller
 * authorizes it as the client's principal (carried in the Envelope), as Kafka's controller does.
 */
export function forwardedToController(h: ApiHandler, forwarder: Forwarder): ApiHandler {
  return {
    ...h,
    async handle(request, ctx) {
      if (forwarder.isActiveController()) return h.handle(request, ctx);
      try {
        const response = await forwarder.toController(h.apiKey, ctx.apiVersion, request, ctx);
        await forwarder.beforeRelay?.(h.apiKey, request, response);
        return response;
      } catch (err) {
        // The controller refused the envelope (CLUSTER_AUTHORIZATION_FAILED: this broker's own
        // principal may not forward): the client gets that error.
        if (err instanceof KafkaError && err.code !== ErrorCode.NOT_CONTROLLER) return h.errorResponse(request, err.code, ctx);
        // No controller, or it moved: NOT_CONTROLLER makes the client refresh and retry.
        ctx.log.debug({ err: (err as Error).message, apiKey: h.apiKey }, 'forwarding to the controller failed');
        return h.errorResponse(request, ErrorCode.NOT_CONTROLLER, ctx);
      }
    },
  };
}

/** What forwarding needs of a connection to the controller (PeerClient). */
export interface ControllerChannel {
  request(descriptor: ApiDescriptor, version: number, body: unknown, timeoutMs?: number): Promise<unknown>;
}

/**
 * Kafka's Envelope (KIP-590): the client's request, with its header, its principal and its
 * address, sent to the active controller; resolves with the decoded inner response.
 */
export async function forwardInEnvelope(channel: ControllerChannel, api: ApiDescriptor, apiVersion: number, request: unknown, ctx: RequestContext): Promise<unknown> {
  const w = new Writer();
  encodeRequestHeader(w, api.requestHeaderVersion(apiVersion), {
    requestApiKey: api.apiKey, requestApiVersion: apiVersion, correlationId: ctx.correlationId, clientId: ctx.clientId,
  });
  api.encodeRequest(w, apiVersion, request);
  const envelope: EnvelopeRequest = {
    requestData: w.toBuffer(),
    requestPrincipal: encodePrincipal(ctx.connection.principal),
    clientHostAddress: hostBytes(ctx.connection.remoteAddress),
  };
  const res = await channel.request(EnvelopeApi, 0, envelope) as EnvelopeResponse;
  if (res.errorCode !== ErrorCode.NONE || res.responseData === null) {
    throw new KafkaError(res.errorCode === ErrorCode.NONE ? ErrorCode.UNKNOWN_SERVER_ERROR : res.errorCode, `the controller answered the Envelope with error ${res.errorCode}`);
  }
  const r = new Reader(res.responseData);
  decodeResponseHeader(r, api.responseHeaderVersion(apiVersion));
  return api.decodeResponse(r, apiVersion);
}

/**
 * The controller's side of the Envelope: from a broker with CLUSTER_ACTION (when an authorizer
 * is set), for an API this broker forwards; the inner request runs as the client's principal.
 */
export function envelopeHandler(options: {
  /** The broker's handlers (the forwarded APIs among them). */
  readonly handlers: () => ReadonlyMap<number, ApiHandler>;
  /** The api keys that may come in an Envelope. */
  readonly forwarded: ReadonlySet<number>;
  isActiveController(): boolean;
  readonly auth?: AuthHelper;
}): ApiHandler {
  const auth = options.auth ?? NO_AUTHORIZER;
  const answer = (errorCode: number, responseData: Buffer | null = null): EnvelopeResponse => ({ responseData, errorCode });
  return defineHandler<EnvelopeRequest, EnvelopeResponse>({
    apiKey: ApiKey.Envelope, minVersion: 0, maxVersion: 0, internal: true,
    async handle(envelope, ctx) {
      if (!auth.authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)) return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      if (!options.isActiveController()) return answer(ErrorCode.NOT_CONTROLLER);
      const data = envelope.requestData;
      if (data.length < 4) return answer(ErrorCode.INVALID_REQUEST);
      const apiKey = data.readInt16BE(0);
      const apiVersion = data.readInt16BE(2);
      const api = apiByKey(apiKey);
      const handler = options.handlers().get(apiKey);
      if (api === undefined || handler === undefined || !options.forwarded.has(apiKey)) return answer(ErrorCode.INVALID_REQUEST);
      if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) return answer(ErrorCode.UNSUPPORTED_VERSION);
      let principal: string;
      let request: unknown;
      let header: ReturnType<typeof decodeRequestHeader>;
      try {
        principal = decodePrincipal(envelope.requestPrincipal);
        const r = new Reader(data);
        header = decodeRequestHeader(r, api.requestHeaderVersion(apiVersion));
        request = api.decodeRequest(r, apiVersion);
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message }, 'malformed Envelope');
        return answer(ErrorCode.INVALID_REQUEST);
      }
      const inner: RequestContext = {
        apiKey, apiVersion, correlationId: header.correlationId, clientId: header.clientId, log: ctx.log,
        connection: { ...ctx.connection, principal, remoteAddress: hostString(envelope.clientHostAddress) ?? ctx.connection.remoteAddress },
      };
      let response: unknown;
      try {
        response = await handler.handle(request, inner);
      } catch (err) {
        ctx.log.error({ err, apiKey }, 'forwarded request failed');
        response = handler.errorResponse(request, ErrorCode.UNKNOWN_SERVER_ERROR, inner);
      }
      const w = new Writer();
      encodeResponseHeader(w, api.responseHeaderVersion(apiVersion), { correlationId: header.correlationId });
      api.encodeResponse(w, apiVersion, response);
      return answer(ErrorCode.NONE, w.toBuffer());
    },
    errorResponse: (_envelope, errorCode) => answer(errorCode),
  });
}

/** Kafka's DefaultKafkaPrincipalBuilder serialisation: int16 version 0, then DefaultPrincipalData. */
function encodePrincipal(principal: string): Buffer {
  const colon = principal.indexOf(':');
  const w = new Writer();
  w.int16(0);
  encodeDefaultPrincipalData(w, 0, {
    type: colon < 0 ? 'User' : principal.slice(0, colon), name: colon < 0 ? principal : principal.slice(colon + 1), tokenAuthenticated: false,
  });
  return w.toBuffer();
}

function decodePrincipal(bytes: Buffer | null): string {
  if (bytes === null || bytes.length === 0) return 'User:ANONYMOUS';
  const r = new Reader(bytes);
  const version = r.int16();
  const p = decodeDefaultPrincipalData(r, version);
  return `${p.type}:${p.name}`;
}

/** An address's bytes (4 or 16), as Java's InetAddress.getAddress. */
function hostBytes(address: string): Buffer {
  const host = normaliseHost(address);
  if (isIPv4(host)) return Buffer.from(host.split('.').map(Number));
  if (!isIPv6(host)) return Buffer.alloc(0);
  const [head = '', tail = ''] = host.split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = groups(tail);
  const all = host.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return out;
}

function hostString(bytes: Buffer): string | undefined {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}
