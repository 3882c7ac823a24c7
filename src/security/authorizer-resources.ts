/** Authorization of the config APIs' resources (Kafka's AuthHelper for Describe/AlterConfigs). */
import { ErrorCode } from '../kafka/errors.js';
import { AclOperation, AclResourceType } from './acls.js';
import type { AuthContext, AuthHelper } from './authorizer.js';

/** Kafka's ConfigResource.Type ids. */
const ConfigResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;

/**
 * NONE when the principal may describe (`alter` false: DESCRIBE_CONFIGS) or alter (ALTER_CONFIGS)
 * the configs of a config resource, else the error Kafka answers for it: TOPIC_ or
 * GROUP_AUTHORIZATION_FAILED on the topic or group, CLUSTER_AUTHORIZATION_FAILED for broker,
 * broker logger and client metrics configs (authorized on the cluster). Unknown resource types
 * pass, to fail their own validation.
 */
export function configResourceError(auth: AuthHelper, ctx: AuthContext, resourceType: number, resourceName: string, alter: boolean): number {
  const op = alter ? AclOperation.ALTER_CONFIGS : AclOperation.DESCRIBE_CONFIGS;
  switch (resourceType) {
    case ConfigResourceType.TOPIC:
      return auth.authorize(ctx, op, AclResourceType.TOPIC, resourceName) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    case ConfigResourceType.GROUP:
      return auth.authorize(ctx, op, AclResourceType.GROUP, resourceName) ? ErrorCode.NONE : ErrorCode.GROUP_AUTHORIZATION_FAILED;
    case ConfigResourceType.BROKER:
    case ConfigResourceType.BROKER_LOGGER:
    case ConfigResourceType.CLIENT_METRICS:
      return auth.authorizeCluster(ctx, op) ? ErrorCode.NONE : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    default:
      return ErrorCode.NONE;
  }
}
