"""kafka-python (Debian python3-kafka) driver for the raftka compat suite.

Usage: kafka_python_client.py OP BOOTSTRAP TOPIC OPTIONS_JSON
  create-topic  OPTIONS {"partitions": N, "replication_factor": R}
  produce       OPTIONS {"compression": "gzip"|...|"none"}; records as JSON lines on stdin
  consume       OPTIONS {"partitions": N, "expected": COUNT}; records as JSON lines on stdout
Exits non-zero with the client's error on stderr.
"""
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic


def create_topic(bootstrap, topic, opts):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='raftka-compat-kafka-python')
    try:
        res = admin.create_topics([NewTopic(topic, opts['partitions'], opts['replication_factor'])])
        for t, code, *rest in res.topic_errors:
            if code != 0:
                raise RuntimeError('CreateTopics %s: error %d %s' % (t, code, rest))
    finally:
        admin.close()


def produce(bootstrap, topic, opts):
    codec = opts.get('compression', 'none')
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, client_id='raftka-compat-kafka-python', acks='all', retries=0,
        compression_type=None if codec == 'none' else codec, linger_ms=5, max_in_flight_requests_per_connection=1)
    futures = []
    for line in sys.stdin:
        r = json.loads(line)
        futures.append(producer.send(
            topic, key=r['key'].encode(), value=r['value'].encode(), partition=r['partition'],
            headers=[(k, v.encode()) for k, v in r['headers'].items()]))
    producer.flush()
    for f in futures:
        f.get(timeout=30)  # raises the delivery error, if any
    producer.close()


def consume(bootstrap, topic, opts):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, client_id='raftka-compat-kafka-python', group_id=None,
        enable_auto_commit=False, check_crcs=True)
    tps = [TopicPartition(topic, p) for p in range(opts['partitions'])]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    end = consumer.end_offsets(tps)
    deadline = time.time() + 60
    seen = 0
    out = sys.stdout
    while any(consumer.position(tp) < end[tp] for tp in tps) and seen < opts['expected']:
        if time.time() > deadline:
            raise RuntimeError('timed out at positions %s, end offsets %s' % (
                {tp.partition: consumer.position(tp) for tp in tps}, {tp.partition: o for tp, o in end.items()}))
        for tp, msgs in consumer.poll(timeout_ms=500).items():
            for m in msgs:
                seen += 1
                out.write(json.dumps({
                    'partition': m.partition, 'offset': m.offset,
                    'key': m.key.decode() if m.key is not None else '',
                    'value': m.value.decode() if m.value is not None else '',
                    'headers': {k: v.decode() for k, v in m.headers}}) + '\n')
    consumer.close()


def group_member(bootstrap, topic, opts):
    """A consumer group member: prints {"assigned": [...]} on every assignment and {"record": ...}
    for every record, commits synchronously after every poll, leaves the group when stdin closes."""
    import threading
    from kafka import ConsumerRebalanceListener

    out = sys.stdout
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            pass

        def on_partitions_assigned(self, assigned):
            out.write(json.dumps({'assigned': sorted(tp.partition for tp in assigned if tp.topic == topic)}) + '\n')
            out.flush()

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, client_id='raftka-compat-kafka-python', group_id=opts['group'],
        enable_auto_commit=False, auto_offset_reset='earliest', heartbeat_interval_ms=300, session_timeout_ms=10000,
        check_crcs=True)
    consumer.subscribe([topic], listener=Listener())
    while not stop.is_set():
        batch = consumer.poll(timeout_ms=200)
        for tp, msgs in batch.items():
            for m in msgs:
                out.write(json.dumps({'record': {
                    'partition': m.partition, 'offset': m.offset,
                    'key': m.key.decode() if m.key is not None else '',
                    'value': m.value.decode() if m.value is not None else '',
                    'headers': {k: v.decode() for k, v in m.headers}}}) + '\n')
        if batch:
            consumer.commit()
        out.flush()
    consumer.close()


def main():
    op, bootstrap, topic, opts = sys.argv[1], sys.argv[2].split(','), sys.argv[3], json.loads(sys.argv[4])
    {'create-topic': create_topic, 'produce': produce, 'consume': consume, 'group-member': group_member}[op](bootstrap, topic, opts)


if __name__ == '__main__':
    main()
