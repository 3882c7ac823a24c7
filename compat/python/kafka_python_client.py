"""kafka-python (Debian python3-kafka) driver for the raftka compat suite.

Usage: kafka_python_client.py OP BOOTSTRAP TOPIC OPTIONS_JSON
  create-topic  OPTIONS {"partitions": N, "replication_factor": R}
  produce       OPTIONS {"compression": "gzip"|...|"none"}; records as JSON lines on stdin
  consume       OPTIONS {"partitions": N, "expected": COUNT}; records as JSON lines on stdout
  group-member  OPTIONS {"group": G}; JSON lines (assignments, records) until stdin closes
  admin         TOPIC "-", OPTIONS {"action": ..., ...}; the answer as one JSON document on stdout
  produce-loop  OPTIONS {"count": N}; records on stdin sent one by one (acks=all), a JSON line per attempt
Every OPTIONS may carry "sasl": {"mechanism": "PLAIN"|"SCRAM-SHA-256"|"SCRAM-SHA-512", "username": U,
"password": P} (produce and consume connect with security_protocol SASL_PLAINTEXT then).
Exits non-zero with the client's error on stderr.
"""
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic


def security(opts):
    """kafka-python's SASL settings for OPTIONS["sasl"] (it sends SaslHandshake v0, then raw tokens)."""
    sasl = opts.get('sasl')
    if sasl is None:
        return {}
    return {'security_protocol': 'SASL_PLAINTEXT', 'sasl_mechanism': sasl['mechanism'],
            'sasl_plain_username': sasl['username'], 'sasl_plain_password': sasl['password']}


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
        compression_type=None if codec == 'none' else codec, linger_ms=5, max_in_flight_requests_per_connection=1,
        **security(opts))
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
        enable_auto_commit=False, check_crcs=True, **security(opts))
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


def admin(bootstrap, _topic, opts):
    """Scenario 5: one KafkaAdminClient (or KafkaConsumer.offsets_for_times) call, answer as JSON."""
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions
    action = opts['action']
    if action == 'offsets-for-times':
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id='raftka-compat-kafka-python', group_id=None,
                                 enable_auto_commit=False)
        tp = TopicPartition(opts['topic'], opts['partition'])
        out = []
        for ts in opts['timestamps']:
            found = consumer.offsets_for_times({tp: ts})[tp]  # None when no record is that late
            out.append(None if found is None else found.offset)
        consumer.close()
        print(json.dumps(out))
        return
    client = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='raftka-compat-kafka-python')
    try:
        if action == 'list-topics':
            out = client.list_topics()
        elif action == 'describe-topics':
            out = [{'name': t['topic'], 'partitions': [
                {'partition': p['partition'], 'leader': p['leader'], 'replicas': p['replicas']} for p in t['partitions']]}
                for t in client.describe_topics(opts['topics']) if t['error_code'] == 0]
        elif action == 'delete-topics':
            res = client.delete_topics(opts['topics'], timeout_ms=30000)
            for t, code in res.topic_error_codes:
                if code != 0:
                    raise RuntimeError('DeleteTopics %s: error %d' % (t, code))
            out = None
        elif action == 'create-partitions':
            res = client.create_partitions({opts['topic']: NewPartitions(opts['count'])}, timeout_ms=30000)
            for t, code, msg in res.topic_errors:
                if code != 0:
                    raise RuntimeError('CreatePartitions %s: error %d %s' % (t, code, msg))
            out = None
        elif action == 'describe-configs':
            res = client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, opts['topic'],
                                                          configs={n: None for n in opts['names']})])
            out = {}
            for r in res:
                for code, msg, _type, _name, entries in r.resources:
                    if code != 0:
                        raise RuntimeError('DescribeConfigs: error %d %s' % (code, msg))
                    for e in entries:  # v1+: name, value, read_only, config_source, is_sensitive, synonyms
                        out[e[0]] = {'value': e[1], 'source': e[3]}
        elif action == 'alter-configs':
            res = client.alter_configs([ConfigResource(ConfigResourceType.TOPIC, opts['topic'], configs=opts['configs'])])
            for code, msg, _type, name in res.resources:
                if code != 0:
                    raise RuntimeError('AlterConfigs %s: error %d %s' % (name, code, msg))
            out = None
        elif action == 'describe-cluster':
            c = client.describe_cluster()
            out = {'clusterId': c.get('cluster_id'), 'controller': c.get('controller_id'),
                   'brokers': [{'nodeId': b['node_id'], 'host': b['host'], 'port': b['port']} for b in c['brokers']]}
        elif action == 'list-groups':
            out = [g[0] for g in client.list_consumer_groups()]
        elif action == 'describe-groups':
            out = [{'groupId': g.group, 'state': g.state, 'protocolType': g.protocol_type,
                    'members': [{'clientId': m.client_id} for m in g.members]}
                   for g in client.describe_consumer_groups(opts['groups'])]
        else:
            raise RuntimeError('unknown admin action %s' % action)
    finally:
        client.close()
    print(json.dumps(out))


def produce_loop(bootstrap, topic, opts):
    """Scenario 7: records from stdin sent one by one with acks=all (retries: the client's default, 0 in
    2.0.2), each awaited; prints {"i": n, "offset": o} per acknowledgement and {"i": n, "error": ...} per
    failure; stops after opts['count'] acknowledgements."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id='raftka-compat-kafka-python-loop', acks='all',
                             request_timeout_ms=10000, max_block_ms=10000)
    acked = 0
    for i, line in enumerate(sys.stdin):
        r = json.loads(line)
        try:
            md = producer.send(topic, key=r['key'].encode(), value=r['value'].encode(), partition=r['partition'],
                               headers=[(k, v.encode()) for k, v in r['headers'].items()]).get(timeout=20)
            acked += 1
            sys.stdout.write(json.dumps({'i': i, 'offset': md.offset}) + '\n')
        except Exception as e:  # counted by the test: an unacknowledged record
            sys.stdout.write(json.dumps({'i': i, 'error': '%s: %s' % (type(e).__name__, e)}) + '\n')
        sys.stdout.flush()
        if acked >= opts['count']:
            break
    producer.close(timeout=5)


def main():
    op, bootstrap, topic, opts = sys.argv[1], sys.argv[2].split(','), sys.argv[3], json.loads(sys.argv[4])
    {'create-topic': create_topic, 'produce': produce, 'consume': consume, 'group-member': group_member, 'admin': admin,
     'produce-loop': produce_loop}[op](bootstrap, topic, opts)


if __name__ == '__main__':
    main()
