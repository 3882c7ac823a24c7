// Dynamic broker configs in the metadata: what the controller plans for a BROKER config change and
// what the image holds after applying it (Kafka stores names a broker does not know).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataImage } from '../../src/cluster/image.js';
import { applyMetadataRecord } from '../../src/cluster/apply.js';
import { ConfigOp, ResourceType, planConfigChange, type ConfigResourceChange } from '../../src/cluster/topic-admin.js';
import { ErrorCode } from '../../src/kafka/errors.js';

function run(image: MetadataImage, change: ConfigResourceChange): { image: MetadataImage; errorCode: number } {
  const plan = planConfigChange(image, change);
  let next = image;
  let offset = image.offset;
  for (const r of plan.records) next = applyMetadataRecord(next, r, ++offset);
  return { image: next, errorCode: plan.result.errorCode };
}

describe('broker config changes', () => {
  const set = (resourceName: string, ops: ConfigResourceChange['ops'], replace = false): ConfigResourceChange =>
    ({ resourceType: ResourceType.BROKER, resourceName, replace, ops });

  it('stores unknown names per broker and for the cluster default, and replaces them with AlterConfigs', () => {
    let { image, errorCode } = run(MetadataImage.EMPTY, set('1', [{ name: 'cleanup.policy', op: ConfigOp.SET, value: 'delete' }, { name: 'a.b', op: ConfigOp.SET, value: '1' }], true));
    assert.equal(errorCode, ErrorCode.NONE);
    assert.deepEqual([...image.brokerConfigs.get('1')!], [['cleanup.policy', 'delete'], ['a.b', '1']]);
    ({ image, errorCode } = run(image, set('', [{ name: 'c.d', op: ConfigOp.SET, value: 'x' }])));
    assert.deepEqual([...image.brokerConfigs.get('')!], [['c.d', 'x']]);
    // AlterConfigs (replace): what is not in the request is removed.
    ({ image, errorCode } = run(image, set('1', [{ name: 'a.b', op: ConfigOp.SET, value: '2' }], true)));
    assert.deepEqual([...image.brokerConfigs.get('1')!], [['a.b', '2']]);
    // IncrementalAlterConfigs DELETE of the last one removes the resource.
    ({ image, errorCode } = run(image, set('1', [{ name: 'a.b', op: ConfigOp.DELETE, value: null }])));
    assert.equal(image.brokerConfigs.has('1'), false);
    assert.equal(image.brokerConfigs.has(''), true);
  });

  it('refuses the configs raftka knows (none is dynamic) with INVALID_REQUEST, and writes nothing', () => {
    const plan = planConfigChange(MetadataImage.EMPTY, set('2', [{ name: 'x.y', op: ConfigOp.SET, value: '1' }, { name: 'log.retention.hours', op: ConfigOp.SET, value: '1' }]));
    assert.equal(plan.result.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(plan.result.errorMessage, 'Cannot update these configs dynamically: Set(log.retention.hours)');
    assert.deepEqual(plan.records, []);
    assert.equal(planConfigChange(MetadataImage.EMPTY, set('-1', [])).result.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(planConfigChange(MetadataImage.EMPTY, set('2', [{ name: 'x', op: ConfigOp.APPEND, value: 'a' }])).result.errorCode, ErrorCode.INVALID_CONFIG);
  });
});
