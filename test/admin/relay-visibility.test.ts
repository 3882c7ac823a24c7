// What a broker that relayed a forwarded config change waits for in its own image before it
// answers: the change as the controller committed it, and nothing for a validate-only request or
// a resource the controller refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey } from '../../protocol/generated/index.js';
import type { AlterConfigsRequest } from '../../protocol/generated/alter-configs.js';
import type { IncrementalAlterConfigsRequest } from '../../protocol/generated/incremental-alter-configs.js';
import { MetadataImage } from '../../src/cluster/image.js';
import { applyMetadataRecord } from '../../src/cluster/apply.js';
import type { MetadataRecord } from '../../src/cluster/records.js';
import { ConfigOp, ResourceType, planConfigChange } from '../../src/cluster/topic-admin.js';
import { relayedChangeVisible } from '../../src/kafka/handlers/relay-visibility.js';
import { alterConfigsChange } from '../../src/kafka/handlers/alter-configs.js';
import { incrementalAlterConfigsChange } from '../../src/kafka/handlers/incremental-alter-configs.js';
import { ErrorCode } from '../../src/kafka/errors.js';

const TOPIC_ID = '6d6c2a5b-2f4e-4a4e-9d77-0d1c3f0b7a11';

function apply(image: MetadataImage, records: readonly MetadataRecord[]): MetadataImage {
  let next = image;
  for (const r of records) next = applyMetadataRecord(next, r, next.offset + 1n);
  return next;
}

const base = apply(MetadataImage.EMPTY, [
  { type: 'Topic', data: { name: 'orders', topicId: TOPIC_ID } },
  { type: 'Config', data: { resourceType: ResourceType.TOPIC, resourceName: 'orders', name: 'cleanup.policy', value: 'compact' } },
]);

const ok = (r: { resourceType: number; resourceName: string }) => ({ errorCode: ErrorCode.NONE, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName });

describe('relayed config changes: what the relaying broker waits to see', () => {
  it('AlterConfigs: not visible on the image before the controller\'s records, visible after them', () => {
    const request: AlterConfigsRequest = {
      validateOnly: false,
      resources: [{ resourceType: ResourceType.TOPIC, resourceName: 'orders', configs: [{ name: 'retention.ms', value: '3600000' }] }],
    };
    const visible = relayedChangeVisible(ApiKey.AlterConfigs, request, { throttleTimeMs: 0, responses: request.resources.map(ok) });
    assert.ok(visible !== undefined);
    assert.equal(visible(base), false);
    // what the controller commits for it: retention.ms set, cleanup.policy (not in the set) removed
    const records = planConfigChange(base, alterConfigsChange(request.resources[0]!)).records;
    assert.equal(records.length, 2);
    assert.equal(visible(apply(base, records.slice(0, 1))), false, 'half of the change applied');
    const after = apply(base, records);
    assert.equal(visible(after), true);
    assert.deepEqual([...after.topics.get('orders')!.configs], [['retention.ms', '3600000']]);
  });

  it('IncrementalAlterConfigs: SET and DELETE become visible with their records; APPEND of a present item is visible at once', () => {
    const request: IncrementalAlterConfigsRequest = {
      validateOnly: false,
      resources: [{ resourceType: ResourceType.TOPIC, resourceName: 'orders', configs: [
        { name: 'retention.ms', configOperation: ConfigOp.SET, value: '60000' },
        { name: 'cleanup.policy', configOperation: ConfigOp.DELETE, value: null },
      ] }],
    };
    const visible = relayedChangeVisible(ApiKey.IncrementalAlterConfigs, request, { throttleTimeMs: 0, responses: request.resources.map(ok) })!;
    assert.equal(visible(base), false);
    assert.equal(visible(apply(base, planConfigChange(base, incrementalAlterConfigsChange(request.resources[0]!)).records)), true);

    const append: IncrementalAlterConfigsRequest = {
      validateOnly: false,
      resources: [{ resourceType: ResourceType.TOPIC, resourceName: 'orders', configs: [{ name: 'cleanup.policy', configOperation: ConfigOp.APPEND, value: 'compact' }] }],
    };
    assert.equal(relayedChangeVisible(ApiKey.IncrementalAlterConfigs, append, { throttleTimeMs: 0, responses: append.resources.map(ok) })!(base), true);
  });

  it('nothing to wait for: validate-only, or every resource refused by the controller', () => {
    const resources = [{ resourceType: ResourceType.TOPIC, resourceName: 'orders', configs: [{ name: 'retention.ms', value: '1' }] }];
    assert.equal(relayedChangeVisible(ApiKey.AlterConfigs, { validateOnly: true, resources }, { throttleTimeMs: 0, responses: resources.map(ok) }), undefined);
    const refused = resources.map((r) => ({ ...ok(r), errorCode: ErrorCode.INVALID_CONFIG }));
    assert.equal(relayedChangeVisible(ApiKey.AlterConfigs, { validateOnly: false, resources }, { throttleTimeMs: 0, responses: refused }), undefined);
  });

  it('a refused resource beside an accepted one: waits for the accepted one only', () => {
    const request: AlterConfigsRequest = {
      validateOnly: false,
      resources: [
        { resourceType: ResourceType.TOPIC, resourceName: 'missing', configs: [{ name: 'retention.ms', value: '1' }] },
        { resourceType: ResourceType.TOPIC, resourceName: 'orders', configs: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    };
    const responses = [{ ...ok(request.resources[0]!), errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }, ok(request.resources[1]!)];
    assert.equal(relayedChangeVisible(ApiKey.AlterConfigs, request, { throttleTimeMs: 0, responses })!(base), true);
  });
});
