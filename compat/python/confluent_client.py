"""confluent-kafka (Debian python3-confluent-kafka, librdkafka) driver for the raftka compat suite.

Usage: confluent_client.py OP BOOTSTRAP TOPIC OPTIONS_JSON (same operations as kafka_python_client.py,
plus produce-idempotent)
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def create_topic(bootstrap, topic, opts):
    admin = AdminClient({'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent'})
    futures = admin.create_topics([NewTopic(topic, opts['partitions'], opts['replication_factor'])], operation_timeout=30)
    for f in futures.values():
        f.result(timeout=60)  # raises KafkaException with the broker's error


def produce(bootstrap, topic, opts):
    producer = Producer({
        'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent', 'acks': 'all',
        'message.send.max.retries': 0, 'compression.codec': opts.get('compression', 'none'), 'linger.ms': 5})
    errors = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(str(err))

    for line in sys.stdin:
        r = json.loads(line)
        while True:
            try:
                producer.produce(topic, key=r['key'].encode(), value=r['value'].encode(), partition=r['partition'],
                                 headers=[(k, v.encode()) for k, v in r['headers'].items()], on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining:
        errors.append('%d records not delivered after 60 s' % remaining)
    if errors:
        raise RuntimeError('delivery failed: %s (%d errors)' % (errors[0], len(errors)))


def consume(bootstrap, topic, opts):
    # A group.id is required even when assigning; with auto commit off the group is never used.
    consumer = Consumer({
        'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent', 'group.id': 'raftka-compat-unused',
        'enable.auto.commit': False, 'enable.partition.eof': True, 'check.crcs': True})
    parts = list(range(opts['partitions']))
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
    at_eof = set()
    seen = 0
    deadline = time.time() + 60
    out = sys.stdout
    while len(at_eof) < len(parts) and seen < opts['expected']:
        if time.time() > deadline:
            raise RuntimeError('timed out after %d records, partitions at end: %s' % (seen, sorted(at_eof)))
        m = consumer.poll(0.5)
        if m is None:
            continue
        if m.error() is not None:
            if m.error().code() == KafkaError._PARTITION_EOF:
                at_eof.add(m.partition())
                continue
            raise RuntimeError('consume error: %s' % m.error())
        at_eof.discard(m.partition())
        seen += 1
        out.write(json.dumps({
            'partition': m.partition(), 'offset': m.offset(),
            'key': m.key().decode() if m.key() is not None else '',
            'value': m.value().decode() if m.value() is not None else '',
            'headers': {k: v.decode() for k, v in (m.headers() or [])}}) + '\n')
    consumer.close()


def group_member(bootstrap, topic, opts):
    """A consumer group member (subscribe): prints {"assigned": [...]} on every assignment and
    {"record": ...} for every record, commits synchronously after each record, leaves when stdin closes."""
    import threading

    out = sys.stdout
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    def on_assign(_consumer, partitions):
        out.write(json.dumps({'assigned': sorted(p.partition for p in partitions if p.topic == topic)}) + '\n')
        out.flush()

    def on_revoke(_consumer, _partitions):
        out.write(json.dumps({'assigned': []}) + '\n')
        out.flush()

    consumer = Consumer({
        'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent', 'group.id': opts['group'],
        'enable.auto.commit': False, 'auto.offset.reset': 'earliest', 'heartbeat.interval.ms': 300,
        'session.timeout.ms': 10000, 'check.crcs': True})
    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop.is_set():
        m = consumer.poll(0.2)
        if m is None:
            continue
        if m.error() is not None:
            if m.error().code() == KafkaError._PARTITION_EOF:
                continue
            out.write(json.dumps({'error': str(m.error())}) + '\n')
            out.flush()
            continue
        out.write(json.dumps({'record': {
            'partition': m.partition(), 'offset': m.offset(),
            'key': m.key().decode() if m.key() is not None else '',
            'value': m.value().decode() if m.value() is not None else '',
            'headers': {k: v.decode() for k, v in (m.headers() or [])}}}) + '\n')
        out.flush()
        consumer.commit(message=m, asynchronous=False)
    consumer.close()


def produce_idempotent(bootstrap, topic, opts):
    """enable.idempotence=true (retries on): records as JSON lines on stdin; prints
    {"delivered": N} after every flush of `batch` records, so the test can restart a broker mid-way."""
    producer = Producer({
        'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent-idem', 'enable.idempotence': True,
        'acks': 'all', 'linger.ms': 5, 'message.timeout.ms': 60000})
    errors = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(str(err))

    batch = opts.get('batch', 100)
    sent = 0
    for line in sys.stdin:
        r = json.loads(line)
        producer.produce(topic, key=r['key'].encode(), value=r['value'].encode(), partition=r['partition'],
                         headers=[(k, v.encode()) for k, v in r['headers'].items()], on_delivery=on_delivery)
        sent += 1
        if sent % batch == 0:
            producer.flush(60)
            sys.stdout.write(json.dumps({'delivered': sent}) + '\n')
            sys.stdout.flush()
            if 'pause_ms' in opts:
                time.sleep(opts['pause_ms'] / 1000)
    remaining = producer.flush(60)
    if remaining:
        errors.append('%d records not delivered after 60 s' % remaining)
    if errors:
        raise RuntimeError('delivery failed: %s (%d errors)' % (errors[0], len(errors)))


def admin(bootstrap, _topic, opts):
    """Scenario 5: one AdminClient (or Consumer.offsets_for_times) call of confluent-kafka 1.7.0, answer as JSON."""
    from confluent_kafka.admin import ConfigResource, NewPartitions
    action = opts['action']
    if action == 'offsets-for-times':
        consumer = Consumer({'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent',
                             'group.id': 'raftka-compat-unused', 'enable.auto.commit': False})
        out = []
        for ts in opts['timestamps']:
            [tp] = consumer.offsets_for_times([TopicPartition(opts['topic'], opts['partition'], ts)], timeout=30)
            if tp.error is not None:
                raise RuntimeError('offsets_for_times: %s' % tp.error)
            out.append(None if tp.offset < 0 else tp.offset)  # -1 (OFFSET_END): no record that late
        consumer.close()
        print(json.dumps(out))
        return
    client = AdminClient({'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent'})
    if action == 'list-topics':
        out = sorted(client.list_topics(timeout=30).topics.keys())
    elif action == 'describe-topics':
        # The whole cluster's metadata, filtered: a metadata request naming a missing topic could auto-create it.
        md = client.list_topics(timeout=30)
        out = [{'name': t, 'partitions': [{'partition': p.id, 'leader': p.leader, 'replicas': list(p.replicas)}
                                          for p in md.topics[t].partitions.values()]}
               for t in opts['topics'] if t in md.topics and md.topics[t].error is None]
    elif action == 'delete-topics':
        for f in client.delete_topics(opts['topics'], operation_timeout=30).values():
            f.result(timeout=60)
        out = None
    elif action == 'create-partitions':
        for f in client.create_partitions([NewPartitions(opts['topic'], opts['count'])], operation_timeout=30).values():
            f.result(timeout=60)
        out = None
    elif action == 'describe-configs':
        out = {}
        for f in client.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, opts['topic'])]).values():
            for name, e in f.result(timeout=60).items():
                if name in opts['names']:
                    out[name] = {'value': e.value, 'source': int(e.source)}
    elif action == 'alter-configs':
        for f in client.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, opts['topic'], set_config=opts['configs'])]).values():
            f.result(timeout=60)
        out = None
    elif action in ('list-groups', 'describe-groups'):
        # rd_kafka_list_groups: ListGroups to every broker, then DescribeGroups for each group found.
        groups = client.list_groups(timeout=30) if action == 'list-groups' else \
            [g for name in opts['groups'] for g in client.list_groups(group=name, timeout=30)]
        for g in groups:
            if g.error is not None and g.error.code() != 0:
                raise RuntimeError('list_groups %s: %s' % (g.id, g.error))
        out = [g.id for g in groups] if action == 'list-groups' else [
            {'groupId': g.id, 'state': g.state, 'protocolType': g.protocol_type,
             'members': [{'clientId': m.client_id} for m in g.members]} for g in groups]
    else:
        raise RuntimeError('unknown admin action %s' % action)
    print(json.dumps(out))


def produce_loop(bootstrap, topic, opts):
    """Scenario 7: records from stdin produced one at a time with acks=all (librdkafka's default retries),
    each flushed before the next; prints {"i": n, "offset": o} per delivery report without error and
    {"i": n, "error": ...} per failed one; stops after opts['count'] acknowledgements."""
    producer = Producer({'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent-loop', 'acks': 'all',
                         'message.timeout.ms': 15000})
    acked = 0
    for i, line in enumerate(sys.stdin):
        r = json.loads(line)
        report = {}

        def on_delivery(err, msg, report=report):
            report['error' if err is not None else 'offset'] = str(err) if err is not None else msg.offset()

        producer.produce(topic, key=r['key'].encode(), value=r['value'].encode(), partition=r['partition'],
                         headers=[(k, v.encode()) for k, v in r['headers'].items()], on_delivery=on_delivery)
        producer.flush(30)
        if 'offset' in report:
            acked += 1
            sys.stdout.write(json.dumps({'i': i, 'offset': report['offset']}) + '\n')
        else:
            sys.stdout.write(json.dumps({'i': i, 'error': report.get('error', 'no delivery report after 30 s')}) + '\n')
        sys.stdout.flush()
        if acked >= opts['count']:
            break


def main():
    op, bootstrap, topic, opts = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    {'create-topic': create_topic, 'produce': produce, 'consume': consume, 'group-member': group_member,
     'produce-idempotent': produce_idempotent, 'admin': admin, 'produce-loop': produce_loop}[op](bootstrap, topic, opts)


if __name__ == '__main__':
    main()
