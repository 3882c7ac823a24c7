import { ApiKey } from '../../../protocol/generated/index.js';
import type { DescribeClusterRequest, DescribeClusterResponse } from '../../../protocol/generated/describe-cluster.js';
import { ErrorCode } from '../errors.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authOf } from '../../security/authorizer.js';
import { endpointFor } from '../../cluster/image.js';
import type { HandlerDeps } from './deps.js';
import { defineHandler, type ApiHandler } from './handler.js';

const BROKERS_ENDPOINT = 1;
/** Kafka's MISMATCHED_ENDPOINT_TYPE: controller endpoints are asked of a broker listener. */
const MISMATCHED_ENDPOINT_TYPE = 114;

/** DescribeCluster: the unfenced brokers, the cluster id and the active controller, from this broker's image. */
export function describeClusterHandler(deps: HandlerDeps): ApiHandler {
  return defineHandler<DescribeClusterRequest, DescribeClusterResponse>({
    apiKey: ApiKey.DescribeCluster,
    minVersion: 0,
    maxVersion: 1,
    handle(request, ctx) {
      const base = {
        throttleTimeMs: 0, endpointType: BROKERS_ENDPOINT, clusterId: deps.clusterId, controllerId: deps.controllerId(),
        // From the authorizer when asked (0 without DESCRIBE on the cluster).
        clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
          ? authOf(deps).clusterAuthorizedOperations(ctx, AUTHORIZED_OPERATIONS_OMITTED) : AUTHORIZED_OPERATIONS_OMITTED,
      };
      if (request.endpointType !== BROKERS_ENDPOINT) {
        return { ...base, errorCode: MISMATCHED_ENDPOINT_TYPE, errorMessage: 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER', brokers: [] };
      }
      // The endpoints of the listener the request came in on; brokers without it are left out.
      const brokers = [...deps.metadata().brokers.values()].filter((b) => !b.fenced).sort((a, b) => a.nodeId - b.nodeId)
        .flatMap((b) => {
          const e = endpointFor(b, ctx.connection.listenerName);
          return e === undefined ? [] : [{ brokerId: b.nodeId, host: e.host, port: e.port, rack: b.rack }];
        });
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, brokers };
    },
    errorResponse: (_request, errorCode) => ({
      throttleTimeMs: 0, errorCode, errorMessage: null, endpointType: BROKERS_ENDPOINT, clusterId: deps.clusterId, controllerId: -1,
      brokers: [], clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    }),
  });
}
