"""confluent-kafka (Debian python3-confluent-kafka, librdkafka) driver for the raftka compat suite.

Usage: confluent_client.py OP BOOTSTRAP TOPIC OPTIONS_JSON (same operations as kafka_python_client.py)
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


def main():
    op, bootstrap, topic, opts = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    {'create-topic': create_topic, 'produce': produce, 'consume': consume, 'group-member': group_member,
     'produce-idempotent': produce_idempotent}[op](bootstrap, topic, opts)


if __name__ == '__main__':
    main()
